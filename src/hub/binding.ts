// What every framework binding shares, so Koa and Express only translate: body, identity, errors, ending an exchange, admin table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError, invalidRequest, requestTooLarge, toHubError } from '../core/errors.js';
import type { KeyRecord } from '../ports/keys.js';
import { adminApi, adminTokenMatches } from './admin.js';
import type { TokenHub } from './index.js';
import { listModels } from './models.js';
import type { HubState } from './state.js';

/**
 * The request's JSON body: what a host body parser already produced when it consumed the stream,
 * otherwise read here with the hub's limit (`maxBodyBytes`; 413 over it, 400 when not JSON).
 * A parser that left the stream unread (a content type it skips) does not count as having parsed it.
 */
export function requestBody(hub: TokenHub, req: IncomingMessage, hostParsed: unknown): Promise<unknown> {
  if (hostParsed !== undefined && req.readableEnded) return Promise.resolve(hostParsed);
  return hub.readBody(req, headerOf(req, 'content-length'));
}

/** A request header as one string; undefined when absent or empty. Names are lower-case. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s === '' ? undefined : s;
}

/** Stage 1's decision: the host's resolved key when it gave one, else the `Authorization: Bearer th-…` key (401 otherwise). */
export async function identify(hub: TokenHub, state: HubState, resolved: KeyRecord | null, authorization: string | undefined): Promise<KeyRecord> {
  if (resolved !== null) return (state.key = resolved);
  return hub.authenticate(state, authorization);
}

/** `GET /v1/models` for the host-resolved key or the bearer key. */
export async function modelsFor(hub: TokenHub, resolved: KeyRecord | null, authorization: string | undefined) {
  return listModels(hub, resolved ?? (await hub.keys.authenticate(authorization)));
}

/**
 * Errors thrown by the host's body parsers (body-parser/express.json, co-body/koa-bodyparser, raw-body
 * all throw http-errors with a `type`) answered in the SPEC's shape: too large is our 413, bad JSON our 400.
 */
export function fromHostError(err: unknown): HubError | null {
  if (typeof err !== 'object' || err === null || err instanceof HubError) return null;
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown; limit?: unknown; message?: unknown };
  if (e.type === 'entity.too.large') return requestTooLarge(typeof e.limit === 'number' ? e.limit : 0);
  if (e.type === 'entity.parse.failed') return invalidRequest('The request body is not valid JSON.');
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status >= 400 && status < 500 && e.expose === true && typeof e.message === 'string') {
    return new HubError(e.message, { status, type: 'invalid_request_error' });
  }
  return null;
}

/** An error answer: status, headers (the error's own and the request id) and the OpenAI error body. Logs unexpected faults. */
export function errorReply(hub: TokenHub, err: unknown, state: HubState | undefined, path: string) {
  const error = fromHostError(err) ?? toHubError(err);
  if (error.status >= 500 && error.type === 'server_error') hub.logger.error('unhandled error', { path, error: String(err) });
  const headers: Record<string, string> = { ...error.headers };
  if (state !== undefined) headers['x-inferoute-request-id'] = state.requestId;
  return { error, status: error.status, headers, body: error.toBody() };
}

const ended = new WeakSet<HubState>();

/** Ends an exchange exactly once (settle, record usage), however many paths in a binding reach its end. Never throws. */
export function endExchange(hub: TokenHub, state: HubState, end: { status: number; error: HubError | null }): Promise<void> {
  if (ended.has(state)) return Promise.resolve();
  ended.add(state);
  return hub.finish(state, end);
}

/**
 * Ends an exchange that succeeded so far, in the background: a JSON answer (billed by `forward`, its headers
 * complete) is settled and recorded as it goes out, a stream when it ends (client gone or upstream failed included).
 */
export function endSucceeded(hub: TokenHub, state: HubState, status: number): void {
  void endExchange(hub, state, { status, error: null });
}

/** Ends an exchange that failed with `err`, before the error is answered. */
export async function endFailed(hub: TokenHub, state: HubState, err: unknown): Promise<void> {
  const e = fromHostError(err) ?? toHubError(err);
  await endExchange(hub, state, { status: e.status, error: e });
}

/** The client leaving before the answer is complete cancels the upstream request, streaming or not. */
export function abortOnClose(res: ServerResponse, state: HubState): void {
  res.once('close', () => {
    if (!res.writableFinished) state.abort.abort();
  });
}

/** Admits an admin request with the admin bearer token, or one the host's `authorizeAdmin(hostCtx)` approves; 401 otherwise. */
export async function checkAdmin(hub: TokenHub, authorization: string | undefined, hostCtx: unknown): Promise<void> {
  const { adminToken, authorizeAdmin } = hub.options;
  if (adminTokenMatches(adminToken, authorization)) return;
  if (authorizeAdmin !== undefined && (await authorizeAdmin(hostCtx))) return;
  throw new HubError('Admin routes need "Authorization: Bearer <admin token>".', {
    status: 401,
    type: 'invalid_request_error',
    code: 'invalid_admin_token',
  });
}

/** One admin endpoint; paths use the `:param` syntax both @koa/router and Express understand. */
export interface AdminRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  /** Status of a successful answer. */
  status: number;
  /** Whether the endpoint reads a JSON body. */
  readsBody: boolean;
  run(input: { params: Record<string, string | undefined>; query: Record<string, unknown>; body: unknown }): unknown;
}

/** The admin API as a table each binding mounts: `/keys`, `/keys/:id`, `/usage`, `/providers`. */
export function adminRouteTable(hub: TokenHub): AdminRoute[] {
  const api = adminApi(hub);
  const id = (p: Record<string, string | undefined>) => p.id ?? '';
  return [
    { method: 'post', path: '/keys', status: 201, readsBody: true, run: ({ body }) => api.createKey(body) },
    { method: 'get', path: '/keys', status: 200, readsBody: false, run: () => api.listKeys() },
    { method: 'get', path: '/keys/:id', status: 200, readsBody: false, run: ({ params }) => api.getKey(id(params)) },
    { method: 'patch', path: '/keys/:id', status: 200, readsBody: true, run: ({ params, body }) => api.patchKey(id(params), body) },
    { method: 'delete', path: '/keys/:id', status: 200, readsBody: false, run: ({ params }) => api.revokeKey(id(params)) },
    { method: 'get', path: '/usage', status: 200, readsBody: false, run: ({ query }) => api.usage(query) },
    { method: 'get', path: '/usage/series', status: 200, readsBody: false, run: ({ query }) => api.usageSeries(query) },
    { method: 'get', path: '/usage/heatmap', status: 200, readsBody: false, run: ({ query }) => api.usageHeatmap(query) },
    { method: 'get', path: '/usage/waste', status: 200, readsBody: false, run: ({ query }) => api.usageWaste(query) },
    { method: 'get', path: '/models', status: 200, readsBody: false, run: () => api.models() },
    { method: 'get', path: '/providers', status: 200, readsBody: false, run: () => api.providers() },
  ];
}
