// adminRoutes(): the admin API (keys, usage, provider health) behind the admin token or the host's own check.
import { Router } from '@koa/router';
import { HubError } from '../core/errors.js';
import type { TokenHub } from '../hub/index.js';
import { adminApi, adminTokenMatches } from '../hub/admin.js';
import type { HubKoaState, HubMiddleware } from './context.js';
import { errorHandler } from './stages.js';

export interface AdminRoutesOptions {
  /** Path prefix of the admin API. Default `/admin`. */
  prefix?: string;
}

/** Admits a request with the admin bearer token, or one the host's `authorizeAdmin` approves; 401 otherwise. */
export function adminAuth(hub: TokenHub): HubMiddleware {
  const { adminToken, authorizeAdmin } = hub.options;
  return async function adminAuth(ctx, next) {
    const ok = adminTokenMatches(adminToken, ctx.get('authorization') || undefined) || (authorizeAdmin !== undefined && (await authorizeAdmin(ctx)));
    if (!ok) {
      throw new HubError('Admin routes need "Authorization: Bearer <admin token>".', {
        status: 401,
        type: 'invalid_request_error',
        code: 'invalid_admin_token',
      });
    }
    await next();
  };
}

async function jsonBody(hub: TokenHub, ctx: { request: unknown; req: import('node:http').IncomingMessage; get(h: string): string }) {
  const parsed = (ctx.request as { body?: unknown }).body;
  if (parsed !== undefined) return parsed;
  return hub.readBody(ctx.req, ctx.get('content-length') || undefined);
}

/** `/admin/keys`, `/admin/usage`, `/admin/providers`. */
export function adminRoutes(hub: TokenHub, { prefix = '/admin' }: AdminRoutesOptions = {}) {
  const api = adminApi(hub);
  const router = new Router<HubKoaState>({ prefix });
  router.use(errorHandler(hub), adminAuth(hub));
  router.post('/keys', async (ctx) => {
    ctx.status = 201;
    ctx.body = await api.createKey(await jsonBody(hub, ctx));
  });
  router.get('/keys', async (ctx) => {
    ctx.body = await api.listKeys();
  });
  router.get('/keys/:id', async (ctx) => {
    ctx.body = await api.getKey(ctx.params.id!);
  });
  router.patch('/keys/:id', async (ctx) => {
    ctx.body = await api.patchKey(ctx.params.id!, await jsonBody(hub, ctx));
  });
  router.delete('/keys/:id', async (ctx) => {
    ctx.body = await api.revokeKey(ctx.params.id!);
  });
  router.get('/usage', async (ctx) => {
    ctx.body = await api.usage(ctx.query);
  });
  router.get('/providers', (ctx) => {
    ctx.body = api.providers();
  });
  return router.routes();
}
