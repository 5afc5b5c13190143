// Spend leases: a process holds a block of a key's month in SQLite and admits that key's requests against it in memory.
import type { Micros } from '../../core/money.js';
import { newRequestId } from '../../core/request-id.js';
import type { MonthLedger, Reservation, ReserveResult, SettleResult } from '../../ports/spend.js';

/** Requests of the size that needed it a lease grows by, beyond that request: one transaction per this many. */
export const LEASE_REQUESTS = 32;
/** How often settled costs reach the ledger row, and an idle lease gives its block back, ms. */
export const LEASE_FLUSH_MS = 100;
/** A lease never takes more than this share of the headroom left beside it, so the last of a cap stays shareable. */
const HEADROOM_SHARE = 4;

/** A month ledger row as a transaction sees it. */
export interface LedgerRow {
  spent: number;
  reserved: number;
}

/** What leases need of the spend store; all but `run` only inside the store's transaction. */
export interface LeaseStorage {
  /** The key's month row, created at zero if missing. */
  readLedger(keyId: string, month: string): LedgerRow;
  writeLedger(keyId: string, month: string, row: LedgerRow): void;
  /** Records the lease's block as an open reservation row (`amount` 0: removes it). */
  saveLease(id: string, keyId: string, month: string, amount: number): void;
  /** Records a request settled under a lease (nothing when its id has a row already). */
  saveSettled(r: Reservation, actual: number): void;
  /** Records a request still open under a lease as a reservation of its own (when the leases are given back). */
  saveOpen(r: Reservation): void;
  /** Whether a request id has a row (an open or settled reservation). */
  isRecorded(requestId: string): boolean;
  /** Queues a step for the next transaction; resolves once it committed. */
  run<T>(step: () => T): Promise<T>;
}

interface Lease {
  readonly keyId: string;
  readonly month: string;
  /** The reservation row that holds the block. */
  readonly id: string;
  /** What the ledger row holds for this lease (its `reserved` includes it). */
  amount: number;
  /** Held by this process's open requests under the lease. */
  held: number;
  /** Actual costs of requests settled under the lease, not yet moved into the row's `spent`. */
  charged: number;
  /** The ledger row as this lease's last transaction left it. */
  spent: number;
  reserved: number;
  /** A request was admitted since the last flush: the block is kept for the next ones. */
  busy: boolean;
}

interface Settled {
  reservation: Reservation;
  actual: number;
}

type LeaseNumbers = Pick<Lease, 'amount' | 'held' | 'charged' | 'spent' | 'reserved'>;

const mapKey = (keyId: string, month: string) => `${keyId}\u0000${month}`;

/**
 * Whether `amount` can be admitted under the lease without a transaction: the block has room for it, and the limit
 * (which an admin may have lowered since the block was granted) still allows it against the month as last seen.
 */
const roomInBlock = (l: Lease, amount: number, limit: number | null): boolean =>
  l.held + l.charged + amount <= l.amount && (limit === null || l.spent + l.charged + l.reserved - l.amount + l.held + amount <= limit);

/** The lease's view of its month: the row as last seen, with what this process holds and charged in memory. */
const viewOf = (l: Lease): MonthLedger => ({ spent: (l.spent + l.charged) as Micros, reserved: (l.reserved - l.amount + l.held) as Micros });

/**
 * Per key and month, the process reserves a block in SQLite (an open reservation row and the ledger's `reserved`, in
 * one transaction, as a request's reservation is) and admits requests against it in memory: a request that fits in
 * the block costs no transaction. A request that does not fit grows the block in a transaction that checks the limit
 * against everything else the month holds, exactly as a reservation of its own would; the block grows by up to
 * `LEASE_REQUESTS` more such requests, never by more than a quarter of the headroom left. Settled costs stay in memory
 * for up to `LEASE_FLUSH_MS`, then move into `spent` (with a row per settled request, so its id is never reserved
 * again), and a block nobody used since the flush before is given back.
 *
 * What it changes: the ledger row's `reserved` includes each block's unused part, so another process sharing the file
 * may be refused up to that much before the cap (a quarter of the headroom at most, and only while this process is
 * busy with the key); within one process admission is exact, since a request that does not fit releases the block's
 * unused part before it is refused. A crash leaves the block reserved, covering every request admitted under it and
 * their costs settled since the last flush: over-held, never under-held. A cost settled above its hold, past what
 * the block covers, is flushed at once. A request id is refused while this process holds it, until its settled row is
 * written, and when a transaction admits it and finds its row in the file; one admitted in memory after its row was
 * written is not (the gateway's ids are unique: the time and 80 random bits). Either way, every admitted request is
 * held and its cost charged.
 *
 * Memory mirrors what the transactions wrote: a step changes it only after its statements ran, and what a batch changed
 * is put back when its transaction is rolled back as a whole (`hooks.rolledBack`).
 */
export function spendLeases(storage: LeaseStorage) {
  const leases = new Map<string, Lease>();
  const holds = new Map<string, { lease: Lease; reservation: Reservation }>();
  let settled: Settled[] = [];
  const settledIds = new Set<string>();
  // The limit each key last reserved under: a flush keeps spare room only within it.
  const limitOf = new Map<string, number | null>();
  let timer: NodeJS.Timeout | null = null;

  // What the running batch changed, to put back if its transaction is rolled back: the leases' numbers before its
  // first change, the holds and leases it added, the leases it removed, the settled requests it wrote.
  // Emptied in place at every batch's start: nothing outside the batch keeps them.
  const before = new Map<Lease, LeaseNumbers>();
  const addedHolds: string[] = [];
  const addedLeases: Lease[] = [];
  const removedLeases: Lease[] = [];
  const removedHolds: Array<[string, { lease: Lease; reservation: Reservation }]> = [];
  const written: Settled[] = [];
  const forgetBatch = () => {
    before.clear();
    addedHolds.length = 0;
    addedLeases.length = 0;
    removedLeases.length = 0;
    removedHolds.length = 0;
    written.length = 0;
  };
  const touch = (l: Lease) => {
    if (!before.has(l)) before.set(l, { amount: l.amount, held: l.held, charged: l.charged, spent: l.spent, reserved: l.reserved });
  };

  /**
   * In a transaction: the statements that move the lease's charged costs into `spent` and set its block to what its
   * open requests hold, plus `need` and room for more when `need` fits under `limit`; nothing spare when it does not,
   * or when the lease went unused (`release`). Returns whether `need` fits and the change to make in memory once every
   * statement of the step ran.
   */
  function rebalance(l: Lease, need: number, limit: number | null, release: boolean): { fits: boolean; apply: () => void } {
    const row = storage.readLedger(l.keyId, l.month);
    const spent = row.spent + l.charged;
    const others = spent + row.reserved - l.amount; // the month without this block
    const wanted = l.held + need;
    const fits = need > 0 && (limit === null || others + wanted <= limit);
    let amount = l.held;
    if (fits) {
      const room = limit === null ? Infinity : Math.floor((limit - others - wanted) / HEADROOM_SHARE);
      amount = wanted + Math.min(need * LEASE_REQUESTS, room);
    } else if (need === 0 && !release) {
      // A flush keeps the spare part for the next requests, as far as the headroom beside it still allows.
      const spare = Math.max(0, l.amount - l.charged - l.held);
      const room = limit === null ? Infinity : Math.max(0, Math.floor((limit - others - l.held) / HEADROOM_SHARE));
      amount = l.held + Math.min(spare, room);
    }
    const reserved = row.reserved - l.amount + amount;
    storage.writeLedger(l.keyId, l.month, { spent, reserved });
    storage.saveLease(l.id, l.keyId, l.month, amount);
    return {
      fits,
      apply() {
        touch(l);
        l.spent = spent;
        l.reserved = reserved;
        l.charged = 0;
        l.amount = amount;
        if (fits) l.held += need;
      },
    };
  }

  /**
   * In a transaction: writes the settled requests' rows, moves every lease's charged costs, gives back unused blocks.
   * `releaseAll` (on close) gives back every block and leaves each request still open as a reservation row of its own,
   * as if made without leases: the next process to open the file can settle it.
   */
  function flushStep(releaseAll: boolean): void {
    const rows = settled;
    for (const s of rows) storage.saveSettled(s.reservation, s.actual);
    const changes = [...leases.values()].map((l) => rebalance(l, 0, limitOf.get(l.keyId) ?? null, releaseAll || !l.busy));
    const open = releaseAll ? [...holds.entries()] : [];
    if (releaseAll) {
      for (const [, h] of open) storage.saveOpen(h.reservation);
      for (const l of leases.values()) storage.saveLease(l.id, l.keyId, l.month, 0);
    }
    // Every statement ran: memory follows.
    settled = [];
    written.push(...rows);
    for (const s of rows) settledIds.delete(s.reservation.requestId);
    for (const c of changes) c.apply();
    for (const [id, h] of open) {
      touch(h.lease);
      h.lease.held -= h.reservation.amount;
      h.lease.amount -= h.reservation.amount;
      holds.delete(id);
      removedHolds.push([id, h]);
    }
    for (const l of [...leases.values()]) {
      l.busy = false;
      if (l.amount === 0 && l.held === 0) {
        leases.delete(mapKey(l.keyId, l.month));
        removedLeases.push(l);
      }
    }
  }

  const flush = (releaseAll: boolean) => storage.run(() => flushStep(releaseAll));
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = null;
      // A failed flush keeps everything in memory for the next one; the block still covers it.
      void flush(false)
        .catch(() => {})
        .finally(() => {
          if (leases.size > 0 || settled.length > 0) schedule();
        });
    }, LEASE_FLUSH_MS).unref();
  };

  /** In a transaction: admits `own` under its key's lease, growing (or opening) the lease when it does not fit. */
  function reserveStep(own: Reservation, limit: number | null): ReserveResult {
    // The request id may have been taken by a step before this one in the batch, or have a row in the file.
    if (holds.has(own.requestId) || storage.isRecorded(own.requestId)) throw new Error(`request ${own.requestId} already reserved`);
    const key = mapKey(own.keyId, own.month);
    let lease = leases.get(key);
    let opened = false;
    if (lease === undefined) {
      const row = storage.readLedger(own.keyId, own.month);
      lease = { keyId: own.keyId, month: own.month, id: `lease_${newRequestId(Date.now())}`, amount: 0, held: 0, charged: 0, spent: row.spent, reserved: row.reserved, busy: false };
      opened = true;
    }
    // A step before this one in the batch may have grown the lease enough; otherwise the transaction decides.
    const inBlock = roomInBlock(lease, own.amount, limit);
    const change = inBlock ? null : rebalance(lease, own.amount, limit, false);
    // Every statement ran: memory follows.
    if (opened) {
      leases.set(key, lease);
      addedLeases.push(lease);
    }
    if (change !== null) {
      change.apply();
      if (!change.fits) return { ok: false, ledger: viewOf(lease) };
    } else {
      touch(lease);
      lease.held += own.amount;
    }
    lease.busy = true;
    holds.set(own.requestId, { lease, reservation: own });
    addedHolds.push(own.requestId);
    return { ok: true, reservation: { ...own }, ledger: viewOf(lease) };
  }

  return {
    /** Whether this request id is held under a lease (its settle is `settle`'s). */
    holds: (requestId: string) => holds.has(requestId),

    reserve(r: Reservation, limit: number | null): ReserveResult | Promise<ReserveResult> {
      // In memory only: a read of the file costs a read transaction (~20 µs at one request at a time), as much as
      // what the lease saves. The file is asked when a transaction admits the request.
      if (holds.has(r.requestId) || settledIds.has(r.requestId)) throw new Error(`request ${r.requestId} already reserved`);
      // Copied now: a step runs a turn later, and the caller may change its object meanwhile.
      const own: Reservation = { ...r };
      limitOf.set(r.keyId, limit);
      schedule();
      const l = leases.get(mapKey(r.keyId, r.month));
      if (l !== undefined && roomInBlock(l, r.amount, limit)) {
        l.held += r.amount;
        l.busy = true;
        holds.set(r.requestId, { lease: l, reservation: own });
        return { ok: true, reservation: { ...own }, ledger: viewOf(l) };
      }
      return storage.run(() => reserveStep(own, limit));
    },

    /** Settles a request held under a lease, in memory: flushed within `LEASE_FLUSH_MS`, at once if not covered. */
    settle(requestId: string, actual: number): SettleResult {
      const h = holds.get(requestId)!;
      holds.delete(requestId);
      const l = h.lease;
      l.held -= h.reservation.amount;
      l.charged += actual;
      settled.push({ reservation: h.reservation, actual });
      settledIds.add(requestId);
      if (l.held + l.charged > l.amount) void flush(false).catch(() => {});
      schedule();
      return { settled: true, ledger: viewOf(l) };
    },

    /** The committed row of a key's month, seen with this process's lease on it. */
    leased(keyId: string, month: string, row: LedgerRow | undefined): MonthLedger {
      const l = leases.get(mapKey(keyId, month));
      const spent = (row?.spent ?? 0) + (l?.charged ?? 0);
      const reserved = (row?.reserved ?? 0) - (l?.amount ?? 0) + (l?.held ?? 0);
      return { spent: spent as Micros, reserved: reserved as Micros };
    },

    /** Writes what is held in memory now (the next transaction), keeping the blocks in use. */
    flush: () => flush(false),

    /** Queues the step that writes what is held in memory and gives back every spare block (on close). */
    release(): Promise<void> {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      return flush(true);
    },

    hooks: {
      begin: forgetBatch,
      /** The batch's transaction was undone, so is what its steps changed in memory. */
      rolledBack() {
        for (const [l, n] of before) Object.assign(l, n);
        for (const id of addedHolds) holds.delete(id);
        for (const l of addedLeases) leases.delete(mapKey(l.keyId, l.month));
        for (const l of removedLeases) leases.set(mapKey(l.keyId, l.month), l);
        for (const [id, h] of removedHolds) holds.set(id, h);
        settled = written.concat(settled);
        for (const s of written) settledIds.add(s.reservation.requestId);
        forgetBatch();
      },
    },
  };
}
