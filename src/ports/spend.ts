// The spend port: per key, per UTC month, reserve before forwarding and settle exactly once after.
import type { Micros } from '../core/money.js';
import type { Awaitable } from './awaitable.js';

/** A hold on a key's month budget, named by the gateway's request id. */
export interface Reservation {
  requestId: string;
  keyId: string;
  /** `YYYY-MM` in UTC: the month charged, even if settlement happens after it ends. */
  month: string;
  amount: Micros;
}

/** A key's month as the store sees it after an operation. */
export interface MonthLedger {
  spent: Micros;
  reserved: Micros;
}

/** Expected outcome of a reservation; refusals are values, only faults throw. */
export type ReserveResult =
  | { ok: true; reservation: Reservation; ledger: MonthLedger }
  | { ok: false; ledger: MonthLedger };

export type SettleResult = {
  /** False when this request id had already been settled (the call changed nothing) or was never reserved. */
  settled: boolean;
  ledger: MonthLedger;
};

/** Spend per key per month, in integer micro-USD. Every method is one atomic step. */
export interface SpendStore {
  /**
   * Adds `reservation.amount` to the month's reserved total only if
   * `spent + reserved + amount <= limit` (always, when limit is null). Atomic across instances.
   */
  reserve(reservation: Reservation, limit: Micros | null): Awaitable<ReserveResult>;
  /** Moves the reservation into spent as `actual`, once per request id; a second call is a no-op. */
  settle(reservation: Reservation, actual: Micros): Awaitable<SettleResult>;
  /** Settled and reserved totals for one key and month. */
  ledger(keyId: string, month: string): Awaitable<MonthLedger>;
}
