// The standalone gateway: a Koa app with the pipeline, the admin API and a health check, built from the environment.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createTokenHub, type TokenHubInstance } from '../create.js';
import type { HubLogger } from '../hub/options.js';
import { buildProviders } from './providers.js';
import { buildStorage } from './storage.js';
import { readServerEnv } from './config.js';

export interface RunningServer {
  /** `http://HOST:PORT` as bound (the real port when PORT=0). */
  url: string;
  port: number;
  hub: TokenHubInstance;
  server: Server;
  /** Stops accepting, lets in-flight requests finish, settles, flushes usage, closes storage. */
  close(): Promise<void>;
}

const stdoutLogger: HubLogger = {
  info: (m, f) => console.log(`[tokenhub] ${m}${f ? ' ' + JSON.stringify(f) : ''}`),
  warn: (m, f) => console.warn(`[tokenhub] warn: ${m}${f ? ' ' + JSON.stringify(f) : ''}`),
  error: (m, f) => console.error(`[tokenhub] error: ${m}${f ? ' ' + JSON.stringify(f) : ''}`),
};

/** Starts the gateway from environment variables (SPEC §4). */
export async function startServer(rawEnv: NodeJS.ProcessEnv = process.env, logger: HubLogger = stdoutLogger): Promise<RunningServer> {
  const env = readServerEnv(rawEnv);
  let adminToken = env.TOKENHUB_ADMIN_TOKEN;
  if (adminToken === undefined) {
    adminToken = `tha-${randomBytes(24).toString('base64url')}`;
    // Printed once, on purpose: without it nobody could use the admin API of this run.
    logger.info(`TOKENHUB_ADMIN_TOKEN is not set; generated an admin token for this run: ${adminToken}`);
  }
  const providers = buildProviders(env);
  if (providers.length === 0) logger.warn('no provider configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY');
  const storage = await buildStorage(env);
  const hub = createTokenHub({
    providers,
    storage: storage.storage,
    adminToken,
    maxBodyBytes: env.TOKENHUB_MAX_BODY_BYTES,
    failOpen: env.TOKENHUB_FAIL_OPEN,
    timeouts: { connections: env.TOKENHUB_UPSTREAM_CONNECTIONS },
    logger,
    ...(env.TOKENHUB_DEFAULT_STRATEGY === undefined ? {} : { defaultStrategy: env.TOKENHUB_DEFAULT_STRATEGY }),
  });

  const app = new Koa();
  app.proxy = false;
  app.silent = true; // errors are answered and logged by the hub's own handler
  app.use(async function health(ctx, next) {
    if (ctx.method === 'GET' && ctx.path === '/healthz') {
      ctx.body = { ok: true };
      return;
    }
    await next();
  });
  app.use(hub.routes());
  app.use(hub.adminRoutes());

  const server = app.listen(env.PORT, env.HOST);
  await once(server, 'listening');
  // Streams may legitimately run for minutes; the gateway's own upstream timeouts bound them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`;
  logger.info(`listening on ${url}`, { storage: storage.describe, providers: providers.map((p) => p.name) });

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await hub.close(env.TOKENHUB_SHUTDOWN_MS);
      server.closeAllConnections();
      await stopped;
      await storage.close();
    })());
  return { url, port, hub, server, close };
}
