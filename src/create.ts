// createTokenHub(): the engine plus its Koa faces, as the SPEC's first example uses it.
import { TokenHub } from './hub/index.js';
import type { HubOptions } from './hub/options.js';
import type { Strategy } from './core/strategy.js';
import { adminRoutes, type AdminRoutesOptions } from './koa/admin.js';
import { routes, type RoutesOptions } from './koa/routes.js';
import { authKey, errorHandler, forwardToProvider, recordUsage, resolveStrategy, spendCap, type AuthKeyOptions } from './koa/stages.js';

/** A configured gateway: Koa middlewares bound to one engine. */
export interface TokenHubInstance {
  /** The framework-free engine (for the Express binding, tests, and hosts that build their own stages). */
  readonly engine: TokenHub;
  /** The whole pipeline: `POST /v1/chat/completions`, `GET /v1/models`. */
  routes(options?: RoutesOptions): ReturnType<typeof routes>;
  /** The admin API under `/admin`. */
  adminRoutes(options?: AdminRoutesOptions): ReturnType<typeof adminRoutes>;
  errorHandler(): ReturnType<typeof errorHandler>;
  authKey(options?: AuthKeyOptions): ReturnType<typeof authKey>;
  resolveStrategy(): ReturnType<typeof resolveStrategy>;
  spendCap(): ReturnType<typeof spendCap>;
  forwardToProvider(): ReturnType<typeof forwardToProvider>;
  recordUsage(): ReturnType<typeof recordUsage>;
  registerStrategy(name: string, strategy: Strategy): TokenHubInstance;
  alias(name: string, strategyName: string): TokenHubInstance;
  /** Drains in-flight requests, settles, flushes usage. */
  close(timeoutMs?: number): Promise<void>;
}

/** Builds a gateway; every option is validated now, not on the first request. */
export function createTokenHub(options: HubOptions): TokenHubInstance {
  const engine = new TokenHub(options);
  const hub: TokenHubInstance = {
    engine,
    routes: (o) => routes(engine, o),
    adminRoutes: (o) => adminRoutes(engine, o),
    errorHandler: () => errorHandler(engine),
    authKey: (o) => authKey(engine, o),
    resolveStrategy: () => resolveStrategy(engine),
    spendCap: () => spendCap(engine),
    forwardToProvider: () => forwardToProvider(engine),
    recordUsage: () => recordUsage(engine),
    registerStrategy(name, strategy) {
      engine.registerStrategy(name, strategy);
      return hub;
    },
    alias(name, target) {
      engine.alias(name, target);
      return hub;
    },
    close: (t) => engine.close(t),
  };
  return hub;
}
