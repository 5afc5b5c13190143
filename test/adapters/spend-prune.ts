// The pruning scenario both SQL spend stores run: what goes, what stays, and what a late settle does afterwards.
import { expect } from 'vitest';
import type { Micros } from '../../src/core/money.js';
import type { Reservation, SpendStore } from '../../src/ports/spend.js';

const m = (n: number) => n as Micros;

/** A spend store that can prune, and how a test lists the reservation rows it still holds. */
export interface PruneSubject {
  store: SpendStore & { prune(now?: number): Promise<number> };
  reservationIds(): Promise<string[]> | string[];
}

/**
 * In January 2027: settled reservations of January and December stay, older settled ones go, an open one from
 * October stays until it is settled; no ledger moves, and a settle for a pruned id changes nothing.
 */
export async function pruneScenario({ store, reservationIds }: PruneSubject): Promise<void> {
  const now = Date.UTC(2027, 0, 10, 12);
  const hold = (requestId: string, month: string, amount: number): Reservation => ({ requestId, keyId: 'key_p', month, amount: m(amount) });
  const thisMonth = hold('p-jan', '2027-01', 100);
  const previous = hold('p-dec', '2026-12', 200);
  const twoBack = hold('p-nov', '2026-11', 300);
  const lastYear = hold('p-2025', '2025-06', 400);
  const open = hold('p-oct-open', '2026-10', 500);
  for (const r of [thisMonth, previous, twoBack, lastYear, open]) expect((await store.reserve(r, null)).ok).toBe(true);
  for (const r of [thisMonth, previous, twoBack, lastYear]) expect((await store.settle(r, m(r.amount - 50))).settled).toBe(true);

  const months = ['2027-01', '2026-12', '2026-11', '2026-10', '2025-06'];
  const ledgers = async () => Promise.all(months.map((month) => store.ledger('key_p', month)));
  const before = await ledgers();

  expect(await store.prune(now)).toBe(2);
  expect((await reservationIds()).sort()).toEqual(['p-dec', 'p-jan', 'p-oct-open']);
  expect(await ledgers()).toEqual(before);

  // A duplicate settle arriving after its row went is a no-op, as for an id never reserved.
  expect(await store.settle(twoBack, m(1))).toEqual({ settled: false, ledger: before[2] });
  expect(await store.ledger('key_p', '2026-11')).toEqual(before[2]);
  // The open one still settles, into its own month, and is pruned on the next run.
  expect(await store.settle(open, m(450))).toEqual({ settled: true, ledger: { spent: 450, reserved: 0 } });
  expect(await store.prune(now)).toBe(1);
  expect((await reservationIds()).sort()).toEqual(['p-dec', 'p-jan']);
  expect(await store.prune(now)).toBe(0);
}

/** `YYYY-MM` `n` calendar months before the current one (UTC). */
export function monthsAgo(n: number): string {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1)).toISOString().slice(0, 7);
}
