// Upstream HTTP over undici: keep-alive pools and explicit connect, first-byte and idle timeouts.
import { Agent, errors } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';
import type { Cancellation } from './cancellation.js';

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
  const send: Transport = async (req, signal) => {
    try {
      const { origin, path } = target(req.url);
      const res = await agent.request({ origin, path, method: 'POST', headers: req.headers, body: req.body, signal });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      throw toTransportError(err, signal);
    }
  };
  return Object.assign(send, { close: () => agent.close() });
}
