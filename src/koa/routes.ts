// routes(): the OpenAI-compatible endpoints under /v1, composed from the five stages.
import { Router } from '@koa/router';
import type { TokenHub } from '../hub/index.js';
import { modelsFor } from '../hub/binding.js';
import type { HubKoaState } from './context.js';
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
 */
export function routes(hub: TokenHub, { prefix = '/v1', auth = {} }: RoutesOptions = {}) {
  const router = new Router<HubKoaState>({ prefix });
  const onError = errorHandler(hub);
  router.post(
    '/chat/completions',
    onError,
    recordUsage(hub),
    authKey(hub, auth),
    resolveStrategy(hub),
    spendCap(hub),
    forwardToProvider(hub),
  );
  router.get('/models', onError, async function models(ctx) {
    const key = auth.resolve !== undefined ? await auth.resolve(ctx as never) : null;
    ctx.body = await modelsFor(hub, key, ctx.get('authorization') || undefined);
  });
  return router.routes();
}
