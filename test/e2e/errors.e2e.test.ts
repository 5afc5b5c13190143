// Every error of the SPEC table in the OpenAI error shape, with the status and param a client can act on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openai, type SpendStore } from '../../src/index.js';
import { memoryStorage } from '../../src/index.js';
import { startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let upstream: OpenAIStandin;
let gw: TestGateway;
let key: string;
let limitedKey: string;

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  gw = await startGateway({
    providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })],
    maxBodyBytes: 64 * 1024,
    timeouts: { firstByteMs: 300 },
    cooldownMs: 0,
    authCooldownMs: 0,
  });
  key = (await gw.createKey()).key;
  limitedKey = (await gw.createKey({ allowedModels: ['openai/gpt-4o-mini'] })).key;
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});
afterEach(() => upstream.reset());

const ok = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

async function post(payload: unknown, opts: { key?: string | null; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const k = opts.key === undefined ? key : opts.key;
  if (k !== null) headers.authorization = `Bearer ${k}`;
  const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers, body: opts.raw ?? JSON.stringify(payload) });
  const text = await res.text();
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return { status: res.status, headers: res.headers, error: (JSON.parse(text) as { error: Record<string, unknown> }).error };
}

describe('client errors', () => {
  it.each([
    ['malformed JSON', { raw: '{"model": "x", ' }, null],
    ['an empty body', { raw: '' }, null],
    ['a JSON array', { raw: '[1,2]' }, null],
    ['a missing model', { payload: { messages: ok.messages } }, 'model'],
    ['missing messages', { payload: { model: ok.model } }, 'messages'],
    ['empty messages', { payload: { ...ok, messages: [] } }, 'messages'],
    ['a bad role', { payload: { ...ok, messages: [{ role: 'robot', content: 'x' }] } }, 'messages[0].role'],
    ['a bad content part', { payload: { ...ok, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] } }, 'messages[0].content[0]'],
    ['temperature above 2', { payload: { ...ok, temperature: 3 } }, 'temperature'],
    ['a negative max_tokens', { payload: { ...ok, max_tokens: -1 } }, 'max_tokens'],
    ['a bad tool', { payload: { ...ok, tools: [{ type: 'function', function: {} }] } }, 'tools[0].function.name'],
    ['stream as a string', { payload: { ...ok, stream: 'yes' } }, 'stream'],
  ])('400 for %s, with param', async (_name, input, param) => {
    const r = await post((input as { payload?: unknown }).payload, { raw: (input as { raw?: string }).raw });
    expect(r.status).toBe(400);
    expect(r.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(typeof r.error.message).toBe('string');
    expect(upstream.state.requests).toHaveLength(0);
  });

  it('400 for an unknown strategy header', async () => {
    const r = await post(ok, { headers: { 'X-Inferoute-Strategy': 'fastest' } });
    expect(r).toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: 'X-Inferoute-Strategy' } });
  });

  it.each([
    ['no Authorization header', null],
    ['a key that is not ours', 'sk-not-a-tokenhub-key'],
    ['a well-formed unknown key', `th-${'A'.repeat(43)}`],
  ])('401 invalid_api_key for %s', async (_name, k) => {
    const r = await post(ok, { key: k });
    expect(r).toMatchObject({ status: 401, error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
  });

  it('403 model_not_allowed for a model outside the key allow-list, and routes aliases inside it', async () => {
    const r = await post({ ...ok, model: 'openai/gpt-4o' }, { key: limitedKey });
    expect(r).toMatchObject({ status: 403, error: { type: 'permission_error', code: 'model_not_allowed', param: 'model' } });
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${limitedKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...ok, model: 'economy' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
  });

  it('404 model_not_found for an unknown model', async () => {
    const r = await post({ ...ok, model: 'openai/gpt-9' });
    expect(r).toMatchObject({ status: 404, error: { type: 'invalid_request_error', code: 'model_not_found', param: 'model' } });
  });

  it('413 request_too_large over the body limit, by Content-Length and by streaming', async () => {
    const big = { ...ok, messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] };
    const r = await post(big);
    expect(r).toMatchObject({ status: 413, error: { code: 'request_too_large' } });
    // Chunked, with no Content-Length to trust: the limit is counted as the body arrives.
    const bytes = new TextEncoder().encode(JSON.stringify(big));
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 8192) c.enqueue(bytes.subarray(i, i + 8192));
        c.close();
      },
    });
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect(upstream.state.requests).toHaveLength(0);
  });

  it('503 no_provider_available for a model whose provider is not configured', async () => {
    const r = await post({ ...ok, model: 'anthropic/claude-3-haiku' });
    expect(r).toMatchObject({ status: 503, error: { type: 'no_provider_available' } });
  });

  it('400 context_length_exceeded when the request cannot fit the model', async () => {
    const r = await post({ ...ok, max_tokens: 200_000 });
    expect(r).toMatchObject({ status: 400, error: { code: 'context_length_exceeded', param: 'messages' } });
  });
});

describe('provider errors', () => {
  it('passes a provider 400 through with its message, without retrying', async () => {
    upstream.fail(400, 1, { error: { message: "Invalid value for 'logit_bias'.", type: 'invalid_request_error', param: 'logit_bias', code: null } });
    const r = await post({ ...ok, model: 'economy' });
    expect(r).toMatchObject({ status: 400, error: { message: "Invalid value for 'logit_bias'." } });
    expect(upstream.state.requests).toHaveLength(1);
  });

  it('502 upstream_error when the only candidate fails with 500', async () => {
    upstream.fail(500);
    const r = await post(ok);
    expect(r).toMatchObject({ status: 502, error: { type: 'upstream_error' } });
  });

  it('502 and no secret leak when the provider refuses our credentials', async () => {
    upstream.fail(401, 1, { error: { message: 'Incorrect API key provided: sk-stan*****', type: 'invalid_request_error', code: 'invalid_api_key' } });
    const r = await post(ok);
    expect(r).toMatchObject({ status: 502, error: { type: 'upstream_error' } });
    expect(String(r.error.message)).not.toContain('sk-');
  });

  it('504 upstream_timeout when the provider does not answer in time', async () => {
    upstream.state.delayMs = 1_000;
    const r = await post(ok);
    expect(r).toMatchObject({ status: 504, error: { type: 'upstream_timeout' } });
  });

  it('503 store_unavailable, with no upstream call, when the spend store is down', async () => {
    const storage = memoryStorage();
    const down: SpendStore = {
      ...storage.spend,
      reserve: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const g = await startGateway({ storage: { ...storage, spend: down }, providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })] });
    try {
      const k = (await g.createKey()).key;
      const res = await fetch(`${g.baseURL}/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: JSON.stringify(ok),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({ type: 'store_unavailable', code: 'store_unavailable' });
      expect(upstream.state.requests).toHaveLength(0);
    } finally {
      await g.close();
    }
  });
});

describe('admin API', () => {
  it('refuses requests without the admin token, and a TokenHub key is not an admin token', async () => {
    expect((await fetch(`${gw.url}/admin/keys`)).status).toBe(401);
    const res = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_token');
  });

  it.each([
    [{}, 'name'],
    [{ name: 'x', monthlyLimitUsd: -1 }, 'monthlyLimitUsd'],
    [{ name: 'x', monthlyLimitUsd: '5' }, 'monthlyLimitUsd'],
    [{ name: 'x', secret: 'mine' }, 'secret'],
  ])('400 with param for a bad key body %j', async (payload, param) => {
    const r = await gw.admin('POST', '/admin/keys', payload);
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe(param);
  });

  it('creates keys of the SPEC form, shows the secret once, and rejects bad usage queries', async () => {
    const created = await gw.admin('POST', '/admin/keys', { name: 'team-a', monthlyLimitUsd: 50 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'team-a', monthlyLimitUsd: 50 });
    expect(created.body.key).toMatch(/^th-[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(created.body.createdAt)).not.toBeNaN();
    const got = await gw.admin('GET', `/admin/keys/${created.body.id}`);
    expect(got.body.key).toBeUndefined();
    expect((await gw.admin('GET', '/admin/usage?groupBy=color')).body.error.param).toBe('groupBy');
    expect((await gw.admin('GET', '/admin/usage?from=yesterday')).body.error.param).toBe('from');
    expect((await gw.admin('PATCH', '/admin/keys/key_nope', { name: 'x' })).status).toBe(404);
  });
});

describe('logs', () => {
  it('never contain a key or prompt text, whatever fails', async () => {
    const lines: string[] = [];
    const record = (m: string, f?: Record<string, unknown>) => void lines.push(m + JSON.stringify(f ?? {}));
    const storage = memoryStorage();
    const flakyUsage = { ...storage.usage, insert: () => Promise.reject(new Error('usage store down')) };
    const g = await startGateway({
      storage: { ...storage, usage: flakyUsage },
      providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })],
      logger: { info: record, warn: record, error: record },
      cooldownMs: 0,
      authCooldownMs: 0,
      failOpen: true,
    });
    try {
      const k = (await g.createKey()).key;
      const secretPrompt = 'my-bank-password-is-hunter2';
      const send = (body: unknown) =>
        fetch(`${g.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const body = { ...ok, messages: [{ role: 'user', content: secretPrompt }] };
      upstream.fail(500);
      expect((await send(body)).status).toBe(502);
      upstream.fail(401);
      expect((await send(body)).status).toBe(502);
      upstream.state.errorAfterChunks = 1;
      await (await send({ ...body, stream: true })).text();
      expect((await send({ ...body, temperature: secretPrompt })).status).toBe(400);
      await g.hub.engine.flushUsage().catch(() => undefined); // the usage store refuses: logged, kept for retry
      expect(lines.some((l) => l.includes('usage write failed'))).toBe(true);
      const all = lines.join('\n');
      expect(all).not.toContain(secretPrompt);
      expect(all).not.toContain(k);
      expect(all).not.toContain(upstream.apiKey);
    } finally {
      await g.hub.engine.close(100).catch(() => undefined);
      await g.close().catch(() => undefined);
    }
  });
});
