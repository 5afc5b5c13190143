// Redis spend store: the shared spend contract against a real Redis, plus expiry, shared caps and fail-fast faults.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { redisSpendStore } from '../../src/adapters/redis/index.js';
import type { Micros } from '../../src/core/money.js';
import { monthEnd, monthOf } from '../../src/core/month.js';
import type { Reservation } from '../../src/ports/spend.js';
import { spendStoreContract } from '../contracts/spend.contract.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY = 86_400_000;
const m = (n: number) => n as Micros;

const client = new Redis(REDIS_URL);
afterAll(async () => {
  await client.quit();
});

/** A prefix no other test (or test file running in parallel) writes under. */
const freshPrefix = () => `tokenhub-test:${randomUUID()}:`;

/** Deletes everything a test wrote under its prefix. */
async function dropPrefix(prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

/** A TCP server that accepts connections and never answers: a host that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

spendStoreContract('redisSpendStore', async () => {
  const prefix = freshPrefix();
  return { store: redisSpendStore({ client }, { prefix }), close: () => dropPrefix(prefix) };
});

describe('redisSpendStore beyond the contract', () => {
  const prefixes: string[] = [];
  const store = (prefix = freshPrefix()) => {
    prefixes.push(prefix);
    return redisSpendStore({ client }, { prefix });
  };
  afterEach(async () => {
    for (const p of prefixes.splice(0)) await dropPrefix(p);
  });

  it('keeps counters and reservations until 35 days after their month ends, then lets Redis drop them', async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    const month = monthOf(Date.now());
    await s.reserve({ requestId: 'r1', keyId: 'key_a', month, amount: m(10) }, m(100));
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    const expected = monthEnd(month) + 35 * DAY;
    for (const k of keys) {
      const at = await client.pexpiretime(k);
      expect(Math.abs(at - expected)).toBeLessThan(2_000);
    }
  });

  it('keeps a month that is already over for 35 days from now, instead of deleting it on the spot', async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2020-02', amount: m(10) };
    await s.reserve(r, m(100));
    expect(await s.ledger('key_a', '2020-02')).toEqual({ spent: 0, reserved: 10 });
    expect(await s.settle(r, m(4))).toEqual({ settled: true, ledger: { spent: 4, reserved: 0 } });
    for (const k of await client.keys(`${prefix}*`)) {
      const at = await client.pexpiretime(k);
      expect(Math.abs(at - (Date.now() + 35 * DAY))).toBeLessThan(5_000);
    }
  });

  it('holds one cap across instances: two clients, 200 concurrent reservations, never over the limit', async () => {
    const prefix = freshPrefix();
    const second = new Redis(REDIS_URL);
    try {
      const a = store(prefix);
      const b = redisSpendStore({ client: second }, { prefix });
      const holds = Array.from({ length: 200 }, (_, i): Reservation => ({ requestId: `r${i}`, keyId: 'key_a', month: '2026-03', amount: m(13) }));
      const results = await Promise.all(holds.map((r, i) => (i % 2 === 0 ? a : b).reserve(r, m(1_000))));
      expect(results.filter((x) => x.ok)).toHaveLength(76); // floor(1000 / 13)
      expect(await b.ledger('key_a', '2026-03')).toEqual({ spent: 0, reserved: 988 });
      // Each instance settles the other's reservations and its own again: each is charged once.
      await Promise.all(holds.flatMap((r) => [a.settle(r, m(10)), b.settle(r, m(10))]));
      expect(await a.ledger('key_a', '2026-03')).toEqual({ spent: 760, reserved: 0 });
    } finally {
      await second.quit();
    }
  });

  it('keeps amounts beyond 14 digits exact (Lua would print them in exponent form)', async () => {
    const s = store();
    const big = 123_456_789_012_345_6; // 16 digits, below 2^53
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(big) };
    expect(await s.reserve(r, m(big + 1))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: big } });
    expect(await s.reserve({ ...r, requestId: 'r2', amount: m(2) }, m(big + 1))).toEqual({ ok: false, ledger: { spent: 0, reserved: big } });
    expect(await s.settle(r, m(big - 7))).toEqual({ settled: true, ledger: { spent: big - 7, reserved: 0 } });
  });

  it('rejects fractional or negative micro-USD instead of writing them into a counter', async () => {
    const s = store();
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(1.5) };
    await expect(s.reserve(r, null)).rejects.toThrow(/integer/);
    await expect(s.reserve({ ...r, amount: m(-1) }, null)).rejects.toThrow(/integer/);
    await expect(s.reserve({ ...r, amount: m(1), month: '2026-1' }, null)).rejects.toThrow(/YYYY-MM/);
    expect(await s.ledger('key_a', '2026-01')).toEqual({ spent: 0, reserved: 0 });
  });

  it('reloads its scripts after Redis lost them (restart, failover)', async () => {
    const s = store();
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(5) };
    await s.reserve(r, null);
    await client.script('FLUSH');
    expect(await s.settle(r, m(3))).toEqual({ settled: true, ledger: { spent: 3, reserved: 0 } });
    await client.script('FLUSH');
    expect((await s.reserve({ ...r, requestId: 'r2' }, null)).ok).toBe(true);
  });

  it('leaves the host client open on close(), and quits a client it built from a URL', async () => {
    const prefix = freshPrefix();
    const own = redisSpendStore({ url: REDIS_URL }, { prefix });
    prefixes.push(prefix);
    await own.reserve({ requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(5) }, null);
    await own.close();
    await expect(own.ledger('key_a', '2026-01')).rejects.toThrow();

    const hosted = store(prefix);
    await hosted.close();
    expect(await client.ping()).toBe('PONG');
    expect(await hosted.ledger('key_a', '2026-01')).toEqual({ spent: 0, reserved: 5 });
  });
});

describe('redisSpendStore when Redis cannot be reached', () => {
  it('rejects reserve and settle at once when the host client does not queue offline', async () => {
    const down = new Redis({ port: await closedPort(), host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    down.on('error', () => {});
    const s = redisSpendStore({ client: down });
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(5) };
    const started = Date.now();
    await expect(s.reserve(r, m(100))).rejects.toThrow();
    await expect(s.settle(r, m(5))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
    down.disconnect();
  });

  it('rejects within a second with the client it builds from a URL (no 20 retries per command)', async () => {
    const s = redisSpendStore({ url: `redis://127.0.0.1:${await closedPort()}` });
    const started = Date.now();
    await expect(s.reserve({ requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(5) }, m(100))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await s.close();
  });

  it('rejects within its command timeout when the host accepts the connection and never answers', async () => {
    const silent = await silentServer();
    const s = redisSpendStore({ url: `redis://127.0.0.1:${silent.port}`, redisOptions: { commandTimeout: 300 } });
    const started = Date.now();
    await expect(s.reserve({ requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(5) }, m(100))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await s.close();
    await silent.close();
  });
});
