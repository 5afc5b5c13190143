// The five stages as Koa middlewares; each only translates between Koa and the hub engine.
import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import { abortOnClose, endFailed, endSucceeded, errorReply, identify, requestBody } from '../hub/binding.js';
import type { TokenHub } from '../hub/index.js';
import type { KeyRecord } from '../ports/keys.js';
import type { Awaitable } from '../ports/awaitable.js';
import { hubState, type HubMiddleware } from './context.js';
import { SSE_HEADERS } from '../stream/sse.js';
import { writeFrames } from '../stream/write.js';

/** Answers every error below it in the OpenAI error shape; nothing leaves as HTML or an empty 500. */
export function errorHandler(hub: TokenHub): HubMiddleware {
  return async function errorHandler(ctx, next) {
    try {
      await next();
    } catch (err) {
      const reply = errorReply(hub, err, ctx.state.tokenhub, ctx.path);
      if (ctx.headerSent) return;
      ctx.status = reply.status;
      ctx.set(reply.headers);
      ctx.body = reply.body;
    }
  };
}

export interface AuthKeyOptions {
  /**
   * Host auth: return the key record for a caller the host has already identified
   * (session, JWT), or null to fall back to the `Authorization: Bearer th-…` header.
   */
  resolve?: (ctx: Context) => Awaitable<KeyRecord | null>;
}

/** Stage 1: the TokenHub key behind `Authorization: Bearer th-…`; 401 otherwise. */
export function authKey(hub: TokenHub, { resolve }: AuthKeyOptions = {}): HubMiddleware {
  return async function authKey(ctx, next) {
    const state = hubState(ctx, hub);
    const resolved = resolve === undefined ? null : await resolve(ctx as unknown as Context);
    await identify(hub, state, resolved, ctx.get('authorization') || undefined);
    await next();
  };
}

/** Stage: validates the body and picks ordered candidates (`fixed`, `cost`, aliases, the strategy header). */
export function resolveStrategy(hub: TokenHub): HubMiddleware {
  return async function resolveStrategy(ctx, next) {
    const state = hubState(ctx, hub);
    // A host body parser may have run already; otherwise read the body here, bounded.
    const body = await requestBody(hub, ctx.req, (ctx.request as { body?: unknown }).body);
    await hub.route(state, body, (name) => ctx.get(name) || undefined);
    await next();
  };
}

/** Stage: reserves the request's worst-case cost against the key's month; 429 with no upstream call when it does not fit. */
export function spendCap(hub: TokenHub): HubMiddleware {
  return async function spendCap(ctx, next) {
    await hub.reserve(hubState(ctx, hub));
    await next();
  };
}

/** Stage: sends to the candidates with fallback; streams pass through as they arrive. */
export function forwardToProvider(hub: TokenHub): HubMiddleware {
  return async function forwardToProvider(ctx, next) {
    const state = hubState(ctx, hub);
    abortOnClose(ctx.res, state);
    const f = await hub.forward(state);
    setHeaders(ctx.res, hub.responseHeaders(state));
    if (f.kind === 'json') {
      ctx.body = f.completion;
    } else {
      // Streams bypass Koa's respond(): frames go straight to the socket as they arrive (no compression
      // or body buffering), and a client that leaves is an expected end, not an error to log.
      ctx.status = 200;
      ctx.respond = false;
      // Not flushed here: writeFrames sends them with the first frame, one write instead of two.
      ctx.res.writeHead(200, SSE_HEADERS);
      void writeFrames(f.frames, ctx.res);
    }
    await next();
  };
}

/**
 * Koa's `ctx.set(object)` copies the object into entries and normalises every value, per request; these are strings
 * already, and `setHeader` is what it ends in.
 */
function setHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
}

/**
 * Stage: settles the reservation and records usage once the exchange is over — as the answer goes out for JSON,
 * when the stream ends for streams (also when the client leaves or the upstream fails). Put it
 * first so it sees failures of every later stage.
 */
export function recordUsage(hub: TokenHub): HubMiddleware {
  return async function recordUsage(ctx, next) {
    const state = hubState(ctx, hub);
    try {
      await next();
    } catch (err) {
      await endFailed(hub, state, err);
      throw err;
    }
    endSucceeded(hub, state, ctx.status);
  };
}
