// routes(): which requests it answers (as @koa/router matched them) and that everything else reaches the host.
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenHub, memoryStorage, openai, type TokenHubInstance } from '../../src/index.js';
import { listen, type Listening } from '../support/http.js';
import { startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';

let upstream: OpenAIStandin;
let hub: TokenHubInstance;
let server: Listening;
let key: string;
const hostSaw: string[] = [];

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  hub = createTokenHub({
    storage: memoryStorage(),
    providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })],
    logger: { info() {}, warn() {}, error() {} },
  });
  key = (await hub.engine.keys.create({ name: 'routes', monthlyLimit: null, allowedModels: null })).secret;
  const app = new Koa();
  app.use(hub.routes({ prefix: '/ai/v1' }));
  // The host's own handler after ours: answers only what routes() left unanswered.
  app.use(async (ctx, next) => {
    await next();
    hostSaw.push(ctx.path);
    if (ctx.body === undefined && ctx.respond !== false) ctx.body = { host: `${ctx.method} ${ctx.path}` };
  });
  server = await listen(app.callback());
});
afterAll(async () => {
  await server.close();
  await hub.close(1_000);
  await upstream.close();
});

const chatBody = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

async function call(method: string, path: string, body?: string) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

describe('routes()', () => {
  it('answers POST chat/completions under the prefix, ignoring case and one trailing slash', async () => {
    for (const path of ['/ai/v1/chat/completions', '/AI/v1/Chat/Completions', '/ai/v1/chat/completions/']) {
      const r = await call('POST', path, chatBody);
      expect(r.status, path).toBe(200);
      expect(r.json?.object, path).toBe('chat.completion');
      expect(r.headers.get('x-inferoute-request-id'), path).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('answers GET and HEAD models', async () => {
    const get = await call('GET', '/ai/v1/models');
    expect(get.status).toBe(200);
    expect(get.json?.object).toBe('list');
    const head = await call('HEAD', '/ai/v1/models/');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('leaves other methods, other paths and other prefixes to the host', async () => {
    expect((await call('GET', '/ai/v1/chat/completions')).json).toEqual({ host: 'GET /ai/v1/chat/completions' });
    expect((await call('POST', '/ai/v1/models', chatBody)).json).toEqual({ host: 'POST /ai/v1/models' });
    expect((await call('POST', '/ai/v1/chat/completions//', chatBody)).json).toEqual({ host: 'POST /ai/v1/chat/completions//' });
    expect((await call('POST', '/v1/chat/completions', chatBody)).json).toEqual({ host: 'POST /v1/chat/completions' });
    expect((await call('POST', '/ai/v1/chat/completions/x', chatBody)).json).toEqual({ host: 'POST /ai/v1/chat/completions/x' });
    expect((await call('GET', '/ai/v1')).json).toEqual({ host: 'GET /ai/v1' });
  });

  it('still runs the host middleware after a matched route', async () => {
    hostSaw.length = 0;
    const r = await call('POST', '/ai/v1/chat/completions?x=1', chatBody);
    expect(r.json?.object).toBe('chat.completion');
    expect(hostSaw).toEqual(['/ai/v1/chat/completions']);
  });
});
