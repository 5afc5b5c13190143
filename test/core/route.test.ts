// Routing decisions as pure functions: which strategy, which candidates, and which error when nothing fits.
import { describe, expect, it } from 'vitest';
import { defaultPricing, HubError, parseChatRequest, requestFeatures, StrategyRegistry, type KeyRecord } from '../../src/index.js';
import { resolveRoute, type RoutingEnvironment } from '../../src/core/route.js';

const pricing = defaultPricing();
const key = (over: Partial<KeyRecord> = {}): KeyRecord => ({
  id: 'key_1', name: 'k', hash: 'h', monthlyLimit: null, allowedModels: null, disabled: false,
  createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null, settings: {}, ...over,
});
const env = (configured = ['openai', 'anthropic', 'google'], cooling: string[] = []): RoutingEnvironment => ({
  configured: (p) => configured.includes(p),
  coolingDown: (p) => cooling.includes(p),
});
function route(body: Record<string, unknown>, opts: { headers?: Record<string, string>; k?: KeyRecord; e?: RoutingEnvironment; max?: number } = {}) {
  const request = parseChatRequest({ messages: [{ role: 'user', content: 'Is this review positive?' }], ...body });
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return resolveRoute(
    { request, features: requestFeatures(request), key: opts.k ?? key(), header: (n) => headers[n] },
    new StrategyRegistry(), pricing, opts.e ?? env(), opts.max ?? 3,
  );
}
const ids = (r: { candidates: readonly { id: string }[] }) => r.candidates.map((m) => m.id);
function error(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HubError) return e;
    throw e;
  }
  throw new Error('expected a HubError');
}

describe('resolveRoute', () => {
  it('economy and cost order every eligible model by this request’s estimated cost, up to maxAttempts', () => {
    expect(ids(route({ model: 'economy' }))).toEqual(['google/gemini-flash', 'openai/gpt-4o-mini', 'anthropic/claude-3-haiku']);
    expect(route({ model: 'economy' }).strategy).toBe('cost');
    expect(ids(route({ model: 'openai/gpt-4o' }, { headers: { 'X-Inferoute-Strategy': 'COST' }, max: 1 }))).toEqual(['google/gemini-flash']);
  });

  it('skips providers that are not configured or cooling down "at that moment"', () => {
    expect(ids(route({ model: 'economy' }, { e: env(['openai', 'anthropic'], ['anthropic']) }))).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o']);
  });

  it('takes only models that support what the request uses', () => {
    // JSON mode: the Anthropic models in the catalog do not support it.
    const json = route({ model: 'economy', response_format: { type: 'json_object' } }, { max: 10 });
    expect(ids(json)).toEqual(['google/gemini-flash', 'openai/gpt-4o-mini', 'openai/gpt-4o']);
    // A max_tokens beyond 128k leaves only the large context windows.
    expect(ids(route({ model: 'economy', max_tokens: 150_000 }, { max: 10 }))).toEqual(['google/gemini-flash', 'anthropic/claude-3-haiku', 'anthropic/claude-3-5-sonnet']);
  });

  it('routes a named model as fixed, and inside a key allow-list for aliases', () => {
    const r = route({ model: 'anthropic/claude-3-haiku' });
    expect(r.strategy).toBe('fixed');
    expect(ids(r)).toEqual(['anthropic/claude-3-haiku']);
    expect(ids(route({ model: 'economy' }, { k: key({ allowedModels: ['openai/gpt-4o', 'openai/gpt-4o-mini'] }) }))).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o']);
  });

  it.each([
    ['an unknown model', { model: 'openai/gpt-5-turbo' }, {}, 404, 'model_not_found'],
    ['an unknown strategy', { model: 'auto' }, { headers: { 'x-inferoute-strategy': 'fastest' } }, 400, null],
    ['a model outside the allow-list', { model: 'openai/gpt-4o' }, { k: key({ allowedModels: ['openai/gpt-4o-mini'] }) }, 403, 'model_not_allowed'],
    ['an alias when the allow-list leaves nothing', { model: 'economy' }, { k: key({ allowedModels: [] }) }, 403, 'model_not_allowed'],
    ['a provider that is not configured', { model: 'google/gemini-flash' }, { e: env(['openai']) }, 503, 'no_provider_available'],
    ['a provider cooling down', { model: 'openai/gpt-4o' }, { e: env(undefined, ['openai']) }, 503, 'no_provider_available'],
    ['JSON mode on a model without it', { model: 'anthropic/claude-3-haiku', response_format: { type: 'json_object' } }, {}, 400, 'unsupported_feature'],
    ['more output than any window holds', { model: 'economy', max_tokens: 2_000_000 }, {}, 400, 'context_length_exceeded'],
    ['every eligible provider down', { model: 'economy' }, { e: env([]) }, 503, 'no_provider_available'],
  ])('answers %s with the SPEC status', (_name, body, opts, status, code) => {
    const e = error(() => route(body, opts as never));
    expect(e.status).toBe(status);
    if (code !== null) expect(e.code).toBe(code);
  });
});
