// A gateway whose routing is written in code: task types pick tiers, and two customers get rules of their own.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createTokenHub, memoryStorage, rules } from '../../src/index.js';
import { providersFromEnv } from '../shared/upstream.js';

// Read top to bottom: `never` rules remove models, the first matching `use` rule picks a set (cheapest first),
// and a request no `use` rule takes goes to the cheapest model that can serve it (the base strategy, `cost`).
const house = rules([
  // Acme pays for premium on everything (its keys carry the label customer=acme).
  { name: 'acme-premium', when: { label: { customer: 'acme' } }, use: { tier: 'premium' } },
  // Classification and extraction are easy: the economy tier does them as well as any model.
  { name: 'cheap-tasks', when: { header: { 'x-task': ['classification', 'extraction'] } }, use: { tier: 'economy' } },
  // Code review is where a premium model pays for itself; the app tags those calls in the body's `metadata`.
  { name: 'code-review', when: { metadata: { task: 'code-review' } }, use: { tier: 'premium' } },
  // Globex's contract keeps its data away from one provider, whatever else applies.
  { name: 'globex-no-anthropic', when: { label: { customer: 'globex' } }, never: { provider: 'anthropic' } },
]);

const upstream = await providersFromEnv();
const hub = createTokenHub({
  providers: upstream.providers,
  storage: memoryStorage(),
  adminToken: process.env.TOKENHUB_ADMIN_TOKEN || 'example-admin-token-change-me',
  strategies: { house }, // also usable as `X-Inferoute-Strategy: house` or a key's settings.defaultStrategy
  defaultStrategy: 'house', // what `model: "auto"` routes with
});

const app = new Koa();
app.use(hub.routes()); // POST /v1/chat/completions, GET /v1/models
app.use(hub.adminRoutes()); // POST /admin/keys {"name", "settings": {"labels": {"customer": "acme"}}}

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`custom-routing listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await hub.close();
  await upstream.close();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
