// Reads a JSON request body with a hard size limit, without trusting Content-Length alone.
import type { Readable } from 'node:stream';
import { invalidRequest, requestTooLarge } from '../core/errors.js';

/** Reads and parses a JSON body of at most `limit` bytes; 413 when larger, 400 when not JSON. */
export async function readJsonBody(stream: Readable, contentLength: string | undefined, limit: number): Promise<unknown> {
  if (contentLength !== undefined && Number(contentLength) > limit) {
    stream.resume(); // drain so the socket can answer
    throw requestTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.resume();
      throw requestTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return parseJson(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
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
