// PostgreSQL adapter: the key, spend and usage contracts against a real PostgreSQL, plus migrations and the Redis mix.
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import Koa from 'koa';
import pg from 'pg';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  postgresKeyStore, postgresSpendStore, postgresStorage, postgresUsageStore, SCHEMA_VERSION, type PostgresStorage,
} from '../../src/adapters/postgres/index.js';
import { redisSpendStore } from '../../src/adapters/redis/index.js';
import { createTokenHub } from '../../src/create.js';
import type { Micros } from '../../src/core/money.js';
import { monthOf } from '../../src/core/month.js';
import type { Reservation } from '../../src/ports/spend.js';
import type { Storage } from '../../src/ports/storage.js';
import { keyStoreContract } from '../contracts/keys.contract.js';
import { spendStoreContract } from '../contracts/spend.contract.js';
import { usageStoreContract } from '../contracts/usage.contract.js';
import { usageAnalyticsContract } from '../contracts/usage-analytics.contract.js';
import { usageRecord } from '../contracts/support.js';
import { monthsAgo, pruneScenario } from './spend-prune.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const m = (n: number) => n as Micros;

// One schema for this file (dropped at the end); each contract test starts from truncated tables.
const SCHEMA = `tokenhub_test_${randomUUID().replaceAll('-', '')}`;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const storage = postgresStorage({ pool }, { schema: SCHEMA });
/** Schemas other tests create; dropped with the file's own. */
const extraSchemas: string[] = [];

beforeAll(async () => {
  await storage.migrate();
});
afterAll(async () => {
  for (const s of [SCHEMA, ...extraSchemas]) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await pool.end();
});

async function emptied(): Promise<PostgresStorage> {
  await pool.query(`TRUNCATE "${SCHEMA}".tokenhub_keys, "${SCHEMA}".tokenhub_spend_ledger, "${SCHEMA}".tokenhub_spend_reservations, "${SCHEMA}".tokenhub_usage`);
  return storage;
}
const noop = async () => {};

keyStoreContract('postgresKeyStore', async () => ({ store: (await emptied()).keys, close: noop }));
spendStoreContract('postgresSpendStore', async () => ({ store: (await emptied()).spend, close: noop }));
usageStoreContract('postgresUsageStore', async () => ({ store: (await emptied()).usage, close: noop }));
usageAnalyticsContract('postgresUsageStore', async () => ({ store: (await emptied()).usage, close: noop }));

describe('postgres schema', () => {
  const freshSchema = () => {
    const s = `tokenhub_test_${randomUUID().replaceAll('-', '')}`;
    extraSchemas.push(s);
    return s;
  };

  it('creates its schema and tables once when two instances start at the same time', async () => {
    const schema = freshSchema();
    const other = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const a = postgresStorage({ pool }, { schema });
      const b = postgresStorage({ pool: other }, { schema });
      await Promise.all([a.migrate(), b.migrate(), a.keys.list(), b.usage.aggregate({})]);
      const versions = await pool.query(`SELECT version FROM "${schema}".tokenhub_migrations ORDER BY version`);
      expect(versions.rows.map((r: { version: number }) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await other.end();
    }
  });

  it('keeps data across restarts: a new adapter on the same schema migrates nothing and sees the rows', async () => {
    const schema = freshSchema();
    const first = postgresStorage({ connectionString: DATABASE_URL }, { schema });
    await first.usage.insert([usageRecord({ id: 'u1' })]);
    await first.close();
    const second = postgresStorage({ connectionString: DATABASE_URL }, { schema });
    expect(await second.usage.get('u1')).toEqual(usageRecord({ id: 'u1' }));
    const versions = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".tokenhub_migrations`);
    expect(versions.rows[0]).toEqual({ n: SCHEMA_VERSION });
    await second.close();
  });

  it('keeps apps apart by table prefix in one schema', async () => {
    const schema = freshSchema();
    const a = postgresUsageStore({ pool }, { schema, tablePrefix: 'app_a_' });
    const b = postgresUsageStore({ pool }, { schema, tablePrefix: 'app_b_' });
    await a.insert([usageRecord({ id: 'u1' })]);
    expect(await b.get('u1')).toBeNull();
    expect((await a.aggregate({})).totals.requests).toBe(1);
    expect((await b.aggregate({})).totals.requests).toBe(0);
  });

  it('indexes usage by time, and by key, model and provider with time, for the admin queries', async () => {
    const res = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tokenhub_usage'`, [SCHEMA]);
    const columns = res.rows.map((r) => r.indexdef.slice(r.indexdef.lastIndexOf('(')));
    expect(columns).toEqual(expect.arrayContaining(['(id)', '(\"time\")', '(key_id, \"time\")', '(model, \"time\")', '(provider, \"time\")']));
  });

  it('refuses a schema or prefix that is not a plain identifier when built, not on the first query', () => {
    expect(() => postgresStorage({ pool }, { schema: 'x"; DROP TABLE y; --' })).toThrow(/schema/);
    expect(() => postgresKeyStore({ pool }, { tablePrefix: 'a-b' })).toThrow(/tablePrefix/);
  });

  it('leaves the host pool open on close(), and ends a pool it opened itself', async () => {
    await storage.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const own = postgresKeyStore({ connectionString: DATABASE_URL }, { schema: SCHEMA });
    await own.list();
    await own.close();
    await expect(own.list()).rejects.toThrow();
  });

  it('rejects at once, and recovers, when the database cannot be reached', async () => {
    const down = postgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:1/test' }, { schema: freshSchema() });
    const started = Date.now();
    await expect(down.migrate()).rejects.toThrow();
    await expect(down.keys.get('k')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    await down.close();
  });

  it('rejects within its connection timeout when the server accepts and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const down = postgresStorage({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, poolOptions: { connectionTimeoutMillis: 300 } });
    const started = Date.now();
    await expect(down.spend.ledger('key_a', '2026-01')).rejects.toThrow(/timeout/i);
    expect(Date.now() - started).toBeLessThan(1_500);
    await down.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

describe('postgres spend across instances', () => {
  it('holds one cap across two pools: 200 concurrent reservations, never over the limit, each settled once', async () => {
    const store = (await emptied()).spend;
    const other = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
    try {
      const second = postgresStorage({ pool: other }, { schema: SCHEMA }).spend;
      const holds = Array.from({ length: 200 }, (_, i): Reservation => ({ requestId: `r${i}`, keyId: 'key_a', month: '2026-03', amount: m(13) }));
      const results = await Promise.all(holds.map((r, i) => (i % 2 === 0 ? store : second).reserve(r, m(1_000))));
      expect(results.filter((x) => x.ok)).toHaveLength(76); // floor(1000 / 13)
      await Promise.all(holds.flatMap((r) => [store.settle(r, m(10)), second.settle(r, m(10))]));
      expect(await second.ledger('key_a', '2026-03')).toEqual({ spent: 760, reserved: 0 });
    } finally {
      await other.end();
    }
  });

  it('keeps amounts beyond 2^31 exact (bigint columns come back as strings)', async () => {
    const store = (await emptied()).spend;
    const big = 9_000_000_000_123;
    const r: Reservation = { requestId: 'r1', keyId: 'key_a', month: '2026-01', amount: m(big) };
    expect(await store.reserve(r, m(big))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: big } });
    expect(await store.settle(r, m(big - 1))).toEqual({ settled: true, ledger: { spent: big - 1, reserved: 0 } });
  });
});

describe('mixed storage: spend in Redis, keys and usage in PostgreSQL', () => {
  it('serves the admin API with keys from PostgreSQL and this month\'s spend from Redis', async () => {
    const base = await emptied();
    const redis = new Redis(REDIS_URL);
    const prefix = `tokenhub-test:${randomUUID()}:`;
    const spend = redisSpendStore({ client: redis }, { prefix });
    const mixed: Storage = { keys: base.keys, spend, usage: base.usage };
    const hub = createTokenHub({ storage: mixed, adminToken: 'admin-token-for-tests-0123456789', logger: { info() {}, warn() {}, error() {} } });
    const app = new Koa().use(hub.adminRoutes());
    const admin = (r: request.Test) => r.set('authorization', 'Bearer admin-token-for-tests-0123456789');
    try {
      const created = await admin(request(app.callback()).post('/admin/keys')).send({ name: 'mix', monthlyLimitUsd: 2 });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect((await base.keys.get(id))?.monthlyLimit).toBe(2_000_000);

      const month = monthOf(Date.now());
      const r: Reservation = { requestId: 'req-1', keyId: id, month, amount: m(900_000) };
      expect((await spend.reserve(r, m(2_000_000))).ok).toBe(true);
      await spend.settle(r, m(750_000));
      await mixed.usage.insert([usageRecord({ id: 'req-1', keyId: id, time: Date.now(), cost: m(750_000) })]);

      const keys = await admin(request(app.callback()).get('/admin/keys'));
      expect(keys.body.data).toEqual([expect.objectContaining({ id, name: 'mix', monthlyLimitUsd: 2, monthSpendUsd: 0.75 })]);
      const usage = await admin(request(app.callback()).get('/admin/usage').query({ groupBy: 'key' }));
      expect(usage.body.rows).toEqual([expect.objectContaining({ group: id, requests: 1, costUsd: 0.75 })]);
      expect(await redis.exists(`${prefix}{${id}}:${month}`)).toBe(1);
    } finally {
      await hub.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('postgres settled reservations pruning', () => {
  const ids = async () =>
    (await pool.query<{ request_id: string }>(`SELECT request_id FROM "${SCHEMA}".tokenhub_spend_reservations ORDER BY request_id`)).rows.map((r) => r.request_id);
  const hold = (requestId: string, month: string): Reservation => ({ requestId, keyId: 'key_t', month, amount: m(10) });
  const settled = async (requestId: string, month: string) => {
    await storage.spend.reserve(hold(requestId, month), null);
    await storage.spend.settle(hold(requestId, month), m(5));
  };

  it('keeps open reservations and those of this and the previous month, deletes older settled ones, moves no ledger', async () => {
    const { spend } = await emptied();
    await pruneScenario({ store: spend, reservationIds: ids });
  });

  it('prunes when a store is built, then on its timer; pruneIntervalMs 0 does neither', async () => {
    await emptied();
    await settled('old', monthsAgo(2));
    await settled('recent', monthsAgo(1));

    const off = postgresSpendStore({ pool }, { schema: SCHEMA, pruneIntervalMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await ids()).toEqual(['old', 'recent']);
    await off.close();

    // An hour between runs: what goes now goes because the store was built.
    const built = postgresSpendStore({ pool }, { schema: SCHEMA, pruneIntervalMs: 3_600_000 });
    await vi.waitFor(async () => expect(await ids()).toEqual(['recent']));
    await built.close();

    const timed = postgresSpendStore({ pool }, { schema: SCHEMA, pruneIntervalMs: 100 });
    try {
      await vi.waitFor(async () => expect(await ids()).toEqual(['recent'])); // its first run is over
      await settled('older', monthsAgo(3));
      expect(await ids()).toEqual(['older', 'recent']);
      await vi.waitFor(async () => expect(await ids()).toEqual(['recent']), { timeout: 2_000 });
      expect(await storage.spend.ledger('key_t', monthsAgo(3))).toEqual({ spent: 5, reserved: 0 });
    } finally {
      await timed.close();
    }
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // the host pool stays open
  });

  it('two instances pruning a backlog of several batches at once delete each row once, and leave open ones', async () => {
    await emptied();
    await pool.query(`INSERT INTO "${SCHEMA}".tokenhub_spend_ledger (key_id, month, spent, reserved) VALUES ('key_b', '2020-01', 250000, 7)`);
    await pool.query(`
      INSERT INTO "${SCHEMA}".tokenhub_spend_reservations (request_id, key_id, month, amount, settled, actual)
      SELECT 'b' || x, 'key_b', '2020-01', 10, true, 10 FROM generate_series(1, 25000) x`);
    await pool.query(`INSERT INTO "${SCHEMA}".tokenhub_spend_reservations (request_id, key_id, month, amount) VALUES ('b-open', 'key_b', '2020-01', 7)`);
    const other = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const a = postgresSpendStore({ pool }, { schema: SCHEMA, pruneIntervalMs: 0 });
      const b = postgresSpendStore({ pool: other }, { schema: SCHEMA, pruneIntervalMs: 0 });
      const counts = await Promise.all([a.prune(), b.prune()]);
      expect(counts[0] + counts[1]).toBe(25_000);
      expect(await ids()).toEqual(['b-open']);
      expect(await a.ledger('key_b', '2020-01')).toEqual({ spent: 250_000, reserved: 7 });
    } finally {
      await other.end();
    }
  });

  it('finds old settled months through a partial index', async () => {
    const res = await pool.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tokenhub_spend_reservations'`, [SCHEMA]);
    expect(res.rows.map((r) => r.indexdef.slice(r.indexdef.indexOf(' USING ')))).toContain(' USING btree (month) WHERE settled');
  });

  it('rejects a pruneIntervalMs that is not a whole, non-negative number when built', () => {
    expect(() => postgresStorage({ pool }, { schema: SCHEMA, pruneIntervalMs: -1 })).toThrow(/pruneIntervalMs/);
    expect(() => postgresSpendStore({ pool }, { schema: SCHEMA, pruneIntervalMs: 0.5 })).toThrow(/pruneIntervalMs/);
  });
});
