// Routing rules in code: a Strategy built from a short list of declarative rules over a base strategy. Pure.
import type { ModelEntry, Tier } from './catalog.js';
import { costStrategy, type Candidate, type Strategy, type StrategyInput, type StrategyPick } from './strategy.js';

/**
 * A condition on one string value: that exact value, any of several, a pattern, or `true` for
 * "present and not empty". Patterns must not use the `g` or `y` flags (they would make tests stateful).
 */
export type ValueMatch = string | readonly string[] | RegExp | true;

/** When a rule applies. Every field given must hold (AND); `{}` matches every request. */
export interface RuleMatch {
  /** Request headers by name (names are case-insensitive), e.g. `{ 'x-task': ['classification', 'extraction'] }`. */
  header?: Readonly<Record<string, ValueMatch>>;
  /** Fields of the request body's `metadata` object (OpenAI's string map), e.g. `{ task: 'code-review' }`. */
  metadata?: Readonly<Record<string, ValueMatch>>;
  /** The request body's `user` field (the end user the host reports). */
  user?: ValueMatch;
  /** The `model` the client sent: an alias such as `auto`, or an id. */
  model?: ValueMatch;
  /** The TokenHub key's id. */
  key?: string | readonly string[];
  /** The key's labels (`settings.labels`), e.g. `{ plan: 'free' }` or `{ hostId: 'acme' }` for host-identity keys. */
  label?: Readonly<Record<string, ValueMatch>>;
  /** Anything else, in code; must be pure. */
  test?: (input: StrategyInput) => boolean;
}

/** A set of models. Fields given must all hold (AND); the values of one field are alternatives (OR). */
export interface ModelSet {
  tier?: Tier | readonly Tier[];
  /** Catalog ids, e.g. `openai/gpt-4o`. */
  model?: string | readonly string[];
  provider?: string | readonly string[];
}

/**
 * Sends matching requests to a set of models, cheapest first, with fallbacks inside the set only.
 * The first matching `use` rule whose set has an eligible model wins. When none of its models is
 * eligible the next rules are tried, unless `strict` (default false): then the request fails with 503.
 */
export interface UseRule {
  /** Shown in `x-inferoute-reason`. Default `use#<index>`. */
  name?: string;
  when: RuleMatch;
  use: ModelSet;
  strict?: boolean;
}

/** Never routes matching requests to a set of models. Every matching `never` rule applies, before any `use`. */
export interface NeverRule {
  name?: string;
  /** Default `{}`: every request. */
  when?: RuleMatch;
  never: ModelSet;
}

/**
 * Moves the cheapest candidate in a set to the front when its estimated cost is within `withinPercent`
 * of the cheapest candidate's (e.g. 10: up to 10 % dearer). The first matching `prefer` rule that can apply does.
 */
export interface PreferRule {
  name?: string;
  /** Default `{}`: every request. */
  when?: RuleMatch;
  prefer: ModelSet;
  withinPercent: number;
}

export type Rule = UseRule | NeverRule | PreferRule;

export interface RulesOptions {
  /** What routes the requests no `use` rule takes (and orders nothing else). Default `costStrategy`. */
  base?: Strategy;
}

type Compiled =
  | { kind: 'use'; name: string; when: (i: StrategyInput) => boolean; set: (m: ModelEntry) => boolean; strict: boolean }
  | { kind: 'never'; name: string; when: (i: StrategyInput) => boolean; set: (m: ModelEntry) => boolean }
  | { kind: 'prefer'; name: string; when: (i: StrategyInput) => boolean; set: (m: ModelEntry) => boolean; within: number };

const TIER_NAMES: readonly string[] = ['economy', 'standard', 'premium'];
const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? (v as readonly T[]) : [v as T]);

function compileValue(m: ValueMatch, where: string): (v: string | undefined) => boolean {
  if (m === true) return (v) => v !== undefined && v !== '';
  if (m instanceof RegExp) {
    if (m.global || m.sticky) throw new TypeError(`${where}: patterns must not use the g or y flag`);
    return (v) => v !== undefined && m.test(v);
  }
  const values = list(m);
  if (values.length === 0 || values.some((v) => typeof v !== 'string')) throw new TypeError(`${where}: expected a string, strings, a RegExp or true`);
  return (v) => v !== undefined && values.includes(v);
}

/** A field of the request's `metadata`, as a string; numbers and booleans compare by their text. */
function metadataValue(input: StrategyInput, field: string): string | undefined {
  const md = (input.request as { metadata?: unknown }).metadata;
  if (typeof md !== 'object' || md === null) return undefined;
  const v = (md as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function compileMatch(m: RuleMatch | undefined, where: string): (i: StrategyInput) => boolean {
  if (m === undefined) return () => true;
  if (typeof m !== 'object' || m === null) throw new TypeError(`${where}: expected an object`);
  const tests: Array<(i: StrategyInput) => boolean> = [];
  for (const [name, v] of Object.entries(m.header ?? {})) {
    const t = compileValue(v, `${where}.header.${name}`);
    const lower = name.toLowerCase();
    tests.push((i) => t(i.header(lower)));
  }
  for (const [field, v] of Object.entries(m.metadata ?? {})) {
    const t = compileValue(v, `${where}.metadata.${field}`);
    tests.push((i) => t(metadataValue(i, field)));
  }
  if (m.user !== undefined) {
    const t = compileValue(m.user, `${where}.user`);
    tests.push((i) => t(i.request.user));
  }
  if (m.model !== undefined) {
    const t = compileValue(m.model, `${where}.model`);
    tests.push((i) => t(i.requestedModel));
  }
  if (m.key !== undefined) {
    const t = compileValue(m.key, `${where}.key`);
    tests.push((i) => t(i.key.id));
  }
  for (const [label, v] of Object.entries(m.label ?? {})) {
    const t = compileValue(v, `${where}.label.${label}`);
    tests.push((i) => t(i.key.settings?.labels?.[label]));
  }
  if (m.test !== undefined) {
    if (typeof m.test !== 'function') throw new TypeError(`${where}.test: expected a function`);
    tests.push(m.test);
  }
  return (i) => tests.every((t) => t(i));
}

function compileSet(s: ModelSet | undefined, where: string): (m: ModelEntry) => boolean {
  if (typeof s !== 'object' || s === null) throw new TypeError(`${where}: expected { tier?, model?, provider? }`);
  const tests: Array<(m: ModelEntry) => boolean> = [];
  if (s.tier !== undefined) {
    const tiers = list(s.tier);
    for (const t of tiers) if (!TIER_NAMES.includes(t)) throw new TypeError(`${where}.tier: "${String(t)}" is not one of ${TIER_NAMES.join(', ')}`);
    tests.push((m) => tiers.includes(m.tier));
  }
  if (s.model !== undefined) {
    const ids = list(s.model);
    tests.push((m) => ids.includes(m.id));
  }
  if (s.provider !== undefined) {
    const names = list(s.provider);
    tests.push((m) => names.includes(m.provider));
  }
  if (tests.length === 0) throw new TypeError(`${where}: name a tier, model or provider`);
  return (m) => tests.every((t) => t(m));
}

function compileRule(r: Rule, index: number): Compiled {
  const where = `rules[${index}]`;
  const kinds = (['use', 'never', 'prefer'] as const).filter((k) => k in r);
  if (kinds.length !== 1) throw new TypeError(`${where}: a rule has exactly one of "use", "never" or "prefer"`);
  const kind = kinds[0]!;
  const name = r.name ?? `${kind}#${index}`;
  const when = compileMatch(r.when, `${where}.when`);
  if (kind === 'use') {
    const u = r as UseRule;
    if (u.when === undefined) throw new TypeError(`${where}: a "use" rule needs "when" (use {} to match every request)`);
    return { kind, name, when, set: compileSet(u.use, `${where}.use`), strict: u.strict === true };
  }
  if (kind === 'never') return { kind, name, when, set: compileSet((r as NeverRule).never, `${where}.never`) };
  const p = r as PreferRule;
  if (typeof p.withinPercent !== 'number' || !Number.isFinite(p.withinPercent) || p.withinPercent < 0) {
    throw new TypeError(`${where}.withinPercent: expected a non-negative number`);
  }
  return { kind, name, when, set: compileSet(p.prefer, `${where}.prefer`), within: p.withinPercent };
}

/**
 * A strategy from rules, evaluated per request in this order: every matching `never` rule removes
 * models; the first matching `use` rule with an eligible model picks its set (cheapest first);
 * otherwise `base` routes what is left; then the first matching `prefer` rule that can apply reorders.
 * Rules are checked once, here (a malformed rule throws a TypeError at start-up). Register the result
 * under a name: `hub.registerStrategy('house', rules([...]))`, then use it as `defaultStrategy`, an
 * alias, a key's `settings.defaultStrategy`, or `X-Inferoute-Strategy: house`.
 *
 * Rules shape what a routed request (`auto`, an alias, the strategy header) may use. A request that
 * names a model routes with `fixed` and does not consult them: use the key's `allowedModels` for a hard limit.
 */
export function rules(ruleList: readonly Rule[], { base = costStrategy }: RulesOptions = {}): Strategy {
  if (!Array.isArray(ruleList)) throw new TypeError('rules: expected an array of rules');
  if (typeof base !== 'function') throw new TypeError('rules: base must be a strategy function');
  const compiled = ruleList.map(compileRule);
  const nevers = compiled.filter((r) => r.kind === 'never');
  const uses = compiled.filter((r) => r.kind === 'use');
  const prefers = compiled.filter((r) => r.kind === 'prefer');

  return function rulesStrategy(input: StrategyInput): StrategyPick {
    const applied: string[] = [];
    let eligible: readonly Candidate[] = input.eligible;
    for (const r of nevers) {
      if (!r.when(input)) continue;
      const kept = eligible.filter((c) => !r.set(c.model));
      if (kept.length !== eligible.length) applied.push(`never=${r.name}`);
      eligible = kept;
    }

    let pick: StrategyPick | null = null;
    for (const r of uses) {
      if (!r.when(input)) continue;
      // `eligible` is cheapest first, so the set keeps that order.
      const inSet = eligible.filter((c) => r.set(c.model)).map((c) => c.model);
      if (inSet.length > 0 || r.strict) {
        applied.push(`use=${r.name}`);
        pick = { candidates: inSet, reason: inSet.length > 0 ? `cheapest-in-set=${inSet[0]!.id}` : 'nothing eligible in set' };
        break;
      }
    }
    pick ??= base({ ...input, eligible });

    let candidates = pick.candidates;
    if (candidates.length > 1) {
      const cost = new Map(eligible.map((c) => [c.model.id, c.estimatedCost as number]));
      for (const r of prefers) {
        if (!r.when(input)) continue;
        const cheapest = Math.min(...candidates.map((m) => cost.get(m.id) ?? Infinity));
        const best = candidates.find((m) => r.set(m) && (cost.get(m.id) ?? Infinity) <= cheapest * (1 + r.within / 100));
        if (best === undefined) continue;
        if (best !== candidates[0]) {
          candidates = [best, ...candidates.filter((m) => m !== best)];
          applied.push(`prefer=${r.name}`);
        }
        break;
      }
    }

    const why = applied.length > 0 ? `rules: ${applied.join(' ')}; ` : 'rules: ';
    return {
      candidates,
      tier: candidates[0]?.tier ?? pick.tier,
      reason: `${why}${pick.reason ?? ''}`.trim(),
    };
  };
}
