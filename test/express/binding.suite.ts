// The Express binding end to end, written once and run against Express 5 and Express 4 (express.test.ts, express4.test.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Express, NextFunction, Request, Response } from 'express';
import compression from 'compression';
import OpenAI from 'openai';
import { createTokenHub, hostIdentityKeys, HubError, memoryStorage, openai, type HubOptions, type TokenHubInstance } from '../../src/index.js';
import {
  authKey,
  errorHandler,
  expressAdminRoutes,
  expressRoutes,
  forwardToProvider,
  recordUsage,
  resolveStrategy,
  spendCap,
} from '../../src/express/index.js';
import { listen, type Listening } from '../support/http.js';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';

const ADMIN = 'express-admin-token-0123456789';
const ask = [{ role: 'user' as const, content: 'Classify this email as spam or not spam: "You won a prize!"' }];

type ExpressFactory = (() => Express) & { json(o?: { limit?: string | number }): (req: Request, res: Response, next: NextFunction) => void };

/** Runs the suite against the `express` module the caller resolved (Express 5, or Express 4 mocked in). */
export function runExpressSuite(label: string, loadExpress: () => Promise<ExpressFactory>, expectMajor: 4 | 5) {
  describe(`Express binding on ${label}`, () => {
    let express: ExpressFactory;
    let upstream: OpenAIStandin;
    const open: Array<{ server: Listening; hub: TokenHubInstance }> = [];

    beforeAll(async () => {
      express = await loadExpress();
      upstream = await startOpenAIStandin();
    });
    afterEach(async () => {
      upstream.reset();
      for (const o of open.splice(0)) {
        await o.server.close();
        await o.hub.close(1_000);
      }
    });
    afterAll(() => upstream.close());

    /** A host app: `before` runs first (host middleware), then TokenHub's router(s). */
    async function start(options: Partial<HubOptions> = {}, mount?: (app: Express, hub: TokenHubInstance) => void) {
      const hub = createTokenHub({
        providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })],
        storage: memoryStorage(),
        adminToken: ADMIN,
        usageFlushMs: 10,
        logger: { info() {}, warn() {}, error() {} },
        ...options,
      });
      const app = express();
      if (mount !== undefined) mount(app, hub);
      else app.use(expressRoutes(hub), expressAdminRoutes(hub));
      const server = await listen(app);
      open.push({ server, hub });
      const admin = async (method: string, path: string, body?: unknown, token = ADMIN) => {
        const res = await fetch(server.url + path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const createKey = async (body: Record<string, unknown> = {}) => {
        const r = await admin('POST', '/admin/keys', { name: 'test', ...body });
        expect(r.status).toBe(201);
        return r.body as { id: string; key: string };
      };
      const client = (key: string, baseURL = `${server.url}/v1`) => new OpenAI({ apiKey: key, baseURL, maxRetries: 0 });
      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const usageOf = async (keyId: string, n = 1) => {
        for (let i = 0; i < 100; i++) {
          const r = await admin('GET', `/admin/usage?keyId=${keyId}`);
          if (r.body.totals.requests >= n) return r.body;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error('usage record never appeared');
      };
      return { hub, url: server.url, admin, createKey, client, post, usageOf };
    }

    it(`is really Express ${expectMajor}, in the tests and in src/express`, async () => {
      // Express 4 still ships express.query(); Express 5 removed it. Its routers keep `_params`; Express 5's do not.
      expect(typeof (express as unknown as { query?: unknown }).query === 'function').toBe(expectMajor === 4);
      const hub = createTokenHub({ storage: memoryStorage(), logger: { info() {}, warn() {}, error() {} } });
      expect('_params' in expressRoutes(hub)).toBe(expectMajor === 4);
      await hub.close();
    });

    describe('JSON and streams', () => {
      it('answers the official SDK with the SPEC headers and exact cost, and keeps client credentials from the upstream', async () => {
        const g = await start();
        const { key } = await g.createKey({ monthlyLimitUsd: 50 });
        const { data, response } = await g.client(key).chat.completions
          .create({ model: 'openai/gpt-4o-mini', messages: ask }, { headers: { cookie: 'sid=secret-session' } })
          .withResponse();
        expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
        expect(data.model).toBe('openai/gpt-4o-mini');
        const h = response.headers;
        expect(h.get('content-type')).toMatch(/^application\/json/);
        expect(h.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
        expect(h.get('x-inferoute-provider')).toBe('openai');
        expect(h.get('x-inferoute-strategy')).toBe('fixed');
        expect(h.get('x-inferoute-request-id')).toMatch(/^[0-9a-f]{32}$/);
        expect(h.get('x-inferoute-cost-usd')).toBe('0.000008'); // 12 × 0.15 + 9 × 0.60 micro-USD, rounded up
        expect(h.get('x-inferoute-spend-limit-usd')).toBe('50.000000');
        expect(h.get('x-inferoute-spend-remaining-usd')).toBe('49.999992');
        const sent = upstream.state.requests[0]!;
        expect(sent.headers.authorization).toBe(`Bearer ${upstream.apiKey}`);
        expect(sent.headers.cookie).toBeUndefined();
        expect(JSON.stringify(sent.headers)).not.toContain(key);
      });

      it('streams with the SDK and bills the stream once it ends', async () => {
        const g = await start();
        const { id, key } = await g.createKey({ monthlyLimitUsd: 1 });
        const { data: stream, response } = await g.client(key).chat.completions
          .create({ model: 'openai/gpt-4o-mini', messages: ask, stream: true })
          .withResponse();
        expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe(DEFAULT_REPLY);
        const usage = await g.usageOf(id);
        expect(usage.totals).toMatchObject({ requests: 1, inputTokens: 12, outputTokens: 9, costUsd: 0.000008 });
      });

      it('passes a stream through the compression middleware unbuffered: the first frame arrives long before the last', async () => {
        const g = await start({}, (app, hub) => {
          app.use(compression({ threshold: 0 }));
          app.use(expressRoutes(hub), expressAdminRoutes(hub));
        });
        const { key } = await g.createKey();
        upstream.state.chunkDelayMs = 150; // 4 pieces: the whole stream takes ≥ 600 ms upstream
        const started = Date.now();
        const res = await g.post('/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: ask, stream: true }), {
          authorization: `Bearer ${key}`,
          'accept-encoding': 'gzip',
        });
        expect(res.headers.get('content-encoding')).toBeNull();
        const reader = res.body!.getReader();
        const first = await reader.read();
        const firstAt = Date.now() - started;
        expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{/);
        let rest = '';
        for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
        const lastAt = Date.now() - started;
        expect(rest.endsWith('data: [DONE]\n\n')).toBe(true);
        expect(lastAt - firstAt).toBeGreaterThanOrEqual(400);
      });

      it('aborts the upstream request when the client leaves mid-stream, and still records the exchange', async () => {
        const g = await start();
        const { id, key } = await g.createKey();
        upstream.state.chunkDelayMs = 200;
        const ac = new AbortController();
        const res = await g.post('/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: ask, stream: true }), {
          authorization: `Bearer ${key}`,
        });
        const reader = res.body!.getReader();
        await reader.read();
        ac.abort();
        await reader.cancel();
        for (let i = 0; i < 100 && upstream.state.aborted === 0; i++) await new Promise((r) => setTimeout(r, 20));
        expect(upstream.state.aborted).toBe(1);
        const usage = await g.usageOf(id);
        expect(usage.totals.requests).toBe(1);
        expect(usage.totals.inputTokens).toBeGreaterThan(0);
      });
    });

    describe('errors', () => {
      it('answers 401 for a missing key and 429 at the cap (no upstream call, x-should-retry: false), in the OpenAI shape', async () => {
        const g = await start();
        const none = await g.post('/v1/chat/completions', JSON.stringify({ model: 'economy', messages: ask }));
        expect(none.status).toBe(401);
        expect(none.headers.get('content-type')).toMatch(/^application\/json/);
        expect((await none.json()) as unknown).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });

        const { key } = await g.createKey({ monthlyLimitUsd: 0 });
        const err = await g.client(key).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: ask }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.RateLimitError);
        const e = err as InstanceType<typeof OpenAI.RateLimitError>;
        expect(e.code).toBe('spend_limit_exceeded');
        expect(e.type).toBe('insufficient_quota');
        expect(e.headers.get('x-should-retry')).toBe('false');
        expect(upstream.state.requests).toHaveLength(0);
      });

      it('reads its own body with the hub limit: 413 over maxBodyBytes, 400 for malformed JSON', async () => {
        const g = await start({ maxBodyBytes: 2_000 });
        const { key } = await g.createKey();
        const auth = { authorization: `Bearer ${key}` };
        const big = await g.post('/v1/chat/completions', JSON.stringify({ model: 'economy', messages: [{ role: 'user', content: 'x'.repeat(5_000) }] }), auth);
        expect(big.status).toBe(413);
        expect((await big.json()) as unknown).toMatchObject({ error: { code: 'request_too_large' } });
        const bad = await g.post('/v1/chat/completions', '{"model": "economy", ', auth);
        expect(bad.status).toBe(400);
        expect((await bad.json()) as unknown).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/not valid JSON/) } });
        expect(upstream.state.requests).toHaveLength(0);
      });

      it("uses a body express.json() already parsed; with errorHandler on the path, express.json's 413 and parse errors are ours", async () => {
        const g = await start({}, (app, hub) => {
          app.use(express.json({ limit: '1kb' }));
          app.use(expressRoutes(hub), expressAdminRoutes(hub));
          // express.json fails before the router runs, so its errors reach the app's error chain, not the router's.
          app.use('/v1', errorHandler(hub));
        });
        const { key } = await g.createKey();
        const auth = { authorization: `Bearer ${key}` };
        const ok = await g.post('/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: ask }), auth);
        expect(ok.status).toBe(200);
        expect(((await ok.json()) as { model: string }).model).toBe('openai/gpt-4o-mini');
        const big = await g.post('/v1/chat/completions', JSON.stringify({ model: 'economy', messages: [{ role: 'user', content: 'x'.repeat(3_000) }] }), auth);
        expect(big.status).toBe(413);
        expect((await big.json()) as unknown).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
        const bad = await g.post('/v1/chat/completions', '{"model": ', auth);
        expect(bad.status).toBe(400);
        expect((await bad.json()) as unknown).toMatchObject({ error: { type: 'invalid_request_error', message: 'The request body is not valid JSON.' } });
      });

      it('sends a rejected promise from host code to the error handler instead of hanging the request', async () => {
        const g = await start({}, (app, hub) => {
          app.use(
            expressRoutes(hub, {
              auth: {
                async resolve(req) {
                  if (req.get('x-fail') === 'hub') throw new HubError('Your plan has no AI access.', { status: 403, type: 'permission_error', code: 'plan' });
                  throw new Error('database down');
                },
              },
            }),
          );
        });
        const signal = AbortSignal.timeout(3_000);
        const body = JSON.stringify({ model: 'economy', messages: ask });
        const crash = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', body, signal });
        expect(crash.status).toBe(500);
        expect((await crash.json()) as unknown).toEqual({ error: { message: 'Internal error', type: 'server_error', param: null, code: 'internal_error' } });
        const refused = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', body, signal, headers: { 'x-fail': 'hub' } });
        expect(refused.status).toBe(403);
        expect((await refused.json()) as unknown).toMatchObject({ error: { code: 'plan', message: 'Your plan has no AI access.' } });
      });
    });

    describe('host auth and composition', () => {
      it('maps a JWT-style req.auth to one key per tenant, created on first sight, with its cap and usage', async () => {
        let tenants!: ReturnType<typeof hostIdentityKeys>;
        const g = await start({}, (app, hub) => {
          tenants = hostIdentityKeys(hub, { defaults: (tenant) => ({ monthlyLimitUsd: tenant === 'free-co' ? 0 : 10 }) });
          // Stands in for express-jwt: the host's own middleware verifies the caller and sets req.auth.
          app.use((req, _res, next) => {
            const tenant = req.get('x-test-tenant');
            if (tenant !== undefined) (req as Request & { auth?: { tenant: string } }).auth = { tenant };
            next();
          });
          app.use('/ai', expressRoutes(hub, { auth: { resolve: (req) => tenants.keyFor((req as Request & { auth?: { tenant: string } }).auth?.tenant) } }));
          app.use(expressAdminRoutes(hub));
        });
        const call = (tenant: string) =>
          g.post('/ai/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: ask }), { 'x-test-tenant': tenant });
        const a = await call('acme');
        expect(a.status).toBe(200);
        expect(a.headers.get('x-inferoute-spend-limit-usd')).toBe('10.000000');
        expect((await call('acme')).status).toBe(200);
        const free = await call('free-co');
        expect(free.status).toBe(429);
        expect((await free.json()) as unknown).toMatchObject({ error: { code: 'spend_limit_exceeded' } });
        // No identity and no bearer key: the bearer fallback answers 401.
        expect((await g.post('/ai/v1/chat/completions', JSON.stringify({ model: 'economy', messages: ask }))).status).toBe(401);

        const keys = (await g.admin('GET', '/admin/keys')).body.data as Array<{ id: string; name: string; settings: { labels?: Record<string, string> } }>;
        expect(keys.map((k) => k.name).sort()).toEqual(['acme', 'free-co']);
        const acme = keys.find((k) => k.name === 'acme')!;
        expect(acme.settings.labels).toEqual({ hostId: 'acme' });
        const usage = await g.usageOf(acme.id, 2);
        expect(usage.totals.requests).toBe(2);

        // Disabling the tenant's key in the admin API shuts it out (after forget(), or the cache TTL).
        expect((await g.admin('PATCH', `/admin/keys/${acme.id}`, { disabled: true })).status).toBe(200);
        tenants.forget('acme');
        const off = await call('acme');
        expect(off.status).toBe(401);
      });

      it('lets a host compose the stages itself and answer in between; the exchange is still recorded', async () => {
        const g = await start({}, (app, hub) => {
          app.post(
            '/v1/chat/completions',
            authKey(hub),
            resolveStrategy(hub),
            // A host rule between stages: it sees the chosen route in res.locals.tokenhub.
            (_req: Request, res: Response, next: NextFunction) => {
              const route = res.locals.tokenhub?.route;
              if (route?.candidates[0]?.tier === 'premium') {
                res.status(403).json({ error: { message: 'Premium models need a paid plan.', type: 'permission_error', param: null, code: 'plan' } });
                return;
              }
              next();
            },
            spendCap(hub),
            forwardToProvider(hub),
            recordUsage(hub),
          );
          app.use(errorHandler(hub));
          app.use(expressAdminRoutes(hub));
        });
        const { id, key } = await g.createKey();
        const auth = { authorization: `Bearer ${key}` };
        const premium = await g.post('/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o', messages: ask }), auth);
        expect(premium.status).toBe(403);
        expect(upstream.state.requests).toHaveLength(0);
        const cheap = await g.post('/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: ask }), auth);
        expect(cheap.status).toBe(200);
        expect(cheap.headers.get('x-inferoute-cost-usd')).toBe('0.000008');
        const usage = await g.usageOf(id, 2);
        expect(usage.totals).toMatchObject({ requests: 2, costUsd: 0.000008 });
      });

      it('lists models for a key and refuses GET /v1/models without one', async () => {
        const g = await start();
        const { key } = await g.createKey({ allowedModels: ['openai/gpt-4o-mini'] });
        const list = await g.client(key).models.list();
        const ids = list.data.map((m) => m.id);
        expect(ids).toContain('openai/gpt-4o-mini');
        expect(ids).not.toContain('openai/gpt-4o');
        expect(ids).toContain('auto');
        const res = await fetch(`${g.url}/v1/models`);
        expect(res.status).toBe(401);
      });
    });

    describe('dashboard', () => {
      it('serves the Usage dashboard page and assets without the admin token, revalidated by ETag, wired to where it is mounted', async () => {
        const g = await start({}, (app, hub) => {
          app.use(expressAdminRoutes(hub));
          app.use('/ai', expressAdminRoutes(hub));
        });
        const page = await fetch(`${g.url}/dashboard`);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
        const html = await page.text();
        expect(html).toContain('/dashboard/app.js');
        const etag = page.headers.get('etag')!;
        expect((await fetch(`${g.url}/dashboard`, { headers: { 'if-none-match': etag } })).status).toBe(304);
        const script = await fetch(`${g.url}/dashboard/app.js`);
        expect(script.status).toBe(200);
        expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);

        const mounted = await (await fetch(`${g.url}/ai/dashboard`)).text();
        expect(mounted).toContain('/ai/dashboard/app.js');
        expect(mounted).toContain('/ai/admin');
        expect((await fetch(`${g.url}/ai/dashboard/app.js`)).status).toBe(200);
        // The data behind it stays behind the admin check.
        expect((await fetch(`${g.url}/ai/admin/usage`)).status).toBe(401);
        expect((await g.admin('GET', '/ai/admin/usage')).status).toBe(200);
      });
    });

    describe('admin API and per-key settings', () => {
      it('creates, shows, merges and validates key settings; auto follows the key default strategy', async () => {
        // The gateway default sends `auto` to premium models; a key's own default overrides that.
        const premiumOnly = ({ eligible }: { eligible: readonly { model: { tier: string } }[] }) => ({
          candidates: eligible.filter((c) => c.model.tier === 'premium').map((c) => c.model as never),
        });
        const g = await start({ strategies: { premium: premiumOnly }, defaultStrategy: 'premium' });
        expect((await g.admin('GET', '/admin/keys', undefined, 'wrong-token-0123456789')).status).toBe(401);
        const created = await g.admin('POST', '/admin/keys', { name: 'team-a', settings: { defaultStrategy: 'cost', labels: { team: 'a' } } });
        expect(created.status).toBe(201);
        expect(created.body.settings).toEqual({ defaultStrategy: 'cost', labels: { team: 'a' } });
        const { id, key } = created.body as { id: string; key: string };
        const plain = await g.createKey();

        const byGateway = await g.client(plain.key).chat.completions.create({ model: 'auto', messages: ask }).withResponse();
        expect(byGateway.response.headers.get('x-inferoute-strategy')).toBe('premium');
        expect(byGateway.data.model).toBe('openai/gpt-4o');
        const byKey = await g.client(key).chat.completions.create({ model: 'auto', messages: ask }).withResponse();
        expect(byKey.response.headers.get('x-inferoute-strategy')).toBe('cost');
        expect(byKey.data.model).toBe('openai/gpt-4o-mini');
        // The request header still outranks the key's default.
        const byHeader = await g.client(key).chat.completions
          .create({ model: 'auto', messages: ask }, { headers: { 'X-Inferoute-Strategy': 'premium' } })
          .withResponse();
        expect(byHeader.data.model).toBe('openai/gpt-4o');
        // `fixed` with an alias names no model: 404, not a crash.
        const fixedAlias = await g.client(key).chat.completions
          .create({ model: 'auto', messages: ask }, { headers: { 'X-Inferoute-Strategy': 'fixed' } })
          .catch((e: unknown) => e);
        expect(fixedAlias).toBeInstanceOf(OpenAI.NotFoundError);

        const patched = await g.admin('PATCH', `/admin/keys/${id}`, { settings: { minTier: 'standard', defaultStrategy: null } });
        expect(patched.status).toBe(200);
        expect(patched.body.settings).toEqual({ minTier: 'standard', labels: { team: 'a' } });
        expect((await g.admin('GET', `/admin/keys/${id}`)).body.settings).toEqual({ minTier: 'standard', labels: { team: 'a' } });

        const unknown = await g.admin('POST', '/admin/keys', { name: 'b', settings: { defaultStrategy: 'nope' } });
        expect(unknown.status).toBe(400);
        expect(unknown.body.error).toMatchObject({ param: 'settings.defaultStrategy', message: expect.stringContaining('unknown strategy "nope"') });
        const fixed = await g.admin('PATCH', `/admin/keys/${id}`, { settings: { defaultStrategy: 'fixed' } });
        expect(fixed.status).toBe(400);
        const badTaper = await g.admin('POST', '/admin/keys', { name: 'c', settings: { taperAt: [0.9, 0.5] } });
        expect(badTaper.status).toBe(400);
        expect(badTaper.body.error.param).toBe('settings.taperAt');
      });
    });
  });
}
