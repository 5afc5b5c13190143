// expressAdminRoutes(): the admin API (keys, usage, provider health) as an Express router, behind the admin token or host auth.
import { Router, type RequestHandler } from 'express';
import { adminRouteTable, checkAdmin, headerOf, requestBody } from '../hub/binding.js';
import { engineOf, type HubLike } from './context.js';
import { asyncHandler, errorHandler, sendJson } from './stages.js';

export interface ExpressAdminRoutesOptions {
  /** Path prefix of the admin API inside the router. Default `/admin`. */
  prefix?: string;
}

/** Admits a request with the admin bearer token, or one the hub's `authorizeAdmin(req)` approves; 401 otherwise. */
export function adminAuth(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function adminAuth(req, _res, next) {
    await checkAdmin(hub, headerOf(req, 'authorization'), req);
    next();
  });
}

/** `{prefix}/keys`, `{prefix}/keys/:id`, `{prefix}/usage`, `{prefix}/providers`, as in the Koa binding. */
export function expressAdminRoutes(hubLike: HubLike, { prefix = '/admin' }: ExpressAdminRoutesOptions = {}): Router {
  const hub = engineOf(hubLike);
  const router = Router();
  router.use(prefix, adminAuth(hub));
  for (const route of adminRouteTable(hub)) {
    router[route.method](
      prefix + route.path,
      asyncHandler(async function admin(req, res) {
        const body = route.readsBody ? await requestBody(hub, req, req.body) : undefined;
        // The table's paths have plain `:name` params only, never wildcards, so each is one string.
        const answer = await route.run({ params: req.params as Record<string, string>, query: req.query as Record<string, unknown>, body });
        sendJson(res, route.status, {}, answer);
      }),
    );
  }
  router.use(errorHandler(hub));
  return router;
}
