// The SQLite analytics worker: heavy usage reads off the event loop, with the same answers as on the calling thread.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteStorage, sqliteUsageStore } from '../../src/adapters/sqlite/index.js';
import { workerReader } from '../../src/adapters/sqlite/reader.js';
import type { Micros } from '../../src/core/money.js';
import type { UsageQuery, UsageStore } from '../../src/ports/usage.js';
import { attempt, usageRecord } from '../contracts/support.js';

const ROWS = 200_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const MODELS = ['openai/gpt-4o', 'openai/gpt-4o-mini', 'anthropic/claude-3-5-sonnet', 'anthropic/claude-3-haiku', 'google/gemini-flash'];

let dir: string;
let path: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tokenhub-sqlite-worker-'));
  path = join(dir, 'usage.db');
  sqliteStorage({ path, pruneIntervalMs: 0 }).close(); // the schema, as the adapter writes it
  // Filled in SQL (a second or less) rather than through insert(): 200 keys, five models and failures, 90 days.
  const db = new Database(path);
  const models = MODELS.map((m) => `'${m}'`).join(', ');
  db.exec(`
    WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ${ROWS - 1}),
    r AS (SELECT x, CASE WHEN x % 20 = 0 THEN NULL ELSE json_extract(json_array(${models}), '$[' || (x * 7 % 5) || ']') END AS model FROM n)
    INSERT INTO tokenhub_usage (id, time, key_id, requested_model, model, provider, strategy, input_tokens, output_tokens, cost,
      estimated, latency_ms, ttfb_ms, status, streamed, error_code, attempts, providers_tried, tier, reason, warning,
      needs_tools, needs_images, needs_json, context_tokens)
    SELECT 'gen-' || x, ${START} + (x * 2654435761) % ${90 * DAY}, 'key_' || (x % 200), CASE WHEN x % 2 = 0 THEN 'auto' ELSE 'economy' END,
      model, CASE WHEN model IS NULL THEN NULL ELSE substr(model, 1, instr(model, '/') - 1) END, 'cost',
      (x * 31) % 4000, (x * 17) % 1500, (x * 7919) % 20000, 0, (x * 13) % 5000, (x * 11) % 800,
      CASE WHEN model IS NULL THEN 503 ELSE 200 END, x % 3 = 0, NULL, 1, '["openai"]', NULL, NULL, NULL,
      x % 5 = 0, x % 7 = 0, x % 11 = 0, 500 + (x * 37) % 100000
    FROM r`);
  db.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The largest gap between ticks of a 10 ms interval while `work` runs: how long the event loop was held. */
async function maxStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let max = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 10);
  try {
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = performance.now();
    await work();
    const now = performance.now();
    return Math.max(max, now - last);
  } finally {
    clearInterval(tick);
  }
}

/** The dashboard's heavy reads over every row. */
const heavy = (usage: UsageStore) =>
  Promise.all([
    usage.aggregate({ groupBy: 'key' }),
    usage.aggregate({ groupBy: 'day', tz: 'Europe/Paris', sort: 'group_asc' }),
    usage.series({}, { bucket: 'hour', splitBy: 'model' }),
    usage.heatmap({ tz: 'America/New_York' }),
    usage.wasteGroups({}),
  ]);

describe('sqlite analytics on a worker thread', () => {
  it('keeps the event loop ticking through heavy aggregates that stall it when run in-thread', async () => {
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const host = new Database(path, { readonly: true });
    try {
      // Warm, as after the dashboard's first load: the worker is up, pages are cached, and the zones' formatters
      // (built once per process on the calling thread, whatever the store) exist.
      await heavy(storage.usage);
      const inWorker = await maxStall(() => heavy(storage.usage));
      const inThread = await maxStall(async () => heavy(sqliteUsageStore(host)));
      // The in-thread run shows the workload is heavy enough for the bound to mean something.
      expect(inThread).toBeGreaterThan(100);
      expect(inWorker).toBeLessThan(100);
    } finally {
      host.close();
      await storage.close();
    }
  }, 30_000);

  it('answers exactly as the same queries on the calling thread', async () => {
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const host = new Database(path, { readonly: true });
    const inThread = sqliteUsageStore(host);
    const mid = START + 40 * DAY;
    const queries: UsageQuery[] = [
      {},
      { groupBy: 'model' },
      { groupBy: 'provider', sort: 'requests_desc' },
      { groupBy: 'key', limit: 7, sort: 'tokens_desc' },
      { groupBy: 'hour', from: mid, to: mid + 3 * DAY, sort: 'group_asc' },
      { groupBy: 'hourOfDay', tz: 'Asia/Kolkata', hourFrom: 22, hourTo: 3 },
      { groupBy: 'day', keyId: 'key_7', model: 'openai/gpt-4o-mini' },
    ];
    try {
      for (const q of queries) expect(await storage.usage.aggregate(q)).toEqual(inThread.aggregate(q));
      const q: UsageQuery = { from: mid, tz: 'Europe/Paris', provider: 'openai' };
      expect(await storage.usage.series(q, { bucket: 'day', splitBy: 'provider' })).toEqual(inThread.series(q, { bucket: 'day', splitBy: 'provider' }));
      expect(await storage.usage.heatmap(q)).toEqual(inThread.heatmap(q));
      const premium = { models: ['openai/gpt-4o', 'anthropic/claude-3-5-sonnet'] };
      expect(await storage.usage.wasteGroups({}, premium)).toEqual(inThread.wasteGroups({}, premium));
      expect((await storage.usage.aggregate({})).totals.requests).toBe(ROWS);
    } finally {
      host.close();
      await storage.close();
    }
  });
});

describe('sqlite analytics worker lifecycle', () => {
  it('sees every write committed before the read was asked', async () => {
    const storage = sqliteStorage({ path: join(dir, 'writes.db') });
    try {
      expect((await storage.usage.aggregate({})).totals.requests).toBe(0);
      for (let i = 1; i <= 3; i++) {
        storage.usage.insert([usageRecord({ id: `w${i}`, cost: 100 as Micros })]);
        expect((await storage.usage.aggregate({ groupBy: 'model' })).totals).toMatchObject({ requests: i, cost: 100 * i });
      }
    } finally {
      await storage.close();
    }
  });

  it('rejects the pending calls of a worker that dies, and starts a new one on the next call', async () => {
    const reader = workerReader({ path, busyTimeoutMs: 1_000, pragmas: [] });
    try {
      expect(await reader.all('SELECT count(*) AS n FROM tokenhub_usage', {})).toEqual([{ n: ROWS }]);
      const first = reader.worker!;
      // A read long enough to be cut off mid-way.
      const slow = reader.all('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT count(*) FROM c', {});
      await first.terminate();
      await expect(slow).rejects.toThrow(/analytics worker exited/);
      expect(reader.worker).toBeUndefined();
      expect(await reader.all('SELECT count(*) AS n FROM tokenhub_usage WHERE key_id = @k', { k: 'key_3' })).toEqual([{ n: ROWS / 200 }]);
      expect(reader.worker).not.toBe(first);
    } finally {
      await reader.close();
    }
  });

  it('answers an SQL error to its own call only, and cannot write', async () => {
    const reader = workerReader({ path, busyTimeoutMs: 1_000, pragmas: [] });
    try {
      await expect(reader.all('SELECT nope FROM tokenhub_usage', {})).rejects.toMatchObject({ code: 'SQLITE_ERROR', message: /no such column/ });
      const worker = reader.worker;
      await expect(reader.all(`DELETE FROM tokenhub_usage WHERE id = 'gen-1' RETURNING id`, {})).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
      expect(await reader.all(`SELECT count(*) AS n FROM tokenhub_usage WHERE id = 'gen-1'`, {})).toEqual([{ n: 1 }]);
      expect(reader.worker).toBe(worker);
    } finally {
      await reader.close();
    }
  });

  it('close() lets a read in progress finish, refuses later ones, and closes the writer last (the WAL is checkpointed away)', async () => {
    const file = join(dir, 'close.db');
    const storage = sqliteStorage({ path: file });
    storage.usage.insert([usageRecord({ id: 'c1' })]);
    const reading = storage.usage.aggregate({ groupBy: 'day' });
    const closing = storage.close();
    expect(closing).toBeInstanceOf(Promise);
    expect((await reading).totals.requests).toBe(1);
    await closing;
    await expect(attempt(() => storage.usage.aggregate({}))).rejects.toThrow(/not open/);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('answers on the calling thread for :memory: and for a host Database, and never starts a worker for them', async () => {
    const memory = sqliteStorage({ path: ':memory:' });
    const host = new Database(join(dir, 'host.db'));
    const hosted = sqliteStorage({ database: host });
    const file = sqliteStorage({ path: join(dir, 'file.db') });
    try {
      // A plain value, not a promise: the answer was computed before the call returned.
      expect(memory.usage.aggregate({})).toEqual({ rows: [], totals: { requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 } });
      expect(hosted.usage.heatmap({})).toEqual([]);
      expect(file.usage.heatmap({})).toBeInstanceOf(Promise);
    } finally {
      memory.close();
      hosted.close();
      host.close();
      await file.close();
    }
  });
});
