// Upstream HTTP over undici: keep-alive pools and explicit connect, first-byte and idle timeouts.
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, errors, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';
import type { Cancellation } from './cancellation.js';
import { UpstreamBody } from './upstream-body.js';

/** An upstream answer whose body has not been read yet. */
export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & { text(): Promise<string>; json(): Promise<unknown>; dump(): Promise<void> };
}

/** Sends one upstream request; rejects with a TransportError on connection faults and timeouts. */
export type Transport = (req: UpstreamRequest, signal: Cancellation) => Promise<TransportResponse>;

/** A connection fault or timeout talking to a provider. */
export class TransportError extends Error {
  constructor(message: string, readonly kind: 'connection' | 'timeout' | 'aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface TransportTimeouts {
  /** Milliseconds to establish a connection. Default 10,000. */
  connectMs?: number;
  /** Milliseconds from sending the request to the response headers (the first byte). Default 120,000. */
  firstByteMs?: number;
  /** Milliseconds the body may go silent between two chunks. Default 120,000. */
  idleMs?: number;
  /** Keep-alive sockets per upstream origin. Default 256. */
  connections?: number;
}

/** Classifies an undici or abort error into what fallback and cooldown need to know. */
export function toTransportError(err: unknown, signal: Cancellation): TransportError {
  if (err instanceof TransportError) return err;
  if (signal.aborted) return new TransportError('request aborted', 'aborted', { cause: err });
  if (
    err instanceof errors.ConnectTimeoutError ||
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError
  ) {
    return new TransportError('upstream timed out', 'timeout', { cause: err });
  }
  return new TransportError('upstream connection failed', 'connection', { cause: err });
}

/** A transport with one keep-alive pool per origin, built once per hub. */
export function undiciTransport({
  connectMs = 10_000,
  firstByteMs = 120_000,
  idleMs = 120_000,
  connections = 256,
}: TransportTimeouts = {}): Transport & { close(): Promise<void> } {
  const agent = new Agent({
    connect: { timeout: connectMs },
    headersTimeout: firstByteMs,
    bodyTimeout: idleMs,
    connections,
    keepAliveTimeout: 30_000,
  });
  // A provider sends every request to the same URL: parse it once, not per request as undici's
  // top-level request(url) does (a WHATWG URL and an options copy each time).
  const targets = new Map<string, { origin: string; path: string }>();
  const target = (url: string) => {
    let t = targets.get(url);
    if (t === undefined) {
      const u = new URL(url);
      t = { origin: u.origin, path: u.pathname + u.search };
      if (targets.size < 1_000) targets.set(url, t);
    }
    return t;
  };
  const send: Transport = (req, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(toTransportError(new errors.RequestAbortedError(), signal));
      try {
        const { origin, path } = target(req.url);
        const exchange = new Exchange(signal, resolve, reject);
        agent.dispatch({ origin, path, method: 'POST', headers: req.headers, body: req.body }, exchange);
      } catch (err) {
        reject(toTransportError(err, signal));
      }
    });
  return Object.assign(send, { close: () => agent.close() });
}

/**
 * One request through undici's `dispatch`, answered with the status, the headers and an `UpstreamBody` fed straight
 * from the parser's callbacks: no Readable stream, no async resource and no abort-signal plumbing per request, which
 * is what undici's `request()` adds on top of the same dispatch (~4 µs of a non-streaming request's CPU, measured).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private body: UpstreamBody | null = null;
  private readonly onAbort = () => this.controller?.abort(new errors.RequestAbortedError());

  constructor(
    private readonly signal: Cancellation,
    private readonly resolve: (res: TransportResponse) => void,
    private readonly reject: (err: TransportError) => void,
  ) {
    // `on`, not `once` (a wrapper per request): a Cancellation emits 'abort' at most once, and the end removes it.
    signal.on('abort', this.onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client may have left between dispatch and the connection.
    if (this.signal.aborted) controller.abort(new errors.RequestAbortedError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    this.body = new UpstreamBody(controller);
    this.resolve({ status: statusCode, headers, body: this.body });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body?.push(chunk);
  }

  onResponseEnd(): void {
    this.signal.off('abort', this.onAbort);
    this.body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.signal.off('abort', this.onAbort);
    if (this.body === null) this.reject(toTransportError(err, this.signal));
    else this.body.fail(err);
  }
}
