// adminRoutes(): answers its prefix (ignoring case, as @koa/router matches) and the dashboard; the rest reaches the host.
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenHub, memoryStorage } from '../../src/index.js';
import { listen, type Listening } from '../support/http.js';

const TOKEN = 'admin-routes-test-token-0123456789';
let server: Listening;
let hub: ReturnType<typeof createTokenHub>;

beforeAll(async () => {
  hub = createTokenHub({ storage: memoryStorage(), providers: [], adminToken: TOKEN, logger: { info() {}, warn() {}, error() {} } });
  const app = new Koa();
  app.use(hub.adminRoutes({ prefix: '/ops/admin', dashboard: '/ops/usage' }));
  app.use((ctx) => {
    ctx.body = { host: ctx.path };
  });
  server = await listen(app.callback());
});
afterAll(async () => {
  await server.close();
  await hub.close(1_000);
});

const get = async (path: string, token: string | null = TOKEN) => {
  const res = await fetch(server.url + path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, body: type.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text() };
};

describe('adminRoutes() under a custom prefix', () => {
  it('answers the admin API under its prefix, in any case, behind the admin token', async () => {
    expect(await get('/ops/admin/keys')).toEqual({ status: 200, body: { data: [] } });
    expect((await get('/OPS/Admin/keys')).status).toBe(200);
    expect((await get('/ops/admin/keys', null)).status).toBe(401);
    expect((await get('/ops/usage')).status).toBe(200);
  });

  it('leaves every other path to the host, without asking for the admin token', async () => {
    expect(await get('/ops/other', null)).toEqual({ status: 200, body: { host: '/ops/other' } });
    expect(await get('/admin/keys', null)).toEqual({ status: 200, body: { host: '/admin/keys' } });
    expect(await get('/ops/adminx/keys', null)).toEqual({ status: 200, body: { host: '/ops/adminx/keys' } });
  });
});
