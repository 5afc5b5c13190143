// SQLite spend store: a ledger row per key and month, and a row per reservation that makes settling idempotent.
import type { Database } from 'better-sqlite3';
import type { Micros } from '../../core/money.js';
import type { MonthLedger, Reservation, ReserveResult, SettleResult, SpendStore } from '../../ports/spend.js';
import { migrate } from './schema.js';

interface LedgerRow {
  spent: number;
  reserved: number;
}

const view = (l: LedgerRow | undefined): MonthLedger =>
  l === undefined ? { spent: 0 as Micros, reserved: 0 as Micros } : { spent: l.spent as Micros, reserved: l.reserved as Micros };

/**
 * Spend ledgers in the `tokenhub_spend` and `tokenhub_reservations` tables of a better-sqlite3 Database
 * the caller owns. Each reserve and settle is one `BEGIN IMMEDIATE` transaction: the write lock is taken
 * before the ledger is read, so processes sharing the file can never both admit against the same headroom.
 * Settled reservations are kept, because they are what makes a repeated settle a no-op.
 */
export function sqliteSpendStore(db: Database): SpendStore {
  migrate(db);
  const known = db.prepare<[string], number>(`SELECT 1 FROM tokenhub_reservations WHERE request_id = ?`).pluck();
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

  const reserve = db.transaction((r: Reservation, limit: Micros | null): ReserveResult => {
    if (known.get(r.requestId) !== undefined) throw new Error(`request ${r.requestId} already reserved`);
    openLedger.run(r.keyId, r.month);
    const held = hold.get({ keyId: r.keyId, month: r.month, amount: r.amount, limit });
    if (held === undefined) return { ok: false, ledger: view(read.get(r.keyId, r.month)) };
    remember.run(r.requestId, r.keyId, r.month, r.amount);
    return { ok: true, reservation: { ...r }, ledger: view(held) };
  });

  const settle = db.transaction((r: Reservation, actual: Micros): SettleResult => {
    const held = closeHold.get(actual, r.requestId);
    if (held === undefined) return { settled: false, ledger: view(read.get(r.keyId, r.month)) };
    // The stored month, not today's: a reservation made in January is charged to January.
    return { settled: true, ledger: view(charge.get(held.amount, actual, held.key_id, held.month)) };
  });

  return {
    reserve: (r, limit) => reserve.immediate(r, limit),
    settle: (r, actual) => settle.immediate(r, actual),
    ledger: (keyId, month) => view(read.get(keyId, month)),
  };
}
