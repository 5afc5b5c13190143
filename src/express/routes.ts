// expressRoutes(): the OpenAI-compatible endpoints under /v1 as an Express router, composed from the five stages.
import { Router } from 'express';
import { headerOf, modelsFor } from '../hub/binding.js';
import { engineOf, type HubLike } from './context.js';
import { asyncHandler, authKey, errorHandler, forwardToProvider, recordUsage, resolveStrategy, sendJson, spendCap, type ExpressAuthOptions } from './stages.js';

export interface ExpressRoutesOptions {
  /** Path prefix inside the router (mount the router itself anywhere, e.g. `app.use('/ai', …)`). Default `/v1`. */
  prefix?: string;
  /** Passed to authKey(), e.g. a host resolver. Default: bearer keys only. */
  auth?: ExpressAuthOptions;
}

/**
 * `POST {prefix}/chat/completions` and `GET {prefix}/models`. The chat pipeline runs
 * authKey → resolveStrategy → spendCap → forwardToProvider → recordUsage, with errorHandler for
 * failures; it reads its own body unless a host parser already did. Works on Express 4 and 5.
 */
export function expressRoutes(hubLike: HubLike, { prefix = '/v1', auth = {} }: ExpressRoutesOptions = {}): Router {
  const hub = engineOf(hubLike);
  const router = Router();
  router.post(`${prefix}/chat/completions`, authKey(hub, auth), resolveStrategy(hub), spendCap(hub), forwardToProvider(hub), recordUsage(hub));
  router.get(
    `${prefix}/models`,
    asyncHandler(async function models(req, res) {
      const key = auth.resolve !== undefined ? await auth.resolve(req, res) : null;
      sendJson(res, 200, {}, await modelsFor(hub, key, headerOf(req, 'authorization')));
    }),
  );
  router.use(errorHandler(hub));
  return router;
}
