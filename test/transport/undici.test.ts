// The undici transport against a real local server: answers, streamed bodies, timeouts, cancellation, backpressure.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancellation } from '../../src/transport/cancellation.js';
import { TransportError, undiciTransport } from '../../src/transport/undici.js';
import { BODY_HIGH_WATER_BYTES, UpstreamBody, WHOLE_BODY_LIMIT_BYTES } from '../../src/transport/upstream-body.js';
import { listen, readText, type Listening } from '../support/http.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function serve(handler: (res: ServerResponse, body: string) => void): Promise<Listening> {
  const l = await listen(async (req, res) => handler(res, await readText(req)));
  open.push(l);
  return l;
}
/** A provider that sends one event and leaves its stream open; `providerSawClose` resolves when the gateway hangs up. */
async function stalledStream() {
  let closed!: () => void;
  const providerSawClose = new Promise<void>((r) => (closed = r));
  const up = await serve((res) => {
    res.on('close', closed);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
  });
  return { up, providerSawClose };
}
function transport(timeouts: Parameters<typeof undiciTransport>[0] = {}) {
  const t = undiciTransport(timeouts);
  open.push(t);
  return t;
}
const request = (url: string, body = '{"hello":"world"}') => ({ url: `${url}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body });

describe('undiciTransport', () => {
  it('sends the request and answers with the status, the headers and the JSON body', async () => {
    let seen = '';
    const up = await serve((res, body) => {
      seen = body;
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req_1' });
      res.end('{"ok":true}');
    });
    const res = await transport()(request(up.url), new Cancellation());
    expect(res.status).toBe(201);
    expect(res.headers['x-request-id']).toBe('req_1');
    expect(await res.body.json()).toEqual({ ok: true });
    expect(seen).toBe('{"hello":"world"}');
  });

  it('reads a body far larger than its high-water mark whole, as text', async () => {
    const big = 'x'.repeat(BODY_HIGH_WATER_BYTES * 8);
    const up = await serve((res) => res.end(big));
    const res = await transport()(request(up.url), new Cancellation());
    expect(await res.body.text()).toBe(big);
  });

  it('refuses a body read whole past WHOLE_BODY_LIMIT_BYTES: the read fails and the provider sees the connection close', async () => {
    let closed!: () => void;
    const providerSawClose = new Promise<void>((r) => (closed = r));
    const piece = Buffer.alloc(1024 * 1024, 120);
    let written = 0;
    const up = await serve(async (res) => {
      res.on('close', closed);
      res.writeHead(200, { 'content-type': 'application/json' });
      // One MiB past the limit, sent as fast as the gateway reads it (a Content-Length would let undici refuse it early).
      while (written <= WHOLE_BODY_LIMIT_BYTES && !res.destroyed) {
        written += piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
      res.end();
    });
    const res = await transport()(request(up.url), new Cancellation());
    await expect(res.body.text()).rejects.toThrow(`larger than ${WHOLE_BODY_LIMIT_BYTES / 1024 / 1024} MiB`);
    await providerSawClose;
  });

  it('hands over streamed chunks in order as they arrive, and ends', async () => {
    const up = await serve(async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 5; i++) {
        res.write(`data: ${i}\n\n`);
        await sleep(20);
      }
      res.end();
    });
    const res = await transport()(request(up.url), new Cancellation());
    const reads: string[] = [];
    for await (const c of res.body) reads.push(Buffer.from(c).toString());
    expect(reads.join('')).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(''));
    expect(reads.length).toBeGreaterThan(1); // chunk by chunk, not the whole body at the end
  });

  it('refuses a second read of the same body', async () => {
    const up = await serve((res) => res.end('{}'));
    const res = await transport()(request(up.url), new Cancellation());
    await res.body.text();
    await expect(res.body.json()).rejects.toThrow(TypeError);
  });

  it('reports a refused connection as a connection fault', async () => {
    const up = await serve((res) => res.end());
    const url = up.url;
    await up.close();
    const err = await transport()(request(url), new Cancellation()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe('connection');
  });

  it('times out a provider that sends no headers within firstByteMs', async () => {
    const up = await serve(() => {}); // never answers
    const started = Date.now();
    const err = await transport({ firstByteMs: 200 })(request(up.url), new Cancellation()).catch((e: unknown) => e);
    expect((err as TransportError).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails the read of a body that goes silent for longer than idleMs', async () => {
    const up = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n'); // then nothing, connection left open
    });
    const res = await transport({ idleMs: 200 })(request(up.url), new Cancellation());
    const it = res.body[Symbol.asyncIterator]();
    expect(Buffer.from((await it.next()).value as Uint8Array).toString()).toBe('data: first\n\n');
    await expect(it.next()).rejects.toThrow(/timeout/i);
  });

  it('cancels before the answer: rejects as aborted and the provider sees the connection close', async () => {
    let closed!: () => void;
    const providerSawClose = new Promise<void>((r) => (closed = r));
    const up = await serve((res) => res.on('close', closed));
    const signal = new Cancellation();
    const pending = transport()(request(up.url), signal);
    await sleep(50);
    signal.abort();
    const err = await pending.catch((e: unknown) => e);
    expect((err as TransportError).kind).toBe('aborted');
    await providerSawClose;
  });

  it('rejects at once when cancelled before it was sent, without a request', async () => {
    let requests = 0;
    const up = await serve((res) => {
      requests++;
      res.end();
    });
    const signal = new Cancellation();
    signal.abort();
    const err = await transport()(request(up.url), signal).catch((e: unknown) => e);
    expect((err as TransportError).kind).toBe('aborted');
    await sleep(50);
    expect(requests).toBe(0);
  });

  it('cancels mid-body: the read fails and the provider sees the stream close', async () => {
    const { up, providerSawClose } = await stalledStream();
    const signal = new Cancellation();
    const res = await transport()(request(up.url), signal);
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    const next = it.next();
    signal.abort();
    await expect(next).rejects.toThrow();
    await providerSawClose;
  });

  it('a reader that stops early cancels the request, so the half-read connection is not reused', async () => {
    const { up, providerSawClose } = await stalledStream();
    const res = await transport()(request(up.url), new Cancellation());
    for await (const _ of res.body) break;
    await providerSawClose;
  });

  it('pauses the socket while the reader is behind, so a slow reader never buffers the whole body', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(1024 * 1024, 97);
    let flushedWhileIdle = -1;
    let written = 0;
    const up = await serve(async (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    });
    const res = await transport()(request(up.url), new Cancellation());
    const it = res.body[Symbol.asyncIterator]();
    let read = (await it.next()).value!.length; // one chunk, then the reader is busy elsewhere
    await sleep(300);
    flushedWhileIdle = written;
    for (let r = await it.next(); !r.done; r = await it.next()) read += r.value.length;
    // Without the pause the 64 MiB would be in the gateway's memory within those 300 ms (loopback moves GBs per second).
    expect(flushedWhileIdle).toBeLessThan(total / 2);
    expect(read).toBe(total); // and nothing is lost by pausing
  });

  it("keeps the caller's AsyncLocalStorage context across the answer and every read (a host's request logging relies on it)", async () => {
    const up = await serve(async (res) => {
      res.write('data: 1\n\n');
      await sleep(20);
      res.end('data: 2\n\n');
    });
    const als = new AsyncLocalStorage<string>();
    const t = transport();
    const seen = await Promise.all(
      ['a', 'b'].map((id) =>
        als.run(id, async () => {
          const stores: Array<string | undefined> = [];
          const res = await t(request(up.url), new Cancellation());
          stores.push(als.getStore());
          for await (const _ of res.body) stores.push(als.getStore());
          return stores;
        }),
      ),
    );
    expect(seen[0]!.every((s) => s === 'a')).toBe(true);
    expect(seen[1]!.every((s) => s === 'b')).toBe(true);
    expect(seen[0]!.length).toBeGreaterThan(2);
  });

  it('drops the rest of a body with dump() and serves the next request on the same connection', async () => {
    const sockets = new Set<unknown>();
    const up = await serve((res) => {
      sockets.add(res.socket);
      res.end('{"error":"ignored"}');
    });
    // undici reuses a connection only when the server keeps it open past its 2 s threshold (the helper says 1 s).
    up.server.keepAliveTimeout = 10_000;
    const t = transport({ connections: 1 });
    const first = await t(request(up.url), new Cancellation());
    await first.body.dump();
    const second = await t(request(up.url), new Cancellation());
    expect(await second.body.text()).toBe('{"error":"ignored"}');
    expect(sockets.size).toBe(1);
  });
});

describe('UpstreamBody', () => {
  // What undici's parser does to it, without a socket: the controller records pause and resume.
  const controller = () => {
    const c = { paused: false, aborted: false, rawHeaders: null, rawTrailers: null, reason: null as Error | null };
    return Object.assign(c, {
      pause: () => void (c.paused = true),
      resume: () => void (c.paused = false),
      abort: (reason: Error) => void ((c.aborted = true), (c.reason = reason)),
    });
  };

  it('hands over every chunk pushed since the last read as one piece (one socket read is many HTTP chunks)', async () => {
    const c = controller();
    const body = new UpstreamBody(c);
    const it = body[Symbol.asyncIterator]();
    const first = it.next();
    for (const s of ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']) body.push(Buffer.from(s));
    // The waiting read wakes after the parser's callbacks for the whole socket read are done.
    expect(Buffer.from((await first).value as Uint8Array).toString()).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    body.push(Buffer.from('data: 4\n\n'));
    body.push(Buffer.from('data: 5\n\n'));
    body.end();
    expect(Buffer.from((await it.next()).value as Uint8Array).toString()).toBe('data: 4\n\ndata: 5\n\n');
    expect((await it.next()).done).toBe(true);
  });

  it('pauses at the high-water mark and resumes once the reader took the bytes', async () => {
    const c = controller();
    const body = new UpstreamBody(c);
    const it = body[Symbol.asyncIterator]();
    body.push(Buffer.alloc(BODY_HIGH_WATER_BYTES - 1));
    expect(c.paused).toBe(false);
    body.push(Buffer.alloc(1));
    expect(c.paused).toBe(true);
    expect(((await it.next()).value as Uint8Array).length).toBe(BODY_HIGH_WATER_BYTES);
    expect(c.paused).toBe(false);
  });

  it('fails the waiting read with the transport\'s error, after the bytes that came before it', async () => {
    const body = new UpstreamBody(controller());
    const it = body[Symbol.asyncIterator]();
    body.push(Buffer.from('partial'));
    body.fail(new Error('socket hang up'));
    expect(Buffer.from((await it.next()).value as Uint8Array).toString()).toBe('partial');
    await expect(it.next()).rejects.toThrow('socket hang up');
  });
});
