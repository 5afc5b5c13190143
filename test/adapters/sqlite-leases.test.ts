// SQLite spend leases: a busy key's requests admitted in memory against a block held in the file, what the file shows,
// and what a crash, a failed transaction and a cost above the hold do.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../support/temp-files.js';
import { sqliteStorage } from '../../src/adapters/sqlite/index.js';
import { LEASE_FLUSH_MS } from '../../src/adapters/sqlite/spend-leases.js';
import type { Micros } from '../../src/core/money.js';
import type { Reservation } from '../../src/ports/spend.js';

const m = (n: number) => n as Micros;
const JAN = '2026-01';
let seq = 0;
const hold = (amount: number, keyId = 'key_l'): Reservation => ({ requestId: `l-${++seq}`, keyId, month: JAN, amount: m(amount) });

const freshPath = tempFiles('tokenhub-leases').fresh;

/** What another connection reads in the file: the month's row and the reservation rows. */
function fileView(path: string, keyId = 'key_l') {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare(`SELECT spent, reserved FROM tokenhub_spend WHERE key_id = ? AND month = ?`).get(keyId, JAN) as { spent: number; reserved: number } | undefined;
    const leases = db.prepare(`SELECT count(*) FROM tokenhub_reservations WHERE request_id LIKE 'lease%' AND settled = 0`).pluck().get() as number;
    const settled = db.prepare(`SELECT count(*) FROM tokenhub_reservations WHERE settled = 1`).pluck().get() as number;
    return { spent: row?.spent ?? 0, reserved: row?.reserved ?? 0, leases, settled };
  } finally {
    db.close();
  }
}

describe('sqlite spend leases', () => {
  it('admit 200 requests awaited one by one in a handful of transactions, where each takes its own without leases', async () => {
    const frames = async (spendLeases: boolean) => {
      const path = freshPath();
      // No checkpoints during the test: the WAL only grows, so its size counts the frames committed.
      const storage = sqliteStorage({ path, spendLeases, checkpointIntervalMs: 0, pruneIntervalMs: 0 });
      await storage.spend.reserve(hold(1), null);
      const start = statSync(`${path}-wal`).size;
      for (let i = 0; i < 200; i++) expect((await storage.spend.reserve(hold(1), null)).ok).toBe(true);
      const grew = statSync(`${path}-wal`).size - start;
      await storage.close();
      return grew / (24 + 4096);
    };
    expect(await frames(true)).toBeLessThanOrEqual(20);
    expect(await frames(false)).toBeGreaterThanOrEqual(200);
  });

  it('admit exactly up to the limit in one process: 142 of 7 against 1,000, one at a time, and refuse the 143rd', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const results = [];
    for (let i = 0; i < 143; i++) results.push(await storage.spend.reserve(hold(7), m(1_000)));
    expect(results.filter((r) => r.ok)).toHaveLength(142);
    expect(results[142]).toEqual({ ok: false, ledger: { spent: 0, reserved: 994 } });
    // The refusal gave the block's spare part back: the file holds exactly what is in flight.
    expect(fileView(path)).toMatchObject({ spent: 0, reserved: 994 });
    await storage.close();
  });

  it('refuse a request the block has room for once the cap is lowered below what is held', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    for (let i = 0; i < 3; i++) expect((await storage.spend.reserve(hold(100), m(100_000))).ok).toBe(true);
    expect(fileView(path).reserved).toBeGreaterThan(400); // the block has room for more
    // An admin lowers the key's cap to 250: 300 is held already, so nothing more fits, however much the block holds.
    expect(await storage.spend.reserve(hold(100), m(250))).toEqual({ ok: false, ledger: { spent: 0, reserved: 300 } });
    expect(fileView(path).reserved).toBe(300); // the refusal gave the block's spare part back
    await storage.close();
  });

  it(`move settled costs into the file at the next flush (every ${LEASE_FLUSH_MS} ms), with a row per request, and give a block back once a flush found it unused`, async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const rs = [hold(100), hold(100), hold(100)];
    for (const r of rs) await storage.spend.reserve(r, m(10_000));
    expect(fileView(path).reserved).toBeGreaterThanOrEqual(300); // the block, with room for more
    expect(fileView(path).leases).toBe(1);
    for (const [i, r] of rs.entries()) expect((await storage.spend.settle(r, m(10 * (i + 1)))).settled).toBe(true);
    // This process sees the settles at once; the file at the next flush (twice the interval allows a slow machine).
    expect(await storage.spend.ledger('key_l', JAN)).toEqual({ spent: 60, reserved: 0 });
    await vi.waitFor(() => expect(fileView(path)).toMatchObject({ spent: 60, settled: 3 }), { timeout: 2 * LEASE_FLUSH_MS, interval: 5 });
    // A flush that finds the block unused since the one before gives it back: at most two flushes on.
    await vi.waitFor(() => expect(fileView(path)).toEqual({ spent: 60, reserved: 0, leases: 0, settled: 3 }), { timeout: 3 * LEASE_FLUSH_MS, interval: 5 });
    // A settled id stays settled: a second settle changes nothing, in memory or in the file.
    expect(await storage.spend.settle(rs[0]!, m(999))).toEqual({ settled: false, ledger: { spent: 60, reserved: 0 } });
    await storage.close();
    expect(fileView(path)).toEqual({ spent: 60, reserved: 0, leases: 0, settled: 3 });
  });

  it('write a cost settled above what the block covers at once, not at the next flush', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const r = hold(10);
    await storage.spend.reserve(r, null);
    const block = fileView(path).reserved;
    await storage.spend.settle(r, m(block + 5_000));
    const started = Date.now();
    await vi.waitFor(() => expect(fileView(path).spent).toBe(block + 5_000), { timeout: LEASE_FLUSH_MS, interval: 2 });
    expect(Date.now() - started).toBeLessThan(LEASE_FLUSH_MS / 2);
    await storage.close();
  });

  it('leave every admitted request covered when the process dies: over-held, never under-held', async () => {
    const path = freshPath();
    sqliteStorage({ path }).close?.();
    const adapterUrl = new URL('../../src/adapters/sqlite/index.ts', import.meta.url).href;
    // 50 requests of 20 admitted, 30 of them settled at 15 each, then the process is killed before any flush.
    const child = `
      const { sqliteStorage } = await import(process.env.ADAPTER_URL);
      const storage = sqliteStorage({ path: process.env.DB_PATH });
      const rs = Array.from({ length: 50 }, (_, i) => ({ requestId: 'c-' + i, keyId: 'key_l', month: '${JAN}', amount: 20 }));
      for (const r of rs) if (!(await storage.spend.reserve(r, 100000)).ok) throw new Error('refused');
      for (const r of rs.slice(0, 30)) await storage.spend.settle(r, 15);
      process.kill(process.pid, 'SIGKILL');
    `;
    await expect(
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { env: { ...process.env, ADAPTER_URL: adapterUrl, DB_PATH: path } }),
    ).rejects.toMatchObject({ signal: 'SIGKILL' });
    const after = fileView(path);
    // What the requests cost or may still cost: 30 × 15 settled, 20 × 20 open.
    expect(after.spent + after.reserved).toBeGreaterThanOrEqual(30 * 15 + 20 * 20);
    expect(after.leases).toBe(1); // the dead process's block stays held
  });

  it('put memory back when a transaction fails: nothing held or charged that the file does not have', async () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const storage = sqliteStorage({ database: db, pruneIntervalMs: 0 });
    // The disk refuses the block's row: the reserve fails, and holds nothing.
    db.exec(`CREATE TRIGGER refuse_lease BEFORE INSERT ON tokenhub_reservations WHEN NEW.request_id LIKE 'lease%'
             BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    await expect(storage.spend.reserve(hold(50), m(1_000))).rejects.toThrow(/disk says no/);
    expect(await storage.spend.ledger('key_l', JAN)).toEqual({ spent: 0, reserved: 0 });
    db.exec(`DROP TRIGGER refuse_lease`);
    const r = hold(50);
    expect(await storage.spend.reserve(r, m(1_000))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 50 } });
    await storage.spend.settle(r, m(40));
    // Now the flush fails: the cost stays charged in memory, and reaches the file once the disk takes it.
    db.exec(`CREATE TRIGGER refuse_flush BEFORE UPDATE ON tokenhub_spend BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    await new Promise((res) => setTimeout(res, 3 * LEASE_FLUSH_MS));
    expect(await storage.spend.ledger('key_l', JAN)).toEqual({ spent: 40, reserved: 0 });
    expect(fileView(path).spent).toBe(0);
    db.exec(`DROP TRIGGER refuse_flush`);
    await vi.waitFor(() => expect(fileView(path)).toMatchObject({ spent: 40, reserved: 0 }), { timeout: 10 * LEASE_FLUSH_MS, interval: 10 });
    expect(await storage.spend.ledger('key_l', JAN)).toEqual({ spent: 40, reserved: 0 });
    await storage.close();
    db.close();
  });
});
