// rules(): declarative routing rules over a base strategy, checked as pure functions on the default catalog.
import { describe, expect, it } from 'vitest';
import { defaultPricing, estimatedCost, parseChatRequest, requestFeatures, rules, type Candidate, type KeyRecord, type Micros, type StrategyInput } from '../../src/index.js';

const pricing = defaultPricing();

function key(over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_a', name: 'a', hash: '0'.repeat(64), monthlyLimit: null, allowedModels: null, disabled: false,
    createdAt: '2025-01-01T00:00:00.000Z', revokedAt: null, settings: {}, ...over,
  };
}

/** A strategy input as the router builds it: every catalog model eligible, cheapest first. */
function input(o: { headers?: Record<string, string>; body?: Record<string, unknown>; key?: KeyRecord; only?: string[] } = {}): StrategyInput {
  const request = parseChatRequest({ model: 'auto', messages: [{ role: 'user', content: 'Hello there, how are you today?' }], ...o.body });
  const features = requestFeatures(request);
  const eligible: Candidate[] = pricing
    .models()
    .filter((m) => o.only === undefined || o.only.includes(m.id))
    .map((m) => ({ model: m, estimatedCost: estimatedCost(m, features) }))
    .sort((a, b) => a.estimatedCost - b.estimatedCost);
  const headers = o.headers ?? {};
  return { request, features, requestedModel: request.model, eligible, key: o.key ?? key(), header: (n) => headers[n] };
}

const ids = (p: { candidates: readonly { id: string }[] }) => p.candidates.map((m) => m.id);

describe('use rules', () => {
  const house = rules([
    { name: 'cheap-tasks', when: { header: { 'X-Task': ['classification', 'extraction'] } }, use: { tier: 'economy' } },
    { name: 'code-review', when: { metadata: { task: 'code-review' } }, use: { tier: 'premium' } },
    { name: 'acme', when: { label: { customer: 'acme' } }, use: { model: 'anthropic/claude-3-5-sonnet' } },
  ]);

  it('sends requests with a header value to a tier, cheapest first, with fallbacks only inside it', () => {
    const pick = house(input({ headers: { 'x-task': 'extraction' } }));
    expect(ids(pick)).toEqual(['google/gemini-flash', 'openai/gpt-4o-mini']);
    expect(pick.tier).toBe('economy');
    expect(pick.reason).toBe('rules: use=cheap-tasks; cheapest-in-set=google/gemini-flash');
  });

  it('matches the body metadata field, and a key label for a per-customer rule', () => {
    const review = house(input({ body: { metadata: { task: 'code-review' } } }));
    expect(ids(review)).toEqual(['anthropic/claude-3-5-sonnet', 'openai/gpt-4o']);
    expect(review.tier).toBe('premium');
    const acme = house(input({ key: key({ settings: { labels: { customer: 'acme' } } }) }));
    expect(ids(acme)).toEqual(['anthropic/claude-3-5-sonnet']);
  });

  it('lets the first matching rule win, and falls back to the base strategy (cost) when none matches', () => {
    const both = house(input({ headers: { 'x-task': 'classification' }, body: { metadata: { task: 'code-review' } } }));
    expect(both.tier).toBe('economy');
    const other = house(input({ headers: { 'x-task': 'poetry' } }));
    expect(ids(other)).toEqual(ids({ candidates: input().eligible.map((c) => c.model) }));
    expect(other.reason).toMatch(/^rules: cost: cheapest-eligible=google\/gemini-flash$/);
  });

  it('tries the next rule when nothing in the set is eligible, unless the rule is strict', () => {
    const soft = rules([
      { when: {}, use: { provider: 'mistral' } },
      { when: {}, use: { model: 'openai/gpt-4o' } },
    ]);
    expect(ids(soft(input()))).toEqual(['openai/gpt-4o']);
    const strict = rules([{ name: 'eu-only', when: {}, use: { provider: 'mistral' }, strict: true }]);
    const pick = strict(input());
    expect(pick.candidates).toEqual([]);
    expect(pick.reason).toContain('use=eu-only');
  });

  it('matches user, requested model, key ids, patterns and presence', () => {
    const r = rules([
      { name: 'u', when: { user: /^vip-/ }, use: { tier: 'premium' } },
      { name: 'k', when: { key: ['key_b'], model: 'auto' }, use: { tier: 'standard' } },
      { name: 'h', when: { header: { 'x-debug': true } }, use: { model: 'openai/gpt-4o-mini' } },
    ]);
    expect(r(input({ body: { user: 'vip-42' } })).tier).toBe('premium');
    expect(r(input({ body: { user: 'guest-1' } })).reason).toMatch(/^rules: cost:/);
    expect(ids(r(input({ key: key({ id: 'key_b' }) })))).toEqual(['anthropic/claude-3-haiku']);
    expect(ids(r(input({ headers: { 'x-debug': '1' } })))).toEqual(['openai/gpt-4o-mini']);
    expect(r(input({ headers: { 'x-debug': '' } })).reason).toMatch(/^rules: cost:/);
  });
});

describe('never rules', () => {
  it('never sends a labelled key (or one key id) to a provider, before use rules and the base', () => {
    const r = rules([
      { name: 'no-anthropic-for-eu', when: { label: { region: 'eu' } }, never: { provider: 'anthropic' } },
      { name: 'no-google-for-b', when: { key: 'key_b' }, never: { provider: 'google' } },
      { when: { header: { 'x-task': 'review' } }, use: { tier: 'premium' } },
    ]);
    const eu = key({ settings: { labels: { region: 'eu' } } });
    expect(ids(r(input({ key: eu, headers: { 'x-task': 'review' } })))).toEqual(['openai/gpt-4o']);
    expect(ids(r(input({ key: eu })))).not.toContain('anthropic/claude-3-haiku');
    expect(ids(r(input({ key: key({ id: 'key_b' }) })))[0]).toBe('openai/gpt-4o-mini');
    expect(r(input({ key: eu })).reason).toContain('never=no-anthropic-for-eu');
    // Keys without the label are untouched.
    expect(ids(r(input()))).toContain('anthropic/claude-3-haiku');
  });

  it('hands the base strategy only what is left', () => {
    const seen: string[][] = [];
    const r = rules([{ when: {}, never: { tier: 'premium' } }], {
      base: (i) => {
        seen.push(i.eligible.map((c) => c.model.id));
        return { candidates: i.eligible.map((c) => c.model).reverse(), reason: 'mine' };
      },
    });
    const pick = r(input());
    expect(seen[0]).toEqual(['google/gemini-flash', 'openai/gpt-4o-mini', 'anthropic/claude-3-haiku']);
    expect(ids(pick)).toEqual(['anthropic/claude-3-haiku', 'openai/gpt-4o-mini', 'google/gemini-flash']);
    expect(pick.reason).toBe('rules: never=never#0; mine');
  });
});

describe('prefer rules', () => {
  // gpt-4o-mini is exactly twice gemini-flash on both prices, so its estimate is about 100 % dearer.
  const costs = new Map(input().eligible.map((c) => [c.model.id, c.estimatedCost as Micros]));
  const gap = ((costs.get('openai/gpt-4o-mini')! - costs.get('google/gemini-flash')!) / costs.get('google/gemini-flash')!) * 100;

  it('moves the preferred provider first only within N % of the cheapest', () => {
    const near = rules([{ name: 'openai', prefer: { provider: 'openai' }, withinPercent: Math.ceil(gap) }]);
    const pick = near(input());
    expect(ids(pick).slice(0, 2)).toEqual(['openai/gpt-4o-mini', 'google/gemini-flash']);
    expect(pick.reason).toContain('prefer=openai');
    const far = rules([{ prefer: { provider: 'openai' }, withinPercent: Math.floor(gap) - 1 }]);
    expect(ids(far(input()))[0]).toBe('google/gemini-flash');
  });

  it('applies only when its condition matches, after a use rule', () => {
    const r = rules([
      { when: { header: { 'x-task': 'review' } }, use: { tier: 'premium' } },
      { when: { label: { plan: 'anthropic-credits' } }, prefer: { provider: 'anthropic' }, withinPercent: 0 },
      { when: { header: { 'x-task': 'review' } }, prefer: { model: 'openai/gpt-4o' }, withinPercent: 100 },
    ]);
    // Sonnet is the cheaper premium model; gpt-4o is within 100 % of it.
    expect(ids(r(input({ headers: { 'x-task': 'review' } })))).toEqual(['openai/gpt-4o', 'anthropic/claude-3-5-sonnet']);
    expect(ids(r(input()))[0]).toBe('google/gemini-flash');
  });
});

describe('checked once, at start-up', () => {
  it.each([
    [[{ when: {} }], /exactly one of/],
    [[{ when: {}, use: { tier: 'premium' }, never: { tier: 'economy' } }], /exactly one of/],
    [[{ use: { tier: 'premium' } }], /needs "when"/],
    [[{ when: {}, use: {} }], /name a tier, model or provider/],
    [[{ when: {}, use: { tier: 'gold' } }], /"gold" is not one of economy, standard, premium/],
    [[{ prefer: { provider: 'openai' }, withinPercent: -5 }], /withinPercent/],
    [[{ when: { user: /vip/g }, use: { tier: 'premium' } }], /g or y flag/],
    [[{ when: { header: { 'x-a': [] } }, use: { tier: 'premium' } }], /expected a string/],
  ])('rejects %j', (list, message) => {
    expect(() => rules(list as never)).toThrow(message);
  });

  it('never changes the input it is given', () => {
    const i = input({ headers: { 'x-task': 'classification' } });
    const before = ids({ candidates: i.eligible.map((c) => c.model) });
    rules([{ when: {}, never: { provider: 'google' } }, { when: {}, prefer: { provider: 'anthropic' }, withinPercent: 1000 }])(i);
    expect(ids({ candidates: i.eligible.map((c) => c.model) })).toEqual(before);
  });
});
