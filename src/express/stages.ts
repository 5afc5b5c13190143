// The five stages as Express handlers; each only translates between Express and the hub engine.
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { abortOnClose, endFailed, endSucceeded, errorReply, headerOf, identify, requestBody } from '../hub/binding.js';
import type { KeyRecord } from '../ports/keys.js';
import type { Awaitable } from '../ports/awaitable.js';
import { SSE_HEADERS } from '../stream/sse.js';
import { writeFrames } from '../stream/write.js';
import { engineOf, hubState, type HubLike } from './context.js';

/**
 * Wraps an async handler so a rejected promise always reaches `next(err)`. Express 5 does this itself;
 * Express 4 drops rejections, which would leave the request hanging. The handler keeps its name.
 */
export function asyncHandler(fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler {
  const handler: RequestHandler = (req, res, next) => {
    fn(req, res, next).catch(next);
  };
  Object.defineProperty(handler, 'name', { value: fn.name });
  return handler;
}

/** Writes a JSON answer with Node's own calls: no ETag, no Express-version differences. */
export function sendJson(res: Response, status: number, headers: Record<string, string>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * Answers every error in the OpenAI error shape (a 4-argument error middleware): settles and records a
 * failed exchange first, then replies. Errors from a host body parser (express.json's 413 and bad JSON)
 * become the SPEC's 413 and 400. Once headers are out it defers to Express, which closes the connection.
 */
export function errorHandler(hubLike: HubLike): ErrorRequestHandler {
  const hub = engineOf(hubLike);
  return function errorHandler(err: unknown, req: Request, res: Response, next: NextFunction) {
    const state = res.locals.tokenhub;
    const reply = errorReply(hub, err, state, req.path);
    const ended = state === undefined ? Promise.resolve() : endFailed(hub, state, err);
    ended.then(() => {
      if (res.headersSent) return next(err);
      sendJson(res, reply.status, reply.headers, reply.body);
    }, next);
  };
}

export interface ExpressAuthOptions {
  /**
   * Host auth: the key record for a caller the host has already identified (session, JWT: `req.user`,
   * `req.auth`), or null to fall back to `Authorization: Bearer th-…`. See `hostIdentityKeys()`.
   */
  resolve?: (req: Request, res: Response) => Awaitable<KeyRecord | null>;
}

/** Stage 1: the TokenHub key behind `Authorization: Bearer th-…` (or the host's resolver); 401 otherwise. */
export function authKey(hubLike: HubLike, { resolve }: ExpressAuthOptions = {}): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function authKey(req, res, next) {
    const state = hubState(res, hub);
    const resolved = resolve === undefined ? null : await resolve(req, res);
    await identify(hub, state, resolved, headerOf(req, 'authorization'));
    next();
  });
}

/**
 * Stage: validates the body and picks ordered candidates. Uses `req.body` when a host parser
 * (express.json) already consumed the stream, else reads it here with the hub's `maxBodyBytes`.
 */
export function resolveStrategy(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function resolveStrategy(req, res, next) {
    const state = hubState(res, hub);
    const body = await requestBody(hub, req, req.body);
    await hub.route(state, body, (name) => headerOf(req, name));
    next();
  });
}

/** Stage: reserves the request's worst-case cost against the key's month; 429 with no upstream call when it does not fit. */
export function spendCap(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function spendCap(_req, res, next) {
    await hub.reserve(hubState(res, hub));
    next();
  });
}

/**
 * Stage: sends to the candidates with fallback. A stream is written to `res` frame by frame as it
 * arrives (headers flushed at once, backpressure respected, `Cache-Control: no-transform`, which makes
 * the `compression` middleware pass it through unbuffered); a JSON answer is left in `res.locals.tokenhub.forwarded` for `recordUsage`,
 * which sends it once its cost is known. The client leaving aborts the upstream request.
 */
export function forwardToProvider(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function forwardToProvider(_req, res, next) {
    const state = hubState(res, hub);
    abortOnClose(res, state);
    const f = await hub.forward(state);
    if (f.kind === 'stream') {
      // Not flushed here: writeFrames sends the headers with the first frame (one write), or alone if it is slow.
      res.writeHead(200, { ...hub.responseHeaders(state), ...SSE_HEADERS });
      await writeFrames(f.frames, res);
    }
    next();
  });
}

/**
 * Stage, last: answers a JSON completion (with `x-inferoute-cost-usd` and the remaining budget) and settles the
 * reservation and records usage as it goes out. Stream: already written; settled when it ends (also
 * when the client left or the upstream failed). Failures are settled by `errorHandler`.
 */
export function recordUsage(hubLike: HubLike): RequestHandler {
  const hub = engineOf(hubLike);
  return asyncHandler(async function recordUsage(_req, res) {
    const state = hubState(res, hub);
    const f = state.forwarded;
    if (f === null) throw new Error('recordUsage() answers what forwardToProvider() produced; put it after that stage');
    if (f.kind === 'json' && !res.headersSent) sendJson(res, 200, hub.responseHeaders(state), f.completion);
    endSucceeded(hub, state, 200);
  });
}
