// The `balanced` strategy: request features pick a tier through a replaceable policy, then the cheapest eligible model in it.
import type { ModelEntry, Tier } from './catalog.js';
import { invalidRequest } from './errors.js';
import { compileIntentTable, DEFAULT_INTENT_TABLE, taskFeatures, type Intent, type IntentTable, type TaskFeatures } from './intent.js';
import type { Candidate, Strategy, StrategyInput, StrategyPick } from './strategy.js';

/** The tiers from cheapest to dearest. */
export const TIERS: readonly Tier[] = ['economy', 'standard', 'premium'];

/** The request header that sets a tier floor for this request (`economy`, `standard` or `premium`). */
export const TIER_HEADER = 'x-inferoute-tier';

const rank = (t: Tier) => TIERS.indexOf(t);
const higher = (a: Tier, b: Tier): Tier => (rank(a) >= rank(b) ? a : b);
const isTier = (v: string): v is Tier => (TIERS as readonly string[]).includes(v);

/** An input-size rule: at or above `minInputTokens` (the router's estimate), route to at least `tier`. */
export interface SizeFloor {
  minInputTokens: number;
  tier: Tier;
}

/** What `balanced` knows about a request when it picks a tier; also what a policy's `adjust` receives. */
export interface BalancedContext {
  task: TaskFeatures;
  input: StrategyInput;
}

/**
 * The rules `balanced` follows; a typed object a host replaces or extends in code, e.g.
 * `balancedStrategy({ ...DEFAULT_POLICY, tierByIntent: { ...DEFAULT_POLICY.tierByIntent, summarise: 'economy' } })`.
 */
export interface BalancedPolicy {
  /** How intents are recognised. Default `DEFAULT_INTENT_TABLE`. */
  intents: IntentTable;
  /** The tier each intent needs. An intent missing here gets `defaultTier`. */
  tierByIntent: Readonly<Partial<Record<Intent, Tier>>>;
  /** Tier for `chat` and for intents missing from `tierByIntent`. Default `economy` (the guide: gpt-4o-mini serves most production tasks). */
  defaultTier: Tier;
  /** Long inputs need a larger context and more reasoning; every floor whose size is reached applies. */
  sizeFloors: readonly SizeFloor[];
  /** A host's last word on the tier after the table and the size floors (before tapering and request/key floors). Default none. */
  adjust?: (tier: Tier, ctx: BalancedContext) => Tier;
}

/**
 * The default policy, from the task complexity guide: classification and extraction on economy (gemini-flash,
 * gpt-4o-mini), short summarisation on standard (claude-3-haiku), support drafting on economy (gpt-4o-mini),
 * long-document analysis, code review/generation and legal/compliance drafting on premium (claude-3-5-sonnet, gpt-4o).
 * Inputs of 32k estimated tokens or more go at least to standard, 64k or more to premium.
 */
export const DEFAULT_POLICY: BalancedPolicy = Object.freeze({
  intents: DEFAULT_INTENT_TABLE,
  tierByIntent: Object.freeze({
    classify: 'economy',
    extract: 'economy',
    summarise: 'standard',
    draft: 'economy',
    analyse: 'premium',
    code: 'premium',
    legal: 'premium',
    chat: 'economy',
  }),
  defaultTier: 'economy',
  sizeFloors: Object.freeze([
    { minInputTokens: 32_000, tier: 'standard' },
    { minInputTokens: 64_000, tier: 'premium' },
  ]),
} satisfies BalancedPolicy);

/** How many tapering thresholds a key's month spend has reached (spent / limit ≥ threshold). */
export function taperSteps(thresholds: readonly number[] | undefined, spend: StrategyInput['spend']): { steps: number; fraction: number | null } {
  if (thresholds === undefined || thresholds.length === 0 || spend === undefined || spend.limit === null || spend.limit <= 0) {
    return { steps: 0, fraction: null };
  }
  const fraction = spend.spent / spend.limit;
  let steps = 0;
  for (const t of thresholds) if (Number.isFinite(t) && fraction >= t) steps += 1;
  return { steps, fraction };
}

/** The tier floor a request header asks for; throws 400 on a value that is not a tier. */
function headerFloor(input: StrategyInput): Tier | undefined {
  const raw = input.header(TIER_HEADER)?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (!isTier(raw)) {
    throw invalidRequest(`Unknown tier "${raw}" in X-Inferoute-Tier; use one of ${TIERS.join(', ')}.`, 'X-Inferoute-Tier');
  }
  return raw;
}

function byTier(eligible: readonly Candidate[], tier: Tier): ModelEntry[] {
  const out: ModelEntry[] = [];
  for (const c of eligible) if (c.model.tier === tier) out.push(c.model);
  return out;
}

/**
 * `balanced`: the policy maps the request's features (intent, size, code) to a tier; spend-aware tapering
 * moves it down one tier per `key.settings.taperAt` threshold the key's month spend has reached; the
 * `X-Inferoute-Tier` header and `key.settings.minTier` then raise it, never lower it (an explicit ask
 * outranks tapering, as an explicit model does). Candidates: that tier's eligible models cheapest first,
 * then the tiers above as fallbacks; when nothing at or above fits, the nearest tiers below, but never
 * below a floor. Default policy `DEFAULT_POLICY`; the intent table is compiled once, here.
 */
export function balancedStrategy(policy: BalancedPolicy = DEFAULT_POLICY): Strategy {
  const compiled = compileIntentTable(policy.intents);
  const floors = [...policy.sizeFloors];
  return function balanced(input: StrategyInput): StrategyPick {
    const requestFloor = headerFloor(input);
    const task = taskFeatures(input.request, compiled);
    const notes: string[] = [`intent=${task.intent}`];

    let tier: Tier = policy.tierByIntent[task.intent] ?? policy.defaultTier;
    const size = input.features.estimatedInputTokens;
    let bySize: Tier = 'economy';
    for (const f of floors) if (size >= f.minInputTokens) bySize = higher(bySize, f.tier);
    if (rank(bySize) > rank(tier)) {
      tier = bySize;
      notes.push(`size=${size}tok`);
    }
    if (policy.adjust !== undefined) {
      const adjusted = policy.adjust(tier, { task, input });
      if (!isTier(adjusted)) throw new Error(`balanced policy: adjust() returned "${String(adjusted)}", not a tier`);
      if (adjusted !== tier) notes.push(`adjusted=${tier}>${adjusted}`);
      tier = adjusted;
    }

    const taper = taperSteps(input.key.settings.taperAt, input.spend);
    if (taper.steps > 0 && tier !== 'economy') {
      const to = TIERS[Math.max(0, rank(tier) - taper.steps)]!;
      notes.push(`taper=${tier}>${to}@${Math.floor(taper.fraction! * 100)}%`);
      tier = to;
    }

    let floor: Tier = 'economy';
    for (const [name, f] of [['key', input.key.settings.minTier], ['header', requestFloor]] as const) {
      if (f === undefined || !isTier(f)) continue;
      floor = higher(floor, f);
      if (rank(f) > rank(tier)) {
        notes.push(`floor=${f}(${name})`);
        tier = f;
      }
    }

    const candidates: ModelEntry[] = [];
    for (let r = rank(tier); r < TIERS.length; r += 1) candidates.push(...byTier(input.eligible, TIERS[r]!));
    let fallback = '';
    if (candidates.length > 0 && candidates[0]!.tier !== tier) fallback = ` fallback=${candidates[0]!.tier}`;
    if (candidates.length === 0) {
      // Nothing at or above fits (say a 500k-token input only gemini-flash holds): serve from below rather than
      // refuse an `auto` request, but never below a floor the key or the client set.
      for (let r = rank(tier) - 1; r >= rank(floor); r -= 1) candidates.push(...byTier(input.eligible, TIERS[r]!));
      if (candidates.length > 0) fallback = ` fallback=${candidates[0]!.tier}`;
    }
    const [intentNote, ...why] = notes;
    const head = `balanced: ${intentNote} tier=${tier}${why.length > 0 ? ` ${why.join(' ')}` : ''}${fallback}`;
    return {
      candidates,
      tier,
      reason: candidates.length > 0 ? `${head} cheapest-eligible=${candidates[0]!.id}` : `${head} nothing eligible`,
    };
  };
}
