// PostgreSQL spend store: a ledger row per key and month, a row per reservation; each change is one statement.
import type { Micros } from '../../core/money.js';
import { monthOf } from '../../core/month.js';
import type { MonthLedger, SpendStore } from '../../ports/spend.js';
import { checkMicros, type PgContext } from './schema.js';

/** Default time between two prunes of settled reservations: 6 hours. */
export const DEFAULT_PRUNE_INTERVAL_MS = 6 * 3_600_000;
/** Settled reservations deleted per statement, so one prune never holds a month of row locks in one transaction. */
const PRUNE_BATCH = 10_000;

/** The oldest month whose settled reservations are kept: the calendar month (UTC) before the one of `now`. */
export function pruneCutoff(now: number): string {
  const d = new Date(now);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
}

/** The PostgreSQL spend store, plus its housekeeping. */
export interface PostgresSpendStore extends SpendStore {
  /**
   * Deletes settled reservations of months before the previous calendar month (UTC) of `now` (default: the
   * current time); resolves to how many. Open reservations and the month ledgers are never touched.
   */
  prune(now?: number): Promise<number>;
  /** Stops the prune timer and a prune it started (the pool is left as it is; `prune()` can still be called). */
  close(): Promise<void>;
}

interface LedgerRow {
  ok: boolean;
  dup?: boolean;
  spent: string;
  reserved: string;
}

const view = (r: { spent: string | null; reserved: string | null } | undefined): MonthLedger => ({
  spent: Number(r?.spent ?? 0) as Micros,
  reserved: Number(r?.reserved ?? 0) as Micros,
});

/**
 * Settled reservations make a repeated settle a no-op; they are kept for the current and the previous month, and
 * older ones are pruned when the store is built and then every `pruneIntervalMs` (default 6 h; 0 never). A settle
 * for a pruned request id changes nothing and reports `settled: false`, as for an id never reserved.
 */
export function pgSpendStore(c: PgContext, { pruneIntervalMs = DEFAULT_PRUNE_INTERVAL_MS }: { pruneIntervalMs?: number } = {}): PostgresSpendStore {
  if (!Number.isSafeInteger(pruneIntervalMs) || pruneIntervalMs < 0) {
    throw new TypeError(`pruneIntervalMs must be a non-negative integer of milliseconds, got ${pruneIntervalMs}`);
  }
  const { pool, t } = c;

  // The month row is created and reserved against in one upsert: ON CONFLICT DO UPDATE locks the existing row
  // and evaluates its WHERE on the newest version, so concurrent reservations (any instance) queue on that row
  // and the cap check can never pass twice on a stale total. A first reservation larger than the limit inserts
  // nothing (the SELECT … WHERE yields no row). The reservation row is written only when the ledger moved. A
  // request id already reserved is reported (and thrown, like every adapter does); one reserved concurrently
  // in flight violates the primary key instead, which rolls the whole statement back.
  const reserveSql = `
    WITH d AS (
      SELECT 1 FROM ${t.reservations} WHERE request_id = $5
    ), l AS (
      INSERT INTO ${t.ledger} AS l (key_id, month, spent, reserved)
      SELECT $1, $2, 0, $3::bigint WHERE ($4::bigint IS NULL OR $3::bigint <= $4::bigint) AND NOT EXISTS (SELECT 1 FROM d)
      ON CONFLICT (key_id, month) DO UPDATE SET reserved = l.reserved + EXCLUDED.reserved
        WHERE $4::bigint IS NULL OR l.spent + l.reserved + EXCLUDED.reserved <= $4::bigint
      RETURNING l.spent, l.reserved
    ), r AS (
      INSERT INTO ${t.reservations} (request_id, key_id, month, amount)
      SELECT $5, $1, $2, $3::bigint FROM l
    )
    SELECT true AS ok, false AS dup, spent, reserved FROM l
    UNION ALL
    SELECT false, EXISTS (SELECT 1 FROM d), x.spent, x.reserved
    FROM (SELECT 1) one LEFT JOIN ${t.ledger} x ON x.key_id = $1 AND x.month = $2
    WHERE NOT EXISTS (SELECT 1 FROM l)`;

  // Marking the reservation settled is the once-only gate: a second settle (even a concurrent one, which waits
  // on the row lock and then re-checks NOT settled) updates nothing and moves no money. The ledger charged is the
  // reservation's own month, whatever month the caller is in now.
  const settleSql = `
    WITH s AS (
      UPDATE ${t.reservations} SET settled = true, actual = $2::bigint, settled_at = now()
      WHERE request_id = $1 AND NOT settled
      RETURNING key_id, month, amount
    ), l AS (
      UPDATE ${t.ledger} AS l SET spent = l.spent + $2::bigint, reserved = l.reserved - s.amount
      FROM s WHERE l.key_id = s.key_id AND l.month = s.month
      RETURNING l.spent, l.reserved
    )
    SELECT true AS ok, spent, reserved FROM l
    UNION ALL
    SELECT false, spent, reserved FROM ${t.ledger} WHERE key_id = $3 AND month = $4 AND NOT EXISTS (SELECT 1 FROM s)`;

  // Walks the partial index of migration 3. SKIP LOCKED: instances pruning at the same moment share the work
  // instead of queueing on each other's rows.
  const pruneSql = `
    DELETE FROM ${t.reservations} WHERE request_id IN (
      SELECT request_id FROM ${t.reservations} WHERE settled AND month < $1 LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED)`;
  /** Batch after batch until one comes back short, or `stop()` says the store was closed. */
  async function prune(now = Date.now(), stop = () => false): Promise<number> {
    const cutoff = pruneCutoff(now);
    await c.ready();
    let deleted = 0;
    while (!stop()) {
      const n = (await pool.query(pruneSql, [cutoff])).rowCount ?? 0;
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    return deleted;
  }

  let stopped = false;
  let running: Promise<unknown> | undefined;
  const housekeeping = () => {
    // An unreachable database only postpones pruning to the next run; requests report their own failures.
    running ??= prune(Date.now(), () => stopped).catch(() => {}).finally(() => (running = undefined));
  };
  const timer = pruneIntervalMs > 0 ? setInterval(housekeeping, pruneIntervalMs).unref() : undefined;
  if (timer !== undefined) housekeeping();

  return {
    prune: (now) => prune(now),
    async close() {
      stopped = true;
      clearInterval(timer);
    },
    async reserve(r, limit) {
      const amount = checkMicros('amount', r.amount);
      const cap = limit === null ? null : checkMicros('limit', limit);
      await c.ready();
      const res = await pool.query<LedgerRow>(reserveSql, [r.keyId, r.month, amount, cap, r.requestId]);
      const row = res.rows[0];
      if (row?.dup === true) throw new Error(`request ${r.requestId} already reserved`);
      if (row?.ok !== true) return { ok: false, ledger: view(row) };
      return { ok: true, reservation: { requestId: r.requestId, keyId: r.keyId, month: r.month, amount: r.amount }, ledger: view(row) };
    },
    async settle(r, actual) {
      checkMicros('actual', actual);
      await c.ready();
      const res = await pool.query<LedgerRow>(settleSql, [r.requestId, actual, r.keyId, r.month]);
      const row = res.rows[0];
      return { settled: row?.ok === true, ledger: view(row) };
    },
    async ledger(keyId, month) {
      await c.ready();
      const res = await pool.query<LedgerRow>(`SELECT spent, reserved FROM ${t.ledger} WHERE key_id = $1 AND month = $2`, [keyId, month]);
      return view(res.rows[0]);
    },
  };
}
