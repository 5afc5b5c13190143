// SQLite spend store: a ledger row per key and month, and a row per reservation that makes settling idempotent.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from 'better-sqlite3';
import type { Micros } from '../../core/money.js';
import { monthOf } from '../../core/month.js';
import type { MonthLedger, Reservation, ReserveResult, SettleResult, SpendStore } from '../../ports/spend.js';
import { groupCommit, type BatchHooks } from './group-commit.js';
import { migrate } from './schema.js';
import { spendLeases, type LeaseStorage } from './spend-leases.js';
import type { WalSync } from './wal-sync.js';

interface LedgerRow {
  spent: number;
  reserved: number;
}

/** A ledger row as a batch has it: read once, changed by the batch's steps, written back before COMMIT when dirty. */
interface CachedLedger extends LedgerRow {
  keyId: string;
  month: string;
  dirty: boolean;
}

const view = (l: LedgerRow | undefined): MonthLedger =>
  l === undefined ? { spent: 0 as Micros, reserved: 0 as Micros } : { spent: l.spent as Micros, reserved: l.reserved as Micros };

/** Default time between two prunes of settled reservations: 6 hours. */
export const DEFAULT_PRUNE_INTERVAL_MS = 6 * 3_600_000;
/** Reservation rows one prune statement walks: each holds the write lock for a millisecond or so. */
const PRUNE_SLICE = 2_000;

/** The oldest month whose settled reservations are kept: the calendar month (UTC) before the one of `now`. */
export function pruneCutoff(now: number): string {
  const d = new Date(now);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
}

export interface SqliteSpendOptions {
  /**
   * Milliseconds between two prunes of settled reservations (one also starts at once); 0 never prunes.
   * Default 6 hours. The timer is unref'd, so it never keeps the process alive.
   */
  pruneIntervalMs?: number;
  /**
   * Admit requests against a block of each busy key's month held in the file, in memory (see `spendLeases`): no
   * transaction per request. Default false here; `sqliteStorage` turns it on unless told otherwise.
   */
  leases?: boolean;
}

/** The SQLite spend store, plus its housekeeping. */
export interface SqliteSpendStore extends SpendStore {
  /**
   * Resolves once the batch it joined committed (group commit; see `sqliteSpendStore`); with leases, at once when the
   * key's lease has room.
   */
  reserve(reservation: Reservation, limit: Micros | null): Promise<ReserveResult>;
  /**
   * Resolves once the batch it joined committed: the next one a reserve starts, or its own within 5 ms (`LINGER_MS`);
   * a second settle of the same request id changes nothing. With leases, a request held under one is settled in
   * memory at once, and its cost reaches the row within `LEASE_FLUSH_MS`.
   */
  settle(reservation: Reservation, actual: Micros): Promise<SettleResult>;
  /** What is committed, read at once (with this process's leases: what it holds and settled in memory). */
  ledger(keyId: string, month: string): MonthLedger;
  /**
   * Deletes settled reservations of months before the previous calendar month (UTC) of `now` (default: the
   * current time), a slice of the table at a time, letting other work run between slices; resolves to how many. Open
   * reservations and the month ledgers are never touched.
   */
  prune(now?: number): Promise<number>;
  /**
   * Commits the reserves and settles still queued, then stops the prune timer and a prune it started; the Database
   * stays open (it is the caller's).
   */
  close(): void;
}

/**
 * Spend ledgers in the `tokenhub_spend` and `tokenhub_reservations` tables of a better-sqlite3 Database
 * the caller owns. Every reserve asked for during one event-loop turn runs in one `BEGIN IMMEDIATE` transaction
 * (group commit), with the settles queued since the last one (a settle waits up to 5 ms for a batch to join), one
 * after another, so each sees the ones before it, and one that throws undoes only itself; each promise settles after
 * COMMIT (and the WAL sync the `synchronous` mode waits for), and if the batch cannot commit, all of its callers get
 * the error. The write lock is taken before any ledger is read, so processes sharing the file can never both admit
 * against the same headroom; a batch reads each month ledger it touches once and writes it back once, before COMMIT.
 * `ledger()` answers at once from what is committed.
 * Settled reservations make a repeated settle a no-op; they are kept for the current and the previous month,
 * and older ones are pruned at construction and then every `pruneIntervalMs` (default 6 h). A settle that comes
 * for a pruned request id changes nothing and reports `settled: false`, as for an id never reserved: by then
 * it is a duplicate at least a month late.
 *
 * With `leases`, a busy key's requests are admitted against a block of its month instead, in memory, and only the
 * block's changes and the settled requests' rows go through the group commit (see `spendLeases`).
 */
export function sqliteSpendStore(
  db: Database,
  { pruneIntervalMs = DEFAULT_PRUNE_INTERVAL_MS, leases: leased = false }: SqliteSpendOptions = {},
  sync?: WalSync,
): SqliteSpendStore {
  if (!Number.isSafeInteger(pruneIntervalMs) || pruneIntervalMs < 0) {
    throw new TypeError(`pruneIntervalMs must be a non-negative integer of milliseconds, got ${pruneIntervalMs}`);
  }
  migrate(db);
  const openLedger = db.prepare<[string, string]>(`INSERT INTO tokenhub_spend (key_id, month) VALUES (?, ?) ON CONFLICT DO NOTHING`);
  // The limit check and the hold are one statement: no row comes back when the amount does not fit.
  const hold = db.prepare<{ keyId: string; month: string; amount: number; limit: number | null }, LedgerRow>(
    `UPDATE tokenhub_spend SET reserved = reserved + @amount
     WHERE key_id = @keyId AND month = @month AND (@limit IS NULL OR spent + reserved + @amount <= @limit)
     RETURNING spent, reserved`,
  );
  const remember = db.prepare<[string, string, string, number]>(
    `INSERT INTO tokenhub_reservations (request_id, key_id, month, amount) VALUES (?, ?, ?, ?)`,
  );
  const read = db.prepare<[string, string], LedgerRow>(`SELECT spent, reserved FROM tokenhub_spend WHERE key_id = ? AND month = ?`);
  // Only an open reservation flips to settled; the row that comes back says what was held, and where.
  const closeHold = db.prepare<[number, string], { key_id: string; month: string; amount: number }>(
    `UPDATE tokenhub_reservations SET settled = 1, actual = ? WHERE request_id = ? AND settled = 0 RETURNING key_id, month, amount`,
  );
  const charge = db.prepare<[number, number, string, string], LedgerRow>(
    `UPDATE tokenhub_spend SET reserved = reserved - ?, spent = spent + ? WHERE key_id = ? AND month = ? RETURNING spent, reserved`,
  );
  const writeLedger = db.prepare<[number, number, string, string]>(`UPDATE tokenhub_spend SET spent = ?, reserved = ? WHERE key_id = ? AND month = ?`);

  // Plain functions: the group commit runs them in its transaction, and undoes the changes of one that throws.
  // Two statements when the month's ledger row exists (every request but a key's first of the month): the hold,
  // then the reservation row, whose primary key refuses a request id reserved before. Used when the batch runs each
  // step in its own savepoint (after a step threw): a step rolled back must leave nothing of its own behind.
  const reserveEach = (r: Reservation, limit: Micros | null): ReserveResult => {
    const params = { keyId: r.keyId, month: r.month, amount: r.amount, limit };
    let held = hold.get(params);
    if (held === undefined) {
      const ledger = read.get(r.keyId, r.month);
      if (ledger !== undefined) return { ok: false, ledger: view(ledger) };
      openLedger.run(r.keyId, r.month);
      held = hold.get(params);
      if (held === undefined) return { ok: false, ledger: view(read.get(r.keyId, r.month)) };
    }
    rememberReservation(r);
    return { ok: true, reservation: { ...r }, ledger: view(held) };
  };

  const settleEach = (r: Reservation, actual: Micros): SettleResult => {
    const held = closeHold.get(actual, r.requestId);
    if (held === undefined) return { settled: false, ledger: view(read.get(r.keyId, r.month)) };
    // The stored month, not today's: a reservation made in January is charged to January.
    return { settled: true, ledger: view(charge.get(held.amount, actual, held.key_id, held.month)) };
  };

  const rememberReservation = (r: Reservation) => {
    try {
      remember.run(r.requestId, r.keyId, r.month, r.amount);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new Error(`request ${r.requestId} already reserved`);
      throw err;
    }
  };

  // A plain batch (no step threw) reads each ledger row it touches once and writes it back once, before COMMIT:
  // half the statements of reserving and settling row by row when a batch holds many requests of one key. Safe across
  // processes because the batch holds the write lock from BEGIN IMMEDIATE, before its first read, to COMMIT. A step
  // that throws rolls the whole plain run back (this cache with it), and the batch runs again with `reserveEach` and
  // `settleEach` in savepoints.
  let batch: Map<string, CachedLedger> | null = null;
  const hooks: BatchHooks = {
    begin: (isolated) => {
      batch = isolated ? null : new Map();
      leases?.hooks.begin();
    },
    end: () => {
      if (batch !== null) for (const l of batch.values()) if (l.dirty) writeLedger.run(l.spent, l.reserved, l.keyId, l.month);
      batch = null;
    },
    rolledBack: () => leases?.hooks.rolledBack(),
  };
  /** The batch's copy of a ledger row, read on first use; undefined when the row does not exist. */
  const cachedLedger = (rows: Map<string, CachedLedger>, keyId: string, month: string): CachedLedger | undefined => {
    const id = `${keyId}\u0000${month}`;
    let l = rows.get(id);
    if (l === undefined) {
      const row = read.get(keyId, month);
      if (row === undefined) return undefined;
      l = { keyId, month, spent: row.spent, reserved: row.reserved, dirty: false };
      rows.set(id, l);
    }
    return l;
  };

  const reserve = (r: Reservation, limit: Micros | null): ReserveResult => {
    const rows = batch;
    if (rows === null) return reserveEach(r, limit);
    let l = cachedLedger(rows, r.keyId, r.month);
    if (l === undefined) {
      openLedger.run(r.keyId, r.month);
      l = cachedLedger(rows, r.keyId, r.month)!;
    }
    if (limit !== null && l.spent + l.reserved + r.amount > limit) return { ok: false, ledger: view(l) };
    rememberReservation(r);
    l.reserved += r.amount;
    l.dirty = true;
    return { ok: true, reservation: { ...r }, ledger: view(l) };
  };

  const settle = (r: Reservation, actual: Micros): SettleResult => {
    const rows = batch;
    if (rows === null) return settleEach(r, actual);
    const held = closeHold.get(actual, r.requestId);
    if (held === undefined) return { settled: false, ledger: view(cachedLedger(rows, r.keyId, r.month)) };
    // The stored month, not today's: a reservation made in January is charged to January.
    const l = cachedLedger(rows, held.key_id, held.month);
    if (l === undefined) return { settled: true, ledger: view(undefined) }; // the row the reservation references is gone
    l.reserved -= held.amount;
    l.spent += actual;
    l.dirty = true;
    return { settled: true, ledger: view(l) };
  };
  const writes = groupCommit(db, sync, hooks);

  // Leases change ledger rows through the batch's copy when there is one, so a batch never writes a row back stale.
  const saveLease = db.prepare<[string, string, string, number]>(
    `INSERT INTO tokenhub_reservations (request_id, key_id, month, amount) VALUES (?, ?, ?, ?)
     ON CONFLICT (request_id) DO UPDATE SET amount = excluded.amount`,
  );
  const dropLease = db.prepare<[string]>(`DELETE FROM tokenhub_reservations WHERE request_id = ?`);
  const saveSettled = db.prepare<[string, string, string, number, number]>(
    `INSERT INTO tokenhub_reservations (request_id, key_id, month, amount, settled, actual) VALUES (?, ?, ?, ?, 1, ?)
     ON CONFLICT (request_id) DO NOTHING`,
  );
  // A request admitted in memory under an id the file had already (see `spendLeases`) keeps its hold in the ledger.
  const saveOpen = db.prepare<[string, string, string, number]>(
    `INSERT INTO tokenhub_reservations (request_id, key_id, month, amount) VALUES (?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
  );
  const recorded = db.prepare<[string], number>(`SELECT 1 FROM tokenhub_reservations WHERE request_id = ?`).pluck();
  const leaseStorage: LeaseStorage = {
    readLedger(keyId, month) {
      if (batch !== null) {
        let l = cachedLedger(batch, keyId, month);
        if (l === undefined) {
          openLedger.run(keyId, month);
          l = cachedLedger(batch, keyId, month)!;
        }
        return { spent: l.spent, reserved: l.reserved };
      }
      const row = read.get(keyId, month);
      if (row !== undefined) return row;
      openLedger.run(keyId, month);
      return { spent: 0, reserved: 0 };
    },
    writeLedger(keyId, month, { spent, reserved }) {
      const l = batch === null ? undefined : cachedLedger(batch, keyId, month);
      if (l === undefined) return void writeLedger.run(spent, reserved, keyId, month);
      l.spent = spent;
      l.reserved = reserved;
      l.dirty = true;
    },
    saveLease: (id, keyId, month, amount) => void (amount === 0 ? dropLease.run(id) : saveLease.run(id, keyId, month, amount)),
    saveSettled: (r, actual) => void saveSettled.run(r.requestId, r.keyId, r.month, r.amount, actual),
    saveOpen: (r) => void saveOpen.run(r.requestId, r.keyId, r.month, r.amount),
    isRecorded: (requestId) => recorded.get(requestId) !== undefined,
    run: (step) => writes.run(step),
  };
  const leases = leased ? spendLeases(leaseStorage) : null;

  // The table is walked in slices of its primary key, each one short autocommit DELETE (the write lock held for a
  // slice at a time). A walk reads every open and kept row too: 0.15–0.19 s of CPU per million rows (measured), every
  // `pruneIntervalMs`, where an index on settled months cost every settle a second b-tree write (schema migration 3).
  const nextSlice = db
    .prepare<[string], string>(`SELECT request_id FROM tokenhub_reservations WHERE request_id >= ? ORDER BY request_id LIMIT 1 OFFSET ${PRUNE_SLICE}`)
    .pluck();
  // Two statements: bounds that are parameters only bound the walk when both are plain comparisons on the key.
  const pruneSlice = db.prepare<[string, string, string]>(
    `DELETE FROM tokenhub_reservations WHERE request_id >= ? AND request_id < ? AND settled = 1 AND month < ?`,
  );
  const pruneLastSlice = db.prepare<[string, string]>(
    `DELETE FROM tokenhub_reservations WHERE request_id >= ? AND settled = 1 AND month < ?`,
  );
  /** Slice after slice to the end of the table ('' sorts before every id), or until `stop()` says the store was closed. */
  async function prune(now = Date.now(), stop = () => false): Promise<number> {
    const cutoff = pruneCutoff(now);
    let deleted = 0;
    for (let from = ''; ; ) {
      if (stop() || !db.open) return deleted;
      const next = nextSlice.get(from);
      if (next === undefined) return deleted + pruneLastSlice.run(from, cutoff).changes;
      deleted += pruneSlice.run(from, next, cutoff).changes;
      from = next;
      // A month of traffic can be millions of rows: let requests (and other processes' writes) in between slices.
      await nextTurn();
    }
  }

  let stopped = false;
  let running: Promise<unknown> | undefined;
  const housekeeping = () => {
    if (stopped || !db.open) return void clearInterval(timer);
    // A busy file (another process writing for longer than the busy timeout) only postpones pruning to the next run.
    running ??= prune(Date.now(), () => stopped).catch(() => {}).finally(() => (running = undefined));
  };
  const timer = pruneIntervalMs > 0 ? setInterval(housekeeping, pruneIntervalMs).unref() : undefined;
  if (timer !== undefined) housekeeping();

  return {
    reserve: (r, limit) => {
      if (leases !== null) {
        // A refused request id is reported as every store reports it, as a rejected promise.
        try {
          return Promise.resolve(leases.reserve(r, limit));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      // The caller's reservation is copied now: the step runs a turn later, and the caller may change its object meanwhile.
      const own = { ...r };
      return writes.run(() => reserve(own, limit));
    },
    settle: (r, actual) => {
      if (leases?.holds(r.requestId)) return Promise.resolve(leases.settle(r.requestId, actual));
      // Nobody waits on a settle (the answer went out already): it joins the next batch of reserves, within 5 ms.
      const own = { ...r };
      if (leases === null) return writes.later(() => settle(own, actual));
      // A reservation of its own (made without leases, by this file's earlier runs), or none: its ledger is seen with
      // this process's lease on the month.
      return writes.later(() => settle(own, actual)).then(({ settled, ledger }) => ({ settled, ledger: leases.leased(own.keyId, own.month, ledger) }));
    },
    ledger: (keyId, month) => {
      const row = read.get(keyId, month);
      return leases === null ? view(row) : leases.leased(keyId, month, row);
    },
    // Settled requests still in memory are written first, so a prune sees every settled row there is.
    prune: async (now) => {
      await leases?.flush();
      return prune(now);
    },
    close() {
      if (db.open) {
        void leases?.release().catch(() => {});
        writes.flush();
      }
      stopped = true;
      clearInterval(timer);
    },
  };
}
