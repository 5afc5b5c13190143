// adminRoutes(): the admin API (keys, usage, provider health) behind the admin token or the host's own check.
import { Router } from '@koa/router';
import { adminRouteTable, checkAdmin, requestBody } from '../hub/binding.js';
import type { TokenHub } from '../hub/index.js';
import type { HubKoaState, HubMiddleware } from './context.js';
import { errorHandler } from './stages.js';

export interface AdminRoutesOptions {
  /** Path prefix of the admin API. Default `/admin`. */
  prefix?: string;
}

/** Admits a request with the admin bearer token, or one the host's `authorizeAdmin(ctx)` approves; 401 otherwise. */
export function adminAuth(hub: TokenHub): HubMiddleware {
  return async function adminAuth(ctx, next) {
    await checkAdmin(hub, ctx.get('authorization') || undefined, ctx);
    await next();
  };
}

/** `/admin/keys`, `/admin/usage`, `/admin/providers`. */
export function adminRoutes(hub: TokenHub, { prefix = '/admin' }: AdminRoutesOptions = {}) {
  const router = new Router<HubKoaState>({ prefix });
  router.use(errorHandler(hub), adminAuth(hub));
  for (const route of adminRouteTable(hub)) {
    router[route.method](route.path, async (ctx) => {
      const body = route.readsBody ? await requestBody(hub, ctx.req, (ctx.request as { body?: unknown }).body) : undefined;
      const answer = await route.run({ params: ctx.params, query: ctx.query, body });
      ctx.status = route.status;
      ctx.body = answer;
    });
  }
  return router.routes();
}
