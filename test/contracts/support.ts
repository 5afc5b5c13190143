// Helpers the contract suites share: calling ports that may answer sync or async, and deterministic usage records.
import type { Micros } from '../../src/core/money.js';
import type { UsageRecord } from '../../src/ports/usage.js';

/** Runs a port call as a promise, so a synchronous throw becomes a rejection `expect(...).rejects` can see. */
export async function attempt<T>(call: () => T | Promise<T>): Promise<T> {
  return call();
}

/** A small seeded PRNG (mulberry32): the same seed gives the same records on every run and every adapter. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A complete usage record with plain defaults; tests override what they look at. */
export function usageRecord(over: Partial<UsageRecord> & { id: string }): UsageRecord {
  return {
    time: Date.UTC(2026, 0, 15, 12),
    keyId: 'key_a',
    requestedModel: 'auto',
    model: 'openai/gpt-4o-mini',
    provider: 'openai',
    strategy: 'cost',
    inputTokens: 100,
    outputTokens: 20,
    cost: 27 as Micros,
    estimated: false,
    latencyMs: 350,
    ttfbMs: 120,
    status: 200,
    streamed: false,
    errorCode: null,
    attempts: 1,
    providersTried: ['openai'],
    tier: null,
    reason: null,
    warning: null,
    needsTools: false,
    needsImages: false,
    needsJson: false,
    contextTokens: 1_124,
    ...over,
  };
}

// Mixed case and punctuation on purpose: group order is by code point ('Z' < 'a', '-' < '/' < '_'),
// which a locale-aware collation in a SQL store would get wrong.
const MODELS = ['openai/gpt-4o-mini', 'openai/gpt-4o', 'anthropic/claude-3-haiku', 'google/gemini-flash', 'Custom/Zeta', 'custom/alpha-2'];
const KEYS = ['key_a', 'key_B', 'key-c', 'KEY_d', 'key_e'];

/**
 * `count` varied records over `days` UTC days from `start` (epoch ms): every model, provider, key,
 * hour and status mix, some failed requests with no model or provider, some on exact hour and day boundaries.
 */
export function generateUsage(count: number, { seed = 42, start = Date.UTC(2026, 0, 30), days = 5, idPrefix = 'u' } = {}): UsageRecord[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const span = days * 86_400_000;
  const out: UsageRecord[] = [];
  for (let i = 0; i < count; i++) {
    // One record in eight lands exactly on an hour boundary, where off-by-one bucketing shows.
    const time = i % 8 === 0 ? start + Math.floor(rnd() * days * 24) * 3_600_000 : start + Math.floor(rnd() * span);
    const failed = rnd() < 0.08;
    const model = failed ? null : pick(MODELS);
    const provider = model === null ? null : model.slice(0, model.indexOf('/')).toLowerCase();
    const inputTokens = Math.floor(rnd() * 4_000);
    const outputTokens = failed ? 0 : Math.floor(rnd() * 1_500);
    out.push({
      id: `${idPrefix}${i}`,
      time,
      keyId: pick(KEYS),
      requestedModel: failed ? pick(['auto', 'economy', 'openai/gpt-4o']) : rnd() < 0.5 ? 'auto' : model!,
      model,
      provider,
      strategy: pick(['cost', 'balanced', 'fixed']),
      inputTokens,
      outputTokens,
      // Few distinct costs, so sorts meet ties and have to fall back to the group.
      cost: (failed ? 0 : Math.floor(rnd() * 40) * 25) as Micros,
      estimated: rnd() < 0.1,
      latencyMs: Math.floor(rnd() * 5_000),
      ttfbMs: failed ? null : Math.floor(rnd() * 800),
      status: failed ? pick([502, 503, 504]) : 200,
      streamed: rnd() < 0.4,
      errorCode: failed ? 'upstream_error' : null,
      attempts: failed ? 3 : 1,
      providersTried: failed ? ['google', 'openai', 'anthropic'] : [provider!],
      tier: rnd() < 0.5 ? pick(['economy', 'standard', 'premium']) : null,
      reason: rnd() < 0.3 ? 'cheapest eligible' : null,
      warning: null,
      needsTools: rnd() < 0.2,
      needsImages: rnd() < 0.1,
      needsJson: rnd() < 0.1,
      contextTokens: inputTokens + 1_000,
    });
  }
  return out;
}
