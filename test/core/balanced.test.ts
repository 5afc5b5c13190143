// The balanced strategy through resolveRoute: evaluation-set agreement and saving, capabilities, tapering, floors, policies.
import { describe, expect, it } from 'vitest';
import { balancedStrategy, DEFAULT_POLICY, taperSteps, type BalancedPolicy } from '../../src/core/balanced.js';
import type { ModelEntryInput } from '../../src/core/catalog.js';
import { estimatedCost } from '../../src/core/cost.js';
import { requestFeatures } from '../../src/core/estimate.js';
import { HubError } from '../../src/core/errors.js';
import { DEFAULT_INTENT_TABLE } from '../../src/core/intent.js';
import { formatUsd, type Micros } from '../../src/core/money.js';
import { DEFAULT_MODELS } from '../../src/core/catalog.js';
import { defaultPricing, staticPricing } from '../../src/core/pricing.js';
import { parseChatRequest } from '../../src/core/request.js';
import { resolveRoute, type Route, type RoutingEnvironment } from '../../src/core/route.js';
import { StrategyRegistry, type SpendSnapshot } from '../../src/core/strategy.js';
import { parseHubOptions } from '../../src/hub/options.js';
import type { KeyRecord, KeySettings } from '../../src/ports/keys.js';
import type { PricingSource } from '../../src/ports/pricing.js';
import type { Storage } from '../../src/ports/storage.js';
import { loadRoutingEval } from '../fixtures/routing-eval.js';

const ALL_CONFIGURED: RoutingEnvironment = { configured: () => true, coolingDown: () => false };
const USD = 1_000_000;

function keyWith(settings: KeySettings = {}, monthlyLimit: number | null = null): KeyRecord {
  return {
    id: 'key_1', name: 'test', hash: '0'.repeat(64), monthlyLimit: monthlyLimit as Micros | null, allowedModels: null,
    disabled: false, createdAt: '2024-11-01T00:00:00Z', revokedAt: null, settings,
  };
}

interface RouteOptions {
  headers?: Record<string, string>;
  key?: KeyRecord;
  spend?: SpendSnapshot;
  registry?: StrategyRegistry;
  pricing?: PricingSource;
  env?: RoutingEnvironment;
}

function route(body: unknown, o: RouteOptions = {}): Route {
  const request = parseChatRequest(body);
  const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return resolveRoute(
    { request, features: requestFeatures(request), key: o.key ?? keyWith(), header: (n) => headers[n], spend: o.spend },
    o.registry ?? new StrategyRegistry(),
    o.pricing ?? defaultPricing(),
    o.env ?? ALL_CONFIGURED,
    10,
  );
}

const ids = (r: Route) => r.candidates.map((m) => m.id);

const CLASSIFY = {
  model: 'auto',
  messages: [
    { role: 'system', content: 'Classify the input as: positive, negative, or neutral. Reply with one word.' },
    { role: 'user', content: 'Arrived on time and works great.' },
  ],
  max_tokens: 5,
};
const CODE_REVIEW = {
  model: 'auto',
  messages: [
    { role: 'system', content: 'You are a senior software engineer doing code review.' },
    { role: 'user', content: '```py\ndef add(a, b):\n    return a - b\n```' },
  ],
};
const SUMMARY = { model: 'auto', messages: [{ role: 'user', content: 'Summarise this in two sentences: the meeting moved to Friday; Ana presents.' }] };

const cases = loadRoutingEval();

describe('the evaluation set (test/fixtures/routing-eval.json)', () => {
  const routed = cases.map((c) => {
    const request = parseChatRequest(c.request);
    const features = requestFeatures(request);
    const r = route(c.request);
    return { c, request, features, r };
  });

  it('holds at least 60 requests across every task type of the guide, with tools, images, JSON and long inputs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const f = routed.map((x) => x.features);
    expect(f.filter((x) => x.tools).length).toBeGreaterThanOrEqual(4);
    expect(f.filter((x) => x.images).length).toBeGreaterThanOrEqual(4);
    expect(f.filter((x) => x.json).length).toBeGreaterThanOrEqual(4);
    expect(f.filter((x) => x.estimatedInputTokens >= 32_000).length).toBeGreaterThanOrEqual(8);
    for (const prefix of ['classify-', 'extract-', 'summarise-', 'draft-', 'analyse-', 'code-', 'legal-', 'chat-']) {
      expect(cases.filter((c) => c.id.startsWith(prefix)).length, prefix).toBeGreaterThanOrEqual(7);
    }
  });

  it('routes auto with balanced and agrees with the guide on at least 90% of requests', () => {
    const agreement = (split?: string) => {
      const xs = routed.filter((x) => split === undefined || (x.c as { split?: string }).split === split);
      const hits = xs.filter((x) => x.r.tier === x.c.tier).length;
      return { hits, n: xs.length, pct: (100 * hits) / xs.length };
    };
    const all = agreement();
    const dev = agreement('dev');
    const holdout = agreement('holdout');
    const misses = routed.filter((x) => x.r.tier !== x.c.tier).map((x) => `${x.c.id}: want ${x.c.tier}, got ${x.r.tier} (${x.r.reason})`);
    console.log(
      `[routing-eval] agreement ${all.hits}/${all.n} = ${all.pct.toFixed(1)}% ` +
        `(dev ${dev.hits}/${dev.n} = ${dev.pct.toFixed(1)}%, held-out ${holdout.hits}/${holdout.n} = ${holdout.pct.toFixed(1)}%)` +
        (misses.length > 0 ? `\n  misses:\n  ${misses.join('\n  ')}` : ''),
    );
    for (const x of routed) expect(x.r.strategy).toBe('balanced');
    expect(all.pct).toBeGreaterThanOrEqual(90);
  });

  it('costs far less than sending everything to openai/gpt-4o', () => {
    const gpt4o = defaultPricing().get('openai/gpt-4o')!;
    const sum = (xs: typeof routed) => {
      let balanced = 0;
      let premium = 0;
      for (const x of xs) {
        balanced += estimatedCost(x.r.candidates[0]!, x.features);
        // What gpt-4o would have cost at its price, even where the input would not fit its 128k window.
        premium += estimatedCost(gpt4o, x.features);
      }
      return { balanced, premium, saving: 1 - balanced / premium };
    };
    const all = sum(routed);
    // Inputs beyond gpt-4o's window dominate the total; the figure without them is the fairer one.
    const fits = sum(routed.filter((x) => x.features.estimatedInputTokens + (x.features.requestedOutputTokens ?? 0) <= gpt4o.contextWindow));
    const served = new Map<string, number>();
    for (const x of routed) served.set(x.r.candidates[0]!.id, (served.get(x.r.candidates[0]!.id) ?? 0) + 1);
    console.log(
      `[routing-eval] estimated cost: balanced $${formatUsd(all.balanced)} vs all-gpt-4o $${formatUsd(all.premium)} ` +
        `→ saving ${(all.saving * 100).toFixed(1)}% over ${routed.length} requests; ` +
        `without the inputs gpt-4o cannot hold: $${formatUsd(fits.balanced)} vs $${formatUsd(fits.premium)} → ${(fits.saving * 100).toFixed(1)}%; ` +
        `served by: ${[...served].map(([m, n]) => `${m} ${n}`).join(', ')}`,
    );
    expect(all.balanced).toBeLessThan(all.premium);
    expect(fits.saving).toBeGreaterThan(0.3);
  });

  it('says why in the reason: intent, tier and the cheapest eligible model', () => {
    const r = route(CLASSIFY);
    expect(r.reason).toBe('balanced: intent=classify tier=economy cheapest-eligible=google/gemini-flash');
    expect(r.tier).toBe('economy');
    // Fallbacks: the rest of the tier, then the tiers above.
    expect(ids(r)).toEqual(['google/gemini-flash', 'openai/gpt-4o-mini', 'anthropic/claude-3-haiku', 'anthropic/claude-3-5-sonnet', 'openai/gpt-4o']);
    expect(ids(route(SUMMARY))).toEqual(['anthropic/claude-3-haiku', 'anthropic/claude-3-5-sonnet', 'openai/gpt-4o']);
    expect(route(CODE_REVIEW).reason).toBe('balanced: intent=code tier=premium cheapest-eligible=anthropic/claude-3-5-sonnet');
  });
});

describe('capabilities: never a model that cannot take the request', () => {
  // A harsher catalog than the default: a cheap model with no tools, images or JSON and a small window,
  // a standard model without images, so capability filtering has something to filter on every tier.
  const harsh: ModelEntryInput[] = [
    ...DEFAULT_MODELS.map((m) => (m.id === 'anthropic/claude-3-haiku' ? { ...m, supportsImages: false } : m)),
    {
      id: 'local/llama-3-8b', inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01, contextWindow: 8_192, maxOutputTokens: 2_048,
      supportsTools: false, supportsImages: false, supportsJson: false, tier: 'economy',
    },
    {
      id: 'local/mixtral', inputUsdPerMTok: 0.05, outputUsdPerMTok: 0.05, contextWindow: 32_000, maxOutputTokens: 4_096,
      supportsTools: false, supportsImages: false, supportsJson: true, tier: 'standard',
    },
  ];

  for (const [name, pricing] of [['default catalog', defaultPricing()], ['restricted catalog', staticPricing(harsh)]] as const) {
    it(`routes every tools, images, JSON or long-context request of the eval set to capable models (${name})`, () => {
      let checked = 0;
      for (const c of cases) {
        const request = parseChatRequest(c.request);
        const f = requestFeatures(request);
        const r = route(c.request, { pricing });
        expect(r.candidates.length, c.id).toBeGreaterThan(0);
        for (const m of r.candidates) {
          const where = `${c.id} → ${m.id}`;
          if (f.tools) expect(m.supportsTools, where).toBe(true);
          if (f.images) expect(m.supportsImages, where).toBe(true);
          if (f.json) expect(m.supportsJson, where).toBe(true);
          expect(f.estimatedInputTokens + (f.requestedOutputTokens ?? 0), where).toBeLessThanOrEqual(m.contextWindow);
        }
        if (f.tools || f.images || f.json || f.estimatedInputTokens >= 32_000) checked += 1;
      }
      expect(checked).toBeGreaterThanOrEqual(20);
    });
  }

  it('sends a 150k-token analysis to the premium model whose window holds it (claude-3-5-sonnet, not gpt-4o)', () => {
    const r = route(cases.find((c) => c.id === 'analyse-research-150k')!.request);
    expect(r.tier).toBe('premium');
    expect(ids(r)).toEqual(['anthropic/claude-3-5-sonnet']);
  });

  it('serves a 400k-token input from the only model that holds it, saying it fell back', () => {
    const r = route(cases.find((c) => c.id === 'size-extract-huge-log')!.request);
    expect(ids(r)).toEqual(['google/gemini-flash']);
    expect(r.tier).toBe('premium');
    expect(r.reason).toMatch(/^balanced: intent=extract tier=premium size=\d+tok fallback=economy cheapest-eligible=google\/gemini-flash$/);
  });

  it('falls back upward when a tier has nothing eligible (only Anthropic configured)', () => {
    const env: RoutingEnvironment = { configured: (p) => p === 'anthropic', coolingDown: () => false };
    const r = route(CLASSIFY, { env });
    expect(ids(r)).toEqual(['anthropic/claude-3-haiku', 'anthropic/claude-3-5-sonnet']);
    expect(r.tier).toBe('economy');
    expect(r.reason).toBe('balanced: intent=classify tier=economy fallback=standard cheapest-eligible=anthropic/claude-3-haiku');
  });
});

describe('spend-aware tapering', () => {
  const limit = 100 * USD;
  const tapering = keyWith({ taperAt: [0.8, 0.95] }, limit);
  const at = (spent: number): SpendSnapshot => ({ spent: spent as Micros, limit: limit as Micros });

  it.each([
    ['no spend', 0, 'premium'],
    ['just below 80%', 80 * USD - 1, 'premium'],
    ['at 80%', 80 * USD, 'standard'],
    ['just above 80%', 80 * USD + 1, 'standard'],
    ['just below 95%', 95 * USD - 1, 'standard'],
    ['at 95%', 95 * USD, 'economy'],
    ['just above 95%', 95 * USD + 1, 'economy'],
    ['over the cap', 130 * USD, 'economy'],
  ])('moves a premium task down one tier per threshold reached: %s', (_, spent, tier) => {
    const r = route(CODE_REVIEW, { key: tapering, spend: at(spent) });
    expect(r.tier).toBe(tier);
    expect(r.candidates[0]!.tier).toBe(tier);
  });

  it('explains the taper in the reason', () => {
    expect(route(CODE_REVIEW, { key: tapering, spend: at(83 * USD) }).reason).toBe(
      'balanced: intent=code tier=standard taper=premium>standard@83% cheapest-eligible=anthropic/claude-3-haiku',
    );
    expect(route(CODE_REVIEW, { key: tapering, spend: at(96 * USD) }).reason).toBe(
      'balanced: intent=code tier=economy taper=premium>economy@96% cheapest-eligible=google/gemini-flash',
    );
  });

  it('never goes below economy, and leaves an economy task untouched', () => {
    const r = route(CLASSIFY, { key: tapering, spend: at(99 * USD) });
    expect(r.tier).toBe('economy');
    expect(r.reason).toBe('balanced: intent=classify tier=economy cheapest-eligible=google/gemini-flash');
    expect(route(SUMMARY, { key: tapering, spend: at(99 * USD) }).tier).toBe('economy');
  });

  it('does nothing for keys without taperAt, without a cap, or when the engine passed no spend', () => {
    expect(route(CODE_REVIEW, { key: keyWith({}, limit), spend: at(99 * USD) }).tier).toBe('premium');
    expect(route(CODE_REVIEW, { key: keyWith({ taperAt: [0.8] }, null), spend: { spent: (99 * USD) as Micros, limit: null } }).tier).toBe('premium');
    expect(route(CODE_REVIEW, { key: tapering }).tier).toBe('premium');
    expect(taperSteps([0.8, 0.95], { spent: 1 as Micros, limit: 0 as Micros }).steps).toBe(0);
  });

  it('never changes an explicit model, nor the economy alias', () => {
    const explicit = { ...CODE_REVIEW, model: 'openai/gpt-4o' };
    const r = route(explicit, { key: tapering, spend: at(99 * USD) });
    expect(r.strategy).toBe('fixed');
    expect(ids(r)).toEqual(['openai/gpt-4o']);
    const e = route({ ...CODE_REVIEW, model: 'economy' }, { key: tapering, spend: at(99 * USD) });
    expect(e.strategy).toBe('cost');
    expect(ids(e)[0]).toBe('google/gemini-flash');
  });
});

describe('tier floors', () => {
  it('X-Inferoute-Tier raises the tier and says so', () => {
    const r = route(CLASSIFY, { headers: { 'X-Inferoute-Tier': 'Premium' } });
    expect(r.tier).toBe('premium');
    expect(ids(r)).toEqual(['anthropic/claude-3-5-sonnet', 'openai/gpt-4o']);
    expect(r.reason).toBe('balanced: intent=classify tier=premium floor=premium(header) cheapest-eligible=anthropic/claude-3-5-sonnet');
  });

  it('never lowers the tier', () => {
    expect(route(CODE_REVIEW, { headers: { 'X-Inferoute-Tier': 'economy' } }).tier).toBe('premium');
    expect(route(CODE_REVIEW, { key: keyWith({ minTier: 'economy' }) }).tier).toBe('premium');
  });

  it("applies the key's minTier, and the higher of key and header", () => {
    const key = keyWith({ minTier: 'standard' });
    const r = route(CLASSIFY, { key });
    expect(r.tier).toBe('standard');
    expect(r.reason).toBe('balanced: intent=classify tier=standard floor=standard(key) cheapest-eligible=anthropic/claude-3-haiku');
    expect(route(CLASSIFY, { key, headers: { 'X-Inferoute-Tier': 'premium' } }).tier).toBe('premium');
    expect(route(CLASSIFY, { key, headers: { 'X-Inferoute-Tier': 'economy' } }).tier).toBe('standard');
  });

  it('outranks tapering: an explicit ask is kept, as an explicit model is', () => {
    const key = keyWith({ taperAt: [0.8, 0.95], minTier: 'standard' }, 100 * USD);
    const spend = { spent: (99 * USD) as Micros, limit: (100 * USD) as Micros };
    expect(route(CODE_REVIEW, { key, spend }).tier).toBe('standard');
    expect(route(CODE_REVIEW, { key, spend, headers: { 'X-Inferoute-Tier': 'premium' } }).tier).toBe('premium');
  });

  it('never falls back below a floor: a 400k-token input with a premium floor is refused', () => {
    const huge = cases.find((c) => c.id === 'size-extract-huge-log')!.request;
    const err = (() => {
      try {
        route(huge, { headers: { 'X-Inferoute-Tier': 'premium' } });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded' });
  });

  it('rejects an unknown tier with 400 naming the header', () => {
    expect(() => route(CLASSIFY, { headers: { 'X-Inferoute-Tier': 'gold' } })).toThrowError(
      expect.objectContaining({ status: 400, type: 'invalid_request_error', param: 'X-Inferoute-Tier' }),
    );
  });
});

describe('a policy replaced or extended in code', () => {
  it('changes the tier of an intent', () => {
    const policy: BalancedPolicy = { ...DEFAULT_POLICY, tierByIntent: { ...DEFAULT_POLICY.tierByIntent, summarise: 'economy' } };
    const registry = new StrategyRegistry().register('balanced', balancedStrategy(policy));
    expect(route(SUMMARY).tier).toBe('standard');
    expect(route(SUMMARY, { registry }).tier).toBe('economy');
  });

  it('adds an intent of its own to the table', () => {
    const policy: BalancedPolicy = {
      ...DEFAULT_POLICY,
      intents: { ...DEFAULT_INTENT_TABLE, rules: [{ intent: 'translate', weight: 3, patterns: ['translat*'] }, ...DEFAULT_INTENT_TABLE.rules] },
      tierByIntent: { ...DEFAULT_POLICY.tierByIntent, translate: 'standard' },
    };
    const registry = new StrategyRegistry().register('balanced', balancedStrategy(policy));
    const body = { model: 'auto', messages: [{ role: 'user', content: 'Translate to German: the invoice is attached.' }] };
    expect(route(body).reason).toMatch(/^balanced: intent=chat tier=economy /);
    const r = route(body, { registry });
    expect(r.tier).toBe('standard');
    expect(r.reason).toBe('balanced: intent=translate tier=standard cheapest-eligible=anthropic/claude-3-haiku');
  });

  it('has the last word through adjust(), and can live beside the default under its own name', () => {
    const policy: BalancedPolicy = { ...DEFAULT_POLICY, adjust: (tier, { task }) => (task.turns >= 3 && tier === 'economy' ? 'standard' : tier) };
    const registry = new StrategyRegistry().register('balanced-chatty', balancedStrategy(policy));
    const chat = {
      model: 'auto',
      messages: [
        { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'tell me a joke' }, { role: 'assistant', content: 'why did…' },
        { role: 'user', content: 'another one' },
      ],
    };
    expect(route(chat, { registry }).tier).toBe('economy');
    const r = route(chat, { registry, headers: { 'X-Inferoute-Strategy': 'balanced-chatty' } });
    expect(r.strategy).toBe('balanced-chatty');
    expect(r.tier).toBe('standard');
    expect(r.reason).toBe('balanced: intent=chat tier=standard adjusted=economy>standard cheapest-eligible=anthropic/claude-3-haiku');
  });

  it('moves the size floors', () => {
    const policy: BalancedPolicy = { ...DEFAULT_POLICY, sizeFloors: [{ minInputTokens: 20, tier: 'premium' }] };
    const registry = new StrategyRegistry().register('balanced', balancedStrategy(policy));
    expect(route(CLASSIFY, { registry }).reason).toMatch(/^balanced: intent=classify tier=premium size=\d+tok /);
  });
});

describe('defaults', () => {
  it('makes balanced the default for auto in the registry and the hub options; economy stays cost', () => {
    const registry = new StrategyRegistry();
    expect(registry.defaultStrategy).toBe('balanced');
    expect(registry.aliasTarget('auto')).toBe('balanced');
    expect(registry.aliasTarget('economy')).toBe('cost');
    expect(registry.strategyNames()).toEqual(expect.arrayContaining(['fixed', 'cost', 'balanced']));
    expect(parseHubOptions({ storage: {} as Storage }).defaultStrategy).toBe('balanced');
    expect(route(CLASSIFY, { registry: new StrategyRegistry('cost') }).strategy).toBe('cost');
  });
});
