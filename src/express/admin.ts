// expressAdminRoutes(): the admin API (keys, usage, provider health) and the Usage dashboard as an Express router.
import { Router, type Request, type RequestHandler } from 'express';
import { dashboardFiles, notModified, type DashboardFile } from '../dashboard/index.js';
import { adminRouteTable, checkAdmin, headerOf, requestBody } from '../hub/binding.js';
import { engineOf, type HubLike } from './context.js';
import { asyncHandler, errorHandler, sendJson } from './stages.js';

export interface ExpressAdminRoutesOptions {
  /** Path prefix of the admin API inside the router. Default `/admin`. */
  prefix?: string;
  /**
   * Where the Usage dashboard page is served inside the router, or false for none. Default `/dashboard`.
   * The page and its assets are public (they hold no data); every call it makes goes to the admin API.
   */
  dashboard?: string | false;
}

/** Admits a request with the admin bearer token, or one the hub's `authorizeAdmin(req)` approves; 401 otherwise. */
export function adminAuth(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function adminAuth(req, _res, next) {
    await checkAdmin(hub, headerOf(req, 'authorization'), req);
    next();
  });
}

/** `{prefix}/keys`, `/usage` (and its series, heatmap, waste), `/models`, `/providers`, and the page at `/dashboard`, as in the Koa binding. */
export function expressAdminRoutes(hubLike: HubLike, { prefix = '/admin', dashboard = '/dashboard' }: ExpressAdminRoutesOptions = {}): Router {
  const hub = engineOf(hubLike);
  const router = Router();
  if (dashboard !== false) router.use(dashboardPage(dashboard, prefix));
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

/**
 * Serves the dashboard's files. The page links its assets and calls the API by absolute path, so it is
 * prepared per mount point (`app.use('/ai', …)` → `/ai/dashboard` calling `/ai/admin`): once for the
 * root now, so a missing file fails at start-up, and once for each other mount point on its first visit.
 */
function dashboardPage(path: string, apiPrefix: string): RequestHandler {
  const byMount = new Map<string, ReadonlyMap<string, DashboardFile>>([['', dashboardFiles({ path, apiPrefix })]]);
  const filesAt = (req: Request) => {
    let files = byMount.get(req.baseUrl);
    if (files === undefined) {
      files = dashboardFiles({ path: req.baseUrl + path, apiPrefix: req.baseUrl + apiPrefix });
      // A mount path with parameters has many base URLs; keep memory bounded.
      if (byMount.size < 32) byMount.set(req.baseUrl, files);
    }
    return files;
  };
  return function dashboard(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const file = filesAt(req).get(req.baseUrl + req.path);
    if (file === undefined) return next();
    if (notModified(file, headerOf(req, 'if-none-match'))) {
      res.writeHead(304, file.headers).end();
      return;
    }
    res.writeHead(200, { ...file.headers, 'content-length': String(file.body.length) });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
