// readJsonBody over real sockets: bodies in pieces, the limit with and without Content-Length, clients that leave.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonBody } from '../../src/hub/body.js';
import { HubError } from '../../src/core/errors.js';

const LIMIT = 1_000;
let server: Server;
let port: number;
/** What readJsonBody made of each request, in arrival order. */
const outcomes: Array<Promise<unknown>> = [];
const nextOutcome = async () => {
  while (outcomes.length === 0) await new Promise((r) => setTimeout(r, 5));
  return outcomes.shift()!;
};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const read = readJsonBody(req, req.headers['content-length'], LIMIT);
    outcomes.push(read);
    read.then(
      (body) => res.end(JSON.stringify(body)),
      (err: HubError) => {
        res.statusCode = err.status;
        res.end(err.code ?? '');
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends raw HTTP/1.1 in pieces, a few ms apart; resolves to the status line (or '' when the server said nothing). */
async function raw(pieces: Array<string | Buffer>, { leave = false } = {}): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  const ended = new Promise((r) => socket.once('close', r));
  for (const p of pieces) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (leave) {
    socket.destroy();
    return '';
  }
  socket.end();
  await ended;
  return answer.split('\r\n')[0] ?? '';
}

const head = (extra: string) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${extra}\r\n`;

describe('readJsonBody', () => {
  it('parses a body that arrives in several pieces, chunked or with a length, characters split across pieces', async () => {
    const body = JSON.stringify({ text: 'héllo 日本語 🎉' });
    const bytes = Buffer.from(body);
    // Byte 11 is the second of é's two.
    const half = bytes.subarray(0, 11);
    const rest = bytes.subarray(11);
    expect(await raw([head(`Content-Length: ${bytes.length}\r\n`), half, rest])).toBe('HTTP/1.1 200 OK');
    expect(await nextOutcome()).toEqual({ text: 'héllo 日本語 🎉' });
    const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
    expect(await raw([head('Transfer-Encoding: chunked\r\n'), chunk(half), chunk(rest), '0\r\n\r\n'])).toBe('HTTP/1.1 200 OK');
    expect(await nextOutcome()).toEqual({ text: 'héllo 日本語 🎉' });
  });

  it('413 by Content-Length before reading, and by counting when the length is not given', async () => {
    expect(await raw([head(`Content-Length: ${LIMIT + 1}\r\n`), 'x'.repeat(LIMIT + 1)])).toBe('HTTP/1.1 413 Payload Too Large');
    await expect(nextOutcome()).rejects.toMatchObject({ status: 413, code: 'request_too_large' });
    const big = `{"a":"${'x'.repeat(LIMIT)}"}`;
    expect(await raw([head('Transfer-Encoding: chunked\r\n'), `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`])).toBe('HTTP/1.1 413 Payload Too Large');
    await expect(nextOutcome()).rejects.toMatchObject({ status: 413, code: 'request_too_large' });
  });

  it('400 for an empty body and for one that is not JSON', async () => {
    expect(await raw([head('Content-Length: 0\r\n')])).toBe('HTTP/1.1 400 Bad Request');
    await expect(nextOutcome()).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/empty/) });
    expect(await raw([head('Content-Length: 5\r\n'), '{"a":'])).toBe('HTTP/1.1 400 Bad Request');
    await expect(nextOutcome()).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/not valid JSON/) });
  });

  it('499 client_closed, not a hang or an unexpected error, when the client leaves mid-body', async () => {
    await raw([head('Content-Length: 100\r\n'), '{"a":'], { leave: true });
    const outcome = nextOutcome();
    await expect(outcome).rejects.toBeInstanceOf(HubError);
    await expect(outcome).rejects.toMatchObject({ status: 499, code: 'client_closed' });
  });
});
