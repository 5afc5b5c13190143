// adminRoutes(): the admin API (keys, usage, provider health) behind the admin token or the host's own check.
import { Router } from '@koa/router';
import { dashboardFiles, notModified } from '../dashboard/index.js';
import { adminRouteTable, checkAdmin, requestBody } from '../hub/binding.js';
import type { TokenHub } from '../hub/index.js';
import type { HubKoaState, HubMiddleware } from './context.js';
import { errorHandler } from './stages.js';

export interface AdminRoutesOptions {
  /** Path prefix of the admin API. Default `/admin`. */
  prefix?: string;
  /**
   * Where the Usage dashboard page is served, or false for none. Default `/dashboard`. The page and its assets
   * are public (they hold no data); every call it makes goes to the admin API, behind the admin check.
   */
  dashboard?: string | false;
}

/** Admits a request with the admin bearer token, or one the host's `authorizeAdmin(ctx)` approves; 401 otherwise. */
export function adminAuth(hub: TokenHub): HubMiddleware {
  return async function adminAuth(ctx, next) {
    await checkAdmin(hub, ctx.get('authorization') || undefined, ctx);
    await next();
  };
}

/** `/admin/keys`, `/admin/usage` (and its series, heatmap, waste), `/admin/models`, `/admin/providers`, and the page at `/dashboard`. */
export function adminRoutes(hub: TokenHub, { prefix = '/admin', dashboard = '/dashboard' }: AdminRoutesOptions = {}): HubMiddleware {
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
  const routed = router.routes() as HubMiddleware;
  // Every request the host's app passes on reaches here (the chat route's `next` included): answer "not ours" with
  // one comparison rather than @koa/router's match over every admin route. The router matches paths ignoring case.
  const base = prefix.replace(/\/+$/, '').toLowerCase();
  const api: HubMiddleware = base === ''
    ? routed
    : function adminApi(ctx, next) {
        const path = ctx.path;
        if (path.length < base.length || path.slice(0, base.length).toLowerCase() !== base) return next();
        return routed(ctx, next);
      };
  if (dashboard === false) return api;
  // Read from disk once, here; a request is a Map lookup.
  const files = dashboardFiles({ path: dashboard, apiPrefix: prefix });
  return async function adminRoutes(ctx, next) {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (file === undefined) return api(ctx, next);
    ctx.set(file.headers);
    if (notModified(file, ctx.get('if-none-match') || undefined)) {
      ctx.status = 304;
      return;
    }
    ctx.body = file.body;
  };
}
