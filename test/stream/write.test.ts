// writeFrames: frames in order, and headers the binding did not flush still reach the client while the first frame is slow.
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADERS_WAIT_MS, writeFrames } from '../../src/stream/write.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let close: (() => void) | null = null;
afterEach(() => close?.());

/** Serves one SSE answer written by writeFrames, as the Koa binding does it (writeHead, no flush). */
async function serve(frames: () => AsyncGenerator<string, void, undefined>): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    void writeFrames(frames(), res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  close = () => server.close();
  return (server.address() as AddressInfo).port;
}

/** When the headers and the body chunks reached the client, in ms after the request went out. */
function fetchTimed(port: number): Promise<{ headersAt: number; chunks: Array<{ at: number; text: string }> }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res: IncomingMessage) => {
      const headersAt = performance.now() - t0;
      const chunks: Array<{ at: number; text: string }> = [];
      res.on('data', (c: Buffer) => chunks.push({ at: performance.now() - t0, text: c.toString() }));
      res.on('end', () => resolve({ headersAt, chunks }));
    })
      .on('error', reject)
      .end();
  });
}

describe('writeFrames', () => {
  it('sends every frame in order and ends the response', async () => {
    const port = await serve(async function* () {
      yield 'data: 1\n\n';
      yield 'data: 2\n\n';
      yield 'data: [DONE]\n\n';
    });
    const { chunks } = await fetchTimed(port);
    expect(chunks.map((c) => c.text).join('')).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
  });

  it('lets the client see the stream start while the first frame is slow to come', async () => {
    const port = await serve(async function* () {
      await sleep(400);
      yield 'data: late\n\n';
    });
    const { headersAt, chunks } = await fetchTimed(port);
    expect(chunks[0]!.at).toBeGreaterThan(350);
    expect(headersAt).toBeLessThan(HEADERS_WAIT_MS + 250);
  });
});
