// SQLite group commit: the reserves and settles of one event-loop turn share one transaction, each isolated in a savepoint.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../support/temp-files.js';
import { sqliteSpendStore, sqliteStorage } from '../../src/adapters/sqlite/index.js';
import { LINGER_MS } from '../../src/adapters/sqlite/group-commit.js';
import type { Micros } from '../../src/core/money.js';
import type { Reservation } from '../../src/ports/spend.js';

const m = (n: number) => n as Micros;
const JAN = '2026-01';
let seq = 0;
const hold = (amount: number, keyId = 'key_g'): Reservation => ({ requestId: `g-${++seq}`, keyId, month: JAN, amount: m(amount) });

const freshPath = tempFiles('tokenhub-group-commit').fresh;

/** A file in WAL mode opened as a host would, with the spend store on it (no pruning). */
function hosted(timeout = 5_000) {
  const path = freshPath();
  const db = new Database(path, { timeout });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return { path, db, store: sqliteSpendStore(db, { pruneIntervalMs: 0 }) };
}

/** Result of every promise, without letting a rejection escape: the value, or the error's message. */
const outcomes = (ps: Promise<object>[]): Promise<Array<{ ok?: boolean; rejected?: string }>> =>
  Promise.allSettled(ps).then((rs) => rs.map((r) => (r.status === 'fulfilled' ? r.value : { rejected: String(r.reason) })));

describe('sqlite spend store group commit', () => {
  // Every commit appends at least one frame to the WAL, so frames written bound the number of commits from above.
  it('commits 100 reserves issued together in a handful of WAL frames, where 100 awaited one by one take at least 100', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    const frameBytes = 24 + pageSize(path);
    const frames = () => (statSync(`${path}-wal`).size - 32) / frameBytes;
    await storage.spend.reserve(hold(1), null); // the ledger row exists: what follows only updates and inserts

    const start = frames();
    const together = await Promise.all(Array.from({ length: 100 }, () => storage.spend.reserve(hold(1), null)));
    expect(together.every((r) => r.ok)).toBe(true);
    const batched = frames() - start;
    expect(batched).toBeLessThanOrEqual(10);

    const middle = frames();
    for (let i = 0; i < 100; i++) await storage.spend.reserve(hold(1), null);
    expect(frames() - middle).toBeGreaterThanOrEqual(100);

    expect(await storage.spend.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 201 });
    await storage.close();
  });

  it('lets a settle wait for the next reserve and commit with it; alone, it commits within LINGER_MS', async () => {
    const { db, store } = hosted();
    // Only setTimeout is faked: the linger's timer moves when the test says, setImmediate (the batches) runs as ever.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const a = hold(50);
      await store.reserve(a, null);
      // Alone: nothing commits it until the linger is over.
      let settled = false;
      const alone = store.settle(a, m(20)).then((r) => ((settled = true), r));
      await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false);
      expect(store.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 50 });
      await vi.advanceTimersByTimeAsync(LINGER_MS);
      expect(await alone).toMatchObject({ settled: true });
      expect(store.ledger('key_g', JAN)).toEqual({ spent: 20, reserved: 0 });

      // With a reserve after it (the next request): the reserve's batch carries it, the linger never fires.
      const b = hold(50);
      await store.reserve(b, null);
      let joined = false;
      const settling = store.settle(b, m(30)).then((r) => ((joined = true), r));
      expect(await store.reserve(hold(10), null)).toMatchObject({ ok: true, ledger: { spent: 50, reserved: 10 } });
      expect(joined).toBe(true);
      expect(await settling).toMatchObject({ settled: true, ledger: { spent: 50, reserved: 0 } });
    } finally {
      vi.useRealTimers();
      db.close();
    }
  });

  it('runs the steps of one batch in call order: each sees what the ones before it did', async () => {
    const { db, store } = hosted();
    const a = hold(600);
    const results = await Promise.all([
      store.reserve(a, m(1_000)),
      store.reserve(hold(500), m(1_000)), // 600 held: refused
      store.settle(a, m(100)),
      store.reserve(hold(800), m(1_000)), // 100 spent, nothing held: fits
      store.settle(a, m(100)), // already settled a step earlier
    ]);
    expect(results.map((r) => ('ok' in r ? r.ok : r.settled))).toEqual([true, false, true, true, false]);
    expect(results[3]).toMatchObject({ ledger: { spent: 100, reserved: 800 } });
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 100, reserved: 800 });
    db.close();
  });

  it('rejects a reused request id for its caller only; the rest of the batch commits', async () => {
    const { db, store } = hosted();
    const r = hold(100);
    const results = await outcomes([store.reserve(hold(10), null), store.reserve(r, null), store.reserve(r, null), store.reserve(hold(1), null)]);
    expect(results.map((x) => (x.rejected !== undefined ? 'rejected' : x.ok))).toEqual([true, true, 'rejected', true]);
    expect(results[2]).toEqual({ rejected: expect.stringMatching(/already reserved/) });
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 111 });
    db.close();
  });

  it('undoes only the failing step when a statement fails midway (its hold was already written)', async () => {
    const { db, store } = hosted();
    // Fails the reservation row's INSERT, after the step already added the amount to the month's reserved total.
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON tokenhub_reservations WHEN NEW.request_id = 'poison'
             BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`);
    const poison: Reservation = { requestId: 'poison', keyId: 'key_g', month: JAN, amount: m(5_000) };
    const before = hold(20);
    const after = hold(300);
    const results = await outcomes([store.reserve(before, null), store.reserve(poison, null), store.reserve(after, null), store.settle(before, m(7))]);
    expect(results[1]).toEqual({ rejected: expect.stringMatching(/refused by test trigger/) });
    expect(results[0]).toMatchObject({ ok: true, ledger: { reserved: 20 } });
    // The step after the failed one sees no trace of it.
    expect(results[2]).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 320 } });
    expect(results[3]).toEqual({ settled: true, ledger: { spent: 7, reserved: 300 } });
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 7, reserved: 300 });
    expect(db.prepare(`SELECT count(*) FROM tokenhub_reservations`).pluck().get()).toBe(2);
    db.close();
  });

  it('rejects every caller of a batch whose COMMIT fails, keeps nothing of it, and commits the next batch', async () => {
    const { db, store } = hosted();
    // A deferred foreign key is checked at COMMIT: the 'late' reservation makes the whole transaction fail there.
    db.exec(`CREATE TABLE orphan (x TEXT REFERENCES tokenhub_keys (id) DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER late AFTER INSERT ON tokenhub_reservations WHEN NEW.request_id = 'late'
             BEGIN INSERT INTO orphan VALUES ('no such key'); END`);
    const late: Reservation = { requestId: 'late', keyId: 'key_g', month: JAN, amount: m(50) };
    const results = await outcomes([store.reserve(hold(10), null), store.reserve(late, null), store.reserve(hold(30), null)]);
    expect(results).toEqual([0, 1, 2].map(() => ({ rejected: expect.stringMatching(/FOREIGN KEY/) })));
    expect(db.inTransaction).toBe(false);
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 0 });
    expect(db.prepare(`SELECT count(*) FROM tokenhub_reservations`).pluck().get()).toBe(0);

    expect((await store.reserve(hold(40), null)).ok).toBe(true);
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 40 });
    db.close();
  });

  it('rejects the whole batch when another process holds the write lock past the busy timeout, then recovers', async () => {
    const { path, db, store } = hosted(0);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const r = hold(70);
    const results = await outcomes([store.reserve(r, null), store.reserve(hold(1), null)]);
    expect(results).toEqual([0, 1].map(() => ({ rejected: expect.stringMatching(/locked|busy/i) })));
    other.exec('COMMIT');
    other.close();
    // The caller retries the same request id: nothing of the failed batch was kept, so it is not "already reserved".
    expect(await store.reserve(r, null)).toMatchObject({ ok: true, ledger: { reserved: 70 } });
    db.close();
  });

  it('commits what is still queued when the storage closes, before its file does', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    const pending = storage.spend.reserve(hold(90), null);
    await storage.close();
    expect(await pending).toMatchObject({ ok: true, ledger: { reserved: 90 } });
    const again = sqliteStorage({ path, pruneIntervalMs: 0, spendLeases: false });
    expect(again.spend.ledger('key_g', JAN)).toEqual({ spent: 0, reserved: 90 });
    await again.close();
  });

  it('writes each month ledger a batch touches once, however many of its requests the batch holds', async () => {
    const { db, store } = hosted();
    db.exec(`CREATE TABLE ledger_writes (key_id TEXT, month TEXT);
             CREATE TRIGGER count_ledger_writes AFTER UPDATE ON tokenhub_spend
             BEGIN INSERT INTO ledger_writes VALUES (NEW.key_id, NEW.month); END`);
    const feb = '2026-02';
    const first = Array.from({ length: 40 }, () => hold(10));
    await Promise.all(first.map((r) => store.reserve(r, m(1_000))));
    // One batch: 40 settles, 40 reserves of key_g (10 of them over the limit), and two ledgers of another key.
    const results = await Promise.all([
      ...first.map((r) => store.settle(r, m(3))),
      ...Array.from({ length: 40 }, () => store.reserve(hold(25), m(1_000))),
      store.reserve(hold(7, 'key_h'), null),
      store.reserve({ ...hold(9, 'key_h'), month: feb }, null),
    ]);
    // 120 spent, then 25 at a time while it fits: (1,000 − 120) / 25 = 35 admitted.
    expect(results.slice(40, 80).filter((r) => 'ok' in r && r.ok)).toHaveLength(35);
    expect(store.ledger('key_g', JAN)).toEqual({ spent: 120, reserved: 875 });
    expect(store.ledger('key_h', JAN)).toEqual({ spent: 0, reserved: 7 });
    expect(store.ledger('key_h', feb)).toEqual({ spent: 0, reserved: 9 });
    const writes = db.prepare(`SELECT key_id || ' ' || month AS ledger, count(*) AS n FROM ledger_writes GROUP BY 1 ORDER BY 1`).all();
    // The first batch wrote key_g's ledger once; the second once more, and each of key_h's once.
    expect(writes).toEqual([
      { ledger: 'key_g 2026-01', n: 2 },
      { ledger: 'key_h 2026-01', n: 1 },
      { ledger: 'key_h 2026-02', n: 1 },
    ]);
    db.close();
  });

  it('reads a ledger afresh in every batch: what another process committed in between counts', async () => {
    const { path, db, store } = hosted();
    const other = new Database(path, { timeout: 5_000 });
    other.pragma('foreign_keys = ON');
    const otherStore = sqliteSpendStore(other, { pruneIntervalMs: 0 });
    expect(await store.reserve(hold(400), m(1_000))).toMatchObject({ ok: true });
    expect(await otherStore.reserve(hold(500), m(1_000))).toMatchObject({ ok: true, ledger: { reserved: 900 } });
    // 900 held by the two processes together: 150 no longer fits, 100 does.
    expect(await store.reserve(hold(150), m(1_000))).toMatchObject({ ok: false, ledger: { reserved: 900 } });
    expect(await store.reserve(hold(100), m(1_000))).toMatchObject({ ok: true, ledger: { reserved: 1_000 } });
    otherStore.close();
    other.close();
    db.close();
  });

  it('answers from its own copy: a reservation object changed after the call does not change what is held', async () => {
    const { db, store } = hosted();
    const r = hold(25);
    const pending = store.reserve(r, null);
    r.amount = m(999_999);
    expect(await pending).toMatchObject({ ok: true, reservation: { amount: 25 }, ledger: { reserved: 25 } });
    db.close();
  });
});

function pageSize(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
}
