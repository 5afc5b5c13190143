// The SQLite adapter against the three port contracts, plus what only a file-backed store can show.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../support/temp-files.js';
import { SQLITE_SCHEMA_VERSION, sqliteKeyStore, sqliteSpendStore, sqliteStorage, sqliteUsageStore } from '../../src/adapters/sqlite/index.js';
import { pruneCutoff } from '../../src/adapters/sqlite/spend.js';
import type { Micros } from '../../src/core/money.js';
import type { Storage } from '../../src/ports/storage.js';
import { keyStoreContract } from '../contracts/keys.contract.js';
import { spendStoreContract } from '../contracts/spend.contract.js';
import { usageStoreContract } from '../contracts/usage.contract.js';
import { usageAnalyticsContract } from '../contracts/usage-analytics.contract.js';
import { generateUsage, usageRecord } from '../contracts/support.js';
import { monthsAgo, pruneScenario } from './spend-prune.js';

const temp = tempFiles('tokenhub-sqlite');
const freshPath = temp.fresh;

/** A new file per test, opened the way the server opens it. */
function fileStore<K extends keyof Storage & ('keys' | 'spend' | 'usage')>(part: K, spendLeases = true) {
  return async () => {
    const storage = sqliteStorage({ path: freshPath(), spendLeases });
    return { store: storage[part], close: async () => storage.close?.() };
  };
}

keyStoreContract('sqlite key store', fileStore('keys'));
spendStoreContract('sqlite spend store', fileStore('spend'));
spendStoreContract('sqlite spend store without leases', fileStore('spend', false));
usageStoreContract('sqlite usage store', fileStore('usage'));
usageAnalyticsContract('sqlite usage store', fileStore('usage'));

// The stores also run on a host's in-memory Database, which a host may pass instead of a path.
usageStoreContract('sqlite usage store on a host :memory: Database', async () => {
  const db = new Database(':memory:');
  return { store: sqliteUsageStore(db), close: async () => void db.close() };
});

const m = (n: number) => n as Micros;

describe('sqlite storage file', () => {
  it('keeps keys, spend (open and settled reservations) and usage across close and reopen', async () => {
    const path = freshPath();
    const key = {
      id: 'key_1', name: 'persisted', hash: 'ab'.repeat(32), monthlyLimit: m(1_000), allowedModels: ['economy'],
      disabled: false, createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null, settings: { labels: { team: 't' } },
    };
    const settled = { requestId: 'req_settled', keyId: 'key_1', month: '2026-01', amount: m(400) };
    const open = { requestId: 'req_open', keyId: 'key_1', month: '2026-01', amount: m(300) };
    const records = generateUsage(50, { seed: 3 });

    const first = sqliteStorage({ path });
    await first.keys.create(key);
    await first.spend.reserve(settled, m(1_000));
    await first.spend.settle(settled, m(250));
    await first.spend.reserve(open, m(1_000));
    await first.usage.insert(records);
    const before = await first.usage.aggregate({ groupBy: 'hour', sort: 'group_asc' });
    await first.close?.();

    const again = sqliteStorage({ path });
    expect(await again.keys.findByHash(key.hash)).toEqual(key);
    expect(await again.spend.ledger('key_1', '2026-01')).toEqual({ spent: 250, reserved: 300 });
    // Idempotency survives the restart: the settled id stays settled, the open one settles now.
    expect((await again.spend.settle(settled, m(250))).settled).toBe(false);
    expect(await again.spend.settle(open, m(100))).toEqual({ settled: true, ledger: { spent: 350, reserved: 0 } });
    expect(await again.usage.get(records[7]!.id)).toEqual(records[7]);
    expect(await again.usage.aggregate({ groupBy: 'hour', sort: 'group_asc' })).toEqual(before);
    await again.close?.();
  });

  it('migrates an empty file: creates the schema and sets user_version', async () => {
    const path = freshPath();
    writeFileSync(path, '');
    const storage = sqliteStorage({ path });
    await storage.usage.insert([usageRecord({ id: 'req_1' })]);
    await storage.close?.();

    const db = new Database(path, { readonly: true });
    expect(SQLITE_SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'tokenhub%' ORDER BY name`).pluck().all();
    expect(tables).toEqual(['tokenhub_keys', 'tokenhub_reservations', 'tokenhub_spend', 'tokenhub_usage']);
    db.close();
  });

  it('leaves an up-to-date file alone when opened again (nothing re-created, nothing lost)', async () => {
    const path = freshPath();
    const a = sqliteStorage({ path });
    await a.usage.insert([usageRecord({ id: 'req_1' })]);
    await a.close?.();
    const b = sqliteStorage({ path });
    expect((await b.usage.aggregate({})).totals.requests).toBe(1);
    await b.close?.();
  });

  it('drops the settled-months index of a version 2 file (settles no longer write it), keeping its rows', async () => {
    const path = freshPath();
    const first = sqliteStorage({ path, pruneIntervalMs: 0 });
    const r = { requestId: 'req_v2', keyId: 'key_v', month: '2026-11', amount: m(40) };
    await first.spend.reserve(r, null);
    await first.close();
    const db = new Database(path);
    db.exec(`CREATE INDEX tokenhub_reservations_settled_month ON tokenhub_reservations (month) WHERE settled = 1;
             PRAGMA user_version = 2;`);
    db.close();

    const again = sqliteStorage({ path, pruneIntervalMs: 0 });
    expect(await again.spend.settle(r, m(30))).toEqual({ settled: true, ledger: { spent: 30, reserved: 0 } });
    await again.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(check.prepare(`SELECT name FROM sqlite_schema WHERE name = 'tokenhub_reservations_settled_month'`).all()).toEqual([]);
    check.close();
  });

  it('refuses a file written by a newer schema version instead of guessing', () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => sqliteStorage({ path })).toThrow(/newer/);
  });

  it('creates the missing parent folders of its path', async () => {
    const path = temp.path('nested', 'deeper', 'tokenhub.db');
    const storage = sqliteStorage({ path });
    await storage.close?.();
    expect(existsSync(path)).toBe(true);
  });

  it('opens its file in WAL mode, so readers do not block the writer', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path });
    // A second connection sees the file-level setting (WAL is persistent in the file).
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await storage.close?.();
  });

  it('uses a host Database as it is and leaves it open on close', async () => {
    const db = new Database(':memory:');
    const storage = sqliteStorage({ database: db });
    await storage.keys.create({
      id: 'key_1', name: 'n', hash: 'cd'.repeat(32), monthlyLimit: null, allowedModels: null,
      disabled: false, createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null, settings: {},
    });
    await storage.close?.();
    expect(db.open).toBe(true);
    // The single-store factories share the same tables on the same Database.
    expect(await sqliteKeyStore(db).get('key_1')).toMatchObject({ name: 'n' });
    expect(await sqliteSpendStore(db).ledger('key_1', '2026-01')).toEqual({ spent: 0, reserved: 0 });
    db.close();
  });

  it('closes the file it opened, once, even if close is called again', async () => {
    const storage = sqliteStorage({ path: freshPath() });
    await storage.close?.();
    await storage.close?.();
    expect(() => storage.keys.list()).toThrow(/not open/);
  });

  it('rejects options that are neither a path nor a Database', () => {
    expect(() => sqliteStorage({} as never)).toThrow(/sqliteStorage/);
    expect(() => sqliteStorage({ path: '' })).toThrow(/path/);
    expect(() => sqliteStorage({ database: {} as never })).toThrow(/better-sqlite3 Database/);
    expect(() => sqliteStorage({ path: freshPath(), busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => sqliteStorage({ path: freshPath(), synchronous: 'off' as never })).toThrow(/synchronous/);
  });
});

describe('sqlite spend store shared by several processes', () => {
  const run = promisify(execFile);
  const adapterUrl = new URL('../../src/adapters/sqlite/index.ts', import.meta.url).href;
  // Each child opens the same file through the adapter and reserves as fast as it can, from a common start.
  const child = `
    const { sqliteStorage } = await import(process.env.ADAPTER_URL);
    const storage = sqliteStorage({ path: process.env.DB_PATH, spendLeases: process.env.LEASES === '1' });
    await new Promise((r) => setTimeout(r, Math.max(0, Number(process.env.START_AT) - Date.now())));
    let admitted = 0;
    // Ten at a time, so each process commits batches of reserves (group commit) while the others do the same.
    for (let i = 0; i < 1000; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) =>
        storage.spend.reserve({ requestId: process.env.NAME + '-' + (i + j), keyId: 'key_shared', month: '2026-01', amount: 7 }, 14003));
      for (const r of await Promise.all(batch)) if (r.ok) admitted++;
    }
    await storage.close();
    process.stdout.write(String(admitted));
  `;

  /** Four children race, each 1,000 attempts of 7 against 14,003; resolves to how many each admitted. */
  const race = async (path: string, leases: boolean) => {
    sqliteStorage({ path }).close?.(); // create the schema once, so the children race only on spend
    const startAt = Date.now() + 2_000;
    const outs = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((name) =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
          env: { ...process.env, ADAPTER_URL: adapterUrl, DB_PATH: path, START_AT: String(startAt), NAME: name, LEASES: leases ? '1' : '0' },
        }),
      ),
    );
    return outs.map((o) => Number(o.stdout)).reduce((a, b) => a + b, 0);
  };

  // The limit falls mid-race, and exactly 2,000 fit.
  it('four processes racing for one key admit exactly as much as the limit holds (without leases)', async () => {
    const path = freshPath();
    expect(await race(path, false)).toBe(2_000);
    const storage = sqliteStorage({ path });
    expect(await storage.spend.ledger('key_shared', '2026-01')).toEqual({ spent: 0, reserved: 14_000 });
    await storage.close?.();
  }, 30_000);

  // With leases a process may be refused while another still holds a spare part of its block: never over the limit,
  // at most a few requests short of it, and every admitted request held, in a row of its own once the children closed.
  it('four processes racing with leases never go over the limit and fall short of it by a few requests at most', async () => {
    const path = freshPath();
    const admitted = await race(path, true);
    expect(admitted).toBeLessThanOrEqual(2_000);
    // Near the cap each block's spare part is at most a quarter of the headroom beside it: a few requests of 7 each.
    expect(admitted).toBeGreaterThanOrEqual(1_980);
    const storage = sqliteStorage({ path });
    expect(await storage.spend.ledger('key_shared', '2026-01')).toEqual({ spent: 0, reserved: admitted * 7 });
    await storage.close?.();
    const db = new Database(path, { readonly: true });
    expect(db.prepare(`SELECT count(*) FROM tokenhub_reservations WHERE request_id LIKE 'lease%'`).pluck().get()).toBe(0);
    expect(db.prepare(`SELECT count(*) FROM tokenhub_reservations WHERE settled = 0`).pluck().get()).toBe(admitted);
    db.close();
  }, 30_000);
});

describe('sqlite settled reservations pruning', () => {
  const ids = (path: string) => () => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT request_id FROM tokenhub_reservations').pluck().all() as string[];
    } finally {
      db.close();
    }
  };
  const settledOld = (requestId: string, month: string) => ({ requestId, keyId: 'key_t', month, amount: m(10) });

  it('keeps open reservations and those of this and the previous month, deletes older settled ones, moves no ledger', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    await pruneScenario({ store: storage.spend, reservationIds: ids(path) });
    await storage.close();
  });

  it('counts months in UTC and across the turn of the year', () => {
    expect(pruneCutoff(Date.UTC(2027, 0, 1, 0, 0, 0))).toBe('2026-12');
    expect(pruneCutoff(Date.UTC(2026, 2, 31, 23, 59, 59, 999))).toBe('2026-02');
    expect(pruneCutoff(Date.UTC(2026, 3, 1))).toBe('2026-03');
  });

  it('prunes on open, then on its timer; pruneIntervalMs 0 does neither', async () => {
    const path = freshPath();
    const first = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    for (const [id, month] of [['old', monthsAgo(2)], ['recent', monthsAgo(1)]] as const) {
      await first.spend.reserve(settledOld(id, month), null);
      await first.spend.settle(settledOld(id, month), m(5));
    }
    await first.close();

    const off = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ids(path)().sort()).toEqual(['old', 'recent']);
    await off.close();

    // An hour between runs: what goes now goes because the store opened.
    const opened = sqliteStorage({ path, pruneIntervalMs: 3_600_000, spendLeases: false });
    await vi.waitFor(() => expect(ids(path)()).toEqual(['recent']));
    await opened.close();

    const timed = sqliteStorage({ path, pruneIntervalMs: 100, spendLeases: false });
    try {
      await timed.spend.reserve(settledOld('older', monthsAgo(3)), null);
      await timed.spend.settle(settledOld('older', monthsAgo(3)), m(5));
      expect(ids(path)().sort()).toEqual(['older', 'recent']);
      await vi.waitFor(() => expect(ids(path)()).toEqual(['recent']), { timeout: 2_000 });
      expect(await timed.spend.ledger('key_t', monthsAgo(3))).toEqual({ spent: 5, reserved: 0 });
    } finally {
      await timed.close();
    }
  });

  it('prunes a backlog larger than one batch', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    storage.close();
    // 4,500 settled reservations of an old month and one open one, written straight into the file.
    const db = new Database(path);
    db.exec(`
      INSERT INTO tokenhub_spend (key_id, month, spent, reserved) VALUES ('key_b', '2020-01', 45000, 7);
      WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4500)
      INSERT INTO tokenhub_reservations (request_id, key_id, month, amount, settled, actual) SELECT 'b' || x, 'key_b', '2020-01', 10, 1, 10 FROM n;
      INSERT INTO tokenhub_reservations (request_id, key_id, month, amount) VALUES ('b-open', 'key_b', '2020-01', 7);`);
    db.close();
    const again = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    expect(await again.spend.prune()).toBe(4_500);
    expect(ids(path)()).toEqual(['b-open']);
    expect(await again.spend.ledger('key_b', '2020-01')).toEqual({ spent: 45_000, reserved: 7 });
    await again.close();
  });

  it('rejects a pruneIntervalMs that is not a whole, non-negative number', () => {
    expect(() => sqliteStorage({ path: freshPath(), pruneIntervalMs: -1 })).toThrow(/pruneIntervalMs/);
    expect(() => sqliteSpendStore(new Database(':memory:'), { pruneIntervalMs: 1.5 })).toThrow(/pruneIntervalMs/);
  });
});
