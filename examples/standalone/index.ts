// What `npm start` runs (src/server.ts), written out with the public API and explained line by line.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { anthropic, createTokenHub, google, openai, sqliteStorage, type Provider } from '../../src/index.js';

const env = process.env;

// 1. Providers: one per API key in the environment; a provider without a key is never routed to.
//    OPENAI_BASE_URL includes /v1; ANTHROPIC_BASE_URL and GEMINI_BASE_URL are hosts (the official SDKs' conventions).
const providers: Provider[] = [];
if (env.OPENAI_API_KEY) providers.push(openai({ apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}) }));
if (env.ANTHROPIC_API_KEY) providers.push(anthropic({ apiKey: env.ANTHROPIC_API_KEY, ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}) }));
if (env.GEMINI_API_KEY) providers.push(google({ apiKey: env.GEMINI_API_KEY, ...(env.GEMINI_BASE_URL ? { baseURL: env.GEMINI_BASE_URL } : {}) }));
if (providers.length === 0) console.warn('no provider configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY');

// 2. Storage: keys, spend and usage in one SQLite file that survives restarts. (`npm start` moves them to
//    PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set: see src/server/storage.ts.) A busy key's requests
//    are admitted in memory against a block of its month held in the file (spend leases, the README's "Spend
//    leases"); TOKENHUB_SPEND_LEASES=0 reserves each request in its own row, exact when processes share the file.
const storage = sqliteStorage({
  path: env.TOKENHUB_DB || 'data/tokenhub.db',
  spendLeases: !['0', 'false', 'no'].includes(env.TOKENHUB_SPEND_LEASES ?? ''),
});

// 3. The admin token guards /admin/*. Without one, generate it and print it once, or nobody could create a key.
const adminToken = env.TOKENHUB_ADMIN_TOKEN || `tha-${randomBytes(24).toString('base64url')}`;
if (!env.TOKENHUB_ADMIN_TOKEN) console.log(`TOKENHUB_ADMIN_TOKEN is not set; the admin token of this run is ${adminToken}`);

// 4. The hub: every option is checked now, at start-up, not on the first request.
const hub = createTokenHub({ providers, storage, adminToken });

// 5. The app: a health check, the OpenAI-compatible API (/v1/chat/completions, /v1/models), the admin API and dashboard.
const app = new Koa();
app.use(async (ctx, next) => {
  if (ctx.path === '/healthz') ctx.body = { ok: true };
  else await next();
});
app.use(hub.routes());
app.use(hub.adminRoutes());

// 6. Listen on PORT (default 8787). Streams may run for minutes: the hub's upstream timeouts bound them, not Node's.
const server = app.listen(Number(env.PORT || 8787), env.HOST || '0.0.0.0', () => {
  console.log(`standalone listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
server.requestTimeout = 0;

// 7. SIGTERM (what orchestrators send) and Ctrl-C: stop accepting, let in-flight requests and streams finish,
//    settle their spend, flush usage records, close the SQLite file.
const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await hub.close();
  await storage.close?.();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
