// The TokenHub standalone server as `npm start` builds it (dist/), in its own process so its CPU and RSS are its own.
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';

// BENCH_DIST: another build of the gateway (e.g. the one before a change), to compare both in one run.
const dist = process.env.BENCH_DIST ? pathToFileURL(process.env.BENCH_DIST.replace(/\/*$/, '/')) : new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const [{ createTokenHub }, { memoryStorage }, { readServerEnv }, { startServer }, { buildProviders }] = await Promise.all(
  ['create.js', 'adapters/memory/index.js', 'server/config.js', 'server/index.js', 'server/providers.js'].map(load),
);

// Operational warnings and errors still show; the start-up line would only clutter the table.
const logger = {
  info() {},
  warn: (m, f) => console.error(`[gateway] warn: ${m}`, f ?? ''),
  error: (m, f) => console.error(`[gateway] error: ${m}`, f ?? ''),
};

/**
 * BENCH_STORAGE=memory: the same pipeline over in-process storage, to tell the engine's own cost
 * from the storage's. Not what `npm start` runs; the default bench measures the real server.
 */
async function startMemoryGateway(rawEnv) {
  const env = readServerEnv(rawEnv);
  const hub = createTokenHub({
    providers: buildProviders(env),
    storage: memoryStorage(),
    adminToken: env.TOKENHUB_ADMIN_TOKEN,
    timeouts: { connections: env.TOKENHUB_UPSTREAM_CONNECTIONS },
    logger,
  });
  const app = new Koa();
  app.silent = true;
  app.use(hub.routes());
  app.use(hub.adminRoutes());
  const server = app.listen(env.PORT, env.HOST);
  await once(server, 'listening');
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  return {
    port: server.address().port,
    async close() {
      server.close();
      server.closeIdleConnections();
      await hub.close(5_000);
      server.closeAllConnections();
    },
  };
}

const running = process.env.BENCH_STORAGE === 'memory' ? await startMemoryGateway(process.env) : await startServer(process.env, logger);
process.send?.({ type: 'ready', port: running.port });

let stopping = false;
process.on('message', (m) => {
  if (m?.type === 'gc') {
    globalThis.gc?.();
    // The JS heap after a full collection: what the gateway still holds, apart from what the allocator keeps.
    const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    process.send?.({ type: 'gc-done', heapUsed, heapTotal, external, arrayBuffers });
  } else if (m?.type === 'stop' && !stopping) {
    stopping = true;
    // A clean exit, so --cpu-prof writes its profile and usage is flushed as on SIGTERM.
    running.close().then(() => process.exit(0), () => process.exit(1));
  }
});
process.on('disconnect', () => {
  if (!stopping) running.close().finally(() => process.exit(0));
});
