// routes(): the OpenAI-compatible endpoints under /v1, composed from the five stages.
import type { Next } from 'koa';
import type { TokenHub } from '../hub/index.js';
import { modelsFor } from '../hub/binding.js';
import type { HubMiddleware } from './context.js';
import { authKey, errorHandler, forwardToProvider, recordUsage, resolveStrategy, spendCap, type AuthKeyOptions } from './stages.js';

export interface RoutesOptions {
  /** Path prefix. Default `/v1`. */
  prefix?: string;
  /** Passed to authKey(), e.g. a host resolver. */
  auth?: AuthKeyOptions;
}

/**
 * `POST {prefix}/chat/completions` and `GET {prefix}/models`. The chat pipeline runs
 * errorHandler → recordUsage → authKey → resolveStrategy → spendCap → forwardToProvider:
 * the reservation needs the candidates, so spendCap runs after resolveStrategy.
 * Paths match as @koa/router matches them (case-insensitive, one optional trailing slash; HEAD with GET);
 * any other method or path falls through to the host's next middleware.
 */
export function routes(hub: TokenHub, { prefix = '/v1', auth = {} }: RoutesOptions = {}): HubMiddleware {
  // Two fixed paths need no router: an exact comparison and a pipeline composed once cost less per
  // request than @koa/router's regexp match, params and per-request compose.
  const base = prefix.replace(/\/+$/, '').toLowerCase();
  const chatPath = `${base}/chat/completions`;
  const modelsPath = `${base}/models`;
  const onError = errorHandler(hub);
  const chat = compose([onError, recordUsage(hub), authKey(hub, auth), resolveStrategy(hub), spendCap(hub), forwardToProvider(hub)]);
  const models = compose([
    onError,
    async function models(ctx) {
      const key = auth.resolve !== undefined ? await auth.resolve(ctx as never) : null;
      ctx.body = await modelsFor(hub, key, ctx.get('authorization') || undefined);
    },
  ]);
  return function tokenhubRoutes(ctx, next) {
    const path = ctx.path;
    const method = ctx.method;
    if (method === 'POST' && samePath(path, chatPath)) return chat(ctx, next);
    if ((method === 'GET' || method === 'HEAD') && samePath(path, modelsPath)) return models(ctx, next);
    return next();
  };
}

/** `path` names `route` (lower-case) ignoring case and one trailing slash, as path-to-regexp's defaults do. */
function samePath(path: string, route: string): boolean {
  if (path === route) return true;
  let n = path.length;
  if (n === route.length + 1 && path.charCodeAt(n - 1) === 47) n -= 1; // '/'
  if (n !== route.length) return false;
  return (n === path.length ? path : path.slice(0, n)).toLowerCase() === route;
}

/** Runs `stages` in order, each one's `next` calling the following, the last one's calling the host's `next`. */
function compose(stages: readonly HubMiddleware[]): HubMiddleware {
  return function pipeline(ctx, last: Next) {
    const step = (i: number): Promise<unknown> => {
      if (i === stages.length) return last();
      try {
        return Promise.resolve(stages[i]!(ctx, () => step(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return step(0);
  };
}
