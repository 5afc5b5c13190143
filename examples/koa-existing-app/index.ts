// An existing Koa app — its own pages, login and cookie sessions — that mounts TokenHub under /ai for signed-in users.
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { Router } from '@koa/router';
import { createTokenHub, hostIdentityKeys, memoryStorage } from '../../src/index.js';
import { providersFromEnv } from '../shared/upstream.js';

interface User { name: string; team: string; admin: boolean }
const USERS: Record<string, User & { password: string }> = {
  alice: { name: 'alice', password: 'wonderland', team: 'team-red', admin: false },
  bob: { name: 'bob', password: 'builder', team: 'team-blue', admin: true },
};
const sessions = new Map<string, User>();

// TokenHub: caps and usage per team, with no TokenHub keys for anyone to handle.
const upstream = await providersFromEnv();
const hub = createTokenHub({
  providers: upstream.providers,
  storage: memoryStorage(), // sqliteStorage({ path: 'data/tokenhub.db' }) to keep spend across restarts
  authorizeAdmin: (ctx) => (ctx as Koa.Context).state.user?.admin === true, // the admin API, for the app's admins
});
const teams = hostIdentityKeys(hub, { defaults: { monthlyLimitUsd: 20 } }); // a $20/month key per team, made on first use

const app = new Koa();
// The app's session auth (koa-passport would set ctx.state.user the same way).
app.use(async (ctx, next) => {
  ctx.state.user = sessions.get(ctx.cookies.get('sid') ?? '');
  await next();
});

const pages = new Router();
pages.get('/', (ctx) => (ctx.body = { app: 'koa-existing-app', user: ctx.state.user?.name ?? null }));
pages.post('/login', async (ctx) => {
  const { user, password } = JSON.parse(Buffer.concat(await ctx.req.toArray()).toString()) as { user: string; password: string };
  const found = USERS[user];
  if (found === undefined || found.password !== password) return ctx.throw(401, 'wrong user or password');
  const sid = randomUUID();
  sessions.set(sid, { name: found.name, team: found.team, admin: found.admin });
  ctx.cookies.set('sid', sid, { httpOnly: true, sameSite: 'lax' });
  ctx.body = { ok: true };
});
app.use(pages.routes());

// Everything under /ai is for signed-in users only; TokenHub then bills the user's team.
app.use(async (ctx, next) => {
  if (ctx.path.startsWith('/ai/') && ctx.state.user === undefined) {
    ctx.status = 401;
    ctx.body = { error: { message: 'Sign in first.', type: 'invalid_request_error', param: null, code: 'not_signed_in' } };
    return;
  }
  await next();
});
app.use(hub.routes({ prefix: '/ai/v1', auth: { resolve: (ctx) => teams.keyFor(ctx.state.user?.team) } }));
app.use(hub.adminRoutes({ prefix: '/ai/admin' }));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  console.log(`koa-existing-app listening on http://127.0.0.1:${port}`);
});
const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await hub.close(); // lets in-flight requests finish, settles spend, flushes usage
  await upstream.close();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
