// Reads a JSON request body with a hard size limit, without trusting Content-Length alone.
import type { Readable } from 'node:stream';
import { clientClosed, invalidRequest, requestTooLarge } from '../core/errors.js';

/**
 * Reads and parses a JSON body of at most `limit` bytes; 413 when larger, 400 when not JSON, 499 when the client goes
 * away first. Listeners rather than `for await`: Node's async iterator costs a few µs on every request (a promise per
 * read, an end-of-stream watcher, destroying the request once read), and every request has a body to read.
 */
export function readJsonBody(stream: Readable, contentLength: string | undefined, limit: number): Promise<unknown> {
  if (contentLength !== undefined && Number(contentLength) > limit) {
    stream.resume(); // drain so the socket can answer
    return Promise.reject(requestTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onGone);
      stream.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        stream.resume(); // drain the rest so the socket can answer
        reject(requestTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      try {
        resolve(parseJson(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    };
    // A request stream errors or closes before its end only when the client went away (or the socket failed).
    const onGone = () => {
      stop();
      reject(clientClosed());
    };
    if (stream.readableEnded) return onEnd();
    if (stream.destroyed) return onGone();
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onGone);
    stream.on('close', onGone);
  });
}

/** JSON.parse with the SPEC's 400 on malformed input. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') throw invalidRequest('The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
}
