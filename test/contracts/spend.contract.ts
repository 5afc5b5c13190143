// The SpendStore contract: every spend adapter runs this suite against an empty store per test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Micros } from '../../src/core/money.js';
import type { Reservation, SpendStore } from '../../src/ports/spend.js';
import { attempt } from './support.js';

const m = (n: number) => n as Micros;
const JAN = '2026-01';
const FEB = '2026-02';

/**
 * Runs the spend store contract. `factory` must give an empty store; `close` runs after each test.
 */
export function spendStoreContract(name: string, factory: () => Promise<{ store: SpendStore; close(): Promise<void> }>): void {
  describe(name, () => {
    let store: SpendStore;
    let close: () => Promise<void>;
    let seq = 0;
    /** A fresh reservation; request ids never repeat within a test. */
    const hold = (keyId: string, amount: number, month = JAN): Reservation => ({ requestId: `req-${++seq}`, keyId, month, amount: m(amount) });

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      close = () => made.close();
    });
    afterEach(async () => {
      await close();
    });

    describe('reserve', () => {
      it('starts every key and month at zero', async () => {
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 0 });
      });

      it('admits within the limit, hands back the reservation and the new ledger', async () => {
        const r = hold('key_a', 300);
        expect(await store.reserve(r, m(1_000))).toEqual({ ok: true, reservation: r, ledger: { spent: 0, reserved: 300 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 300 });
      });

      it('admits an amount that exactly fills the limit, then refuses 1 micro more', async () => {
        expect((await store.reserve(hold('key_a', 400), m(1_000))).ok).toBe(true);
        expect(await store.reserve(hold('key_a', 600), m(1_000))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 1_000 } });
        expect(await store.reserve(hold('key_a', 1), m(1_000))).toEqual({ ok: false, ledger: { spent: 0, reserved: 1_000 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 1_000 });
      });

      it('refuses an amount larger than the whole limit on an empty month', async () => {
        expect(await store.reserve(hold('key_a', 1_001), m(1_000))).toEqual({ ok: false, ledger: { spent: 0, reserved: 0 } });
      });

      it('refuses even 1 micro once spent equals the limit', async () => {
        const r = hold('key_a', 700);
        await store.reserve(r, m(1_000));
        await store.settle(r, m(1_000));
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 1_000, reserved: 0 });
        expect(await store.reserve(hold('key_a', 1), m(1_000))).toEqual({ ok: false, ledger: { spent: 1_000, reserved: 0 } });
      });

      it('counts spent and reserved together against the limit', async () => {
        const r = hold('key_a', 500);
        await store.reserve(r, m(1_000));
        await store.settle(r, m(300));
        await store.reserve(hold('key_a', 500), m(1_000));
        expect(await store.reserve(hold('key_a', 201), m(1_000))).toEqual({ ok: false, ledger: { spent: 300, reserved: 500 } });
        expect((await store.reserve(hold('key_a', 200), m(1_000))).ok).toBe(true);
      });

      it('always admits when the limit is null, even past what any cap would allow', async () => {
        expect((await store.reserve(hold('key_a', 5_000_000_000), null)).ok).toBe(true);
        expect(await store.reserve(hold('key_a', 7), null)).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 5_000_000_007 } });
      });

      it('holds nothing for a refused reservation: settling it later is a no-op', async () => {
        const refused = hold('key_a', 2_000);
        expect((await store.reserve(refused, m(1_000))).ok).toBe(false);
        expect(await store.settle(refused, m(2_000))).toEqual({ settled: false, ledger: { spent: 0, reserved: 0 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 0 });
      });

      it('rejects a request id that is already reserved or settled, without holding it twice', async () => {
        const r = hold('key_a', 100);
        await store.reserve(r, null);
        await expect(attempt(() => store.reserve(r, null))).rejects.toThrow();
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 100 });
        await store.settle(r, m(80));
        await expect(attempt(() => store.reserve(r, null))).rejects.toThrow();
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 80, reserved: 0 });
      });
    });

    describe('settle', () => {
      it('moves the reservation out of reserved and charges the actual amount', async () => {
        const r = hold('key_a', 300);
        const other = hold('key_a', 200);
        await store.reserve(r, m(1_000));
        await store.reserve(other, m(1_000));
        expect(await store.settle(r, m(120))).toEqual({ settled: true, ledger: { spent: 120, reserved: 200 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 120, reserved: 200 });
      });

      it('charges an actual cost above the reservation in full (the provider billed it)', async () => {
        const r = hold('key_a', 300);
        await store.reserve(r, m(1_000));
        expect(await store.settle(r, m(1_250))).toEqual({ settled: true, ledger: { spent: 1_250, reserved: 0 } });
      });

      it('settles a reservation at zero cost, releasing the whole hold', async () => {
        const r = hold('key_a', 300);
        await store.reserve(r, m(1_000));
        expect(await store.settle(r, m(0))).toEqual({ settled: true, ledger: { spent: 0, reserved: 0 } });
      });

      it('settles once: a second settle of the same request id changes nothing', async () => {
        const r = hold('key_a', 300);
        await store.reserve(r, m(1_000));
        await store.reserve(hold('key_a', 100), m(1_000));
        await store.settle(r, m(250));
        expect(await store.settle(r, m(250))).toEqual({ settled: false, ledger: { spent: 250, reserved: 100 } });
        expect(await store.settle(r, m(999))).toEqual({ settled: false, ledger: { spent: 250, reserved: 100 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 250, reserved: 100 });
      });

      it('ignores a request id that was never reserved', async () => {
        await store.reserve(hold('key_a', 100), m(1_000));
        expect(await store.settle(hold('key_a', 100), m(100))).toEqual({ settled: false, ledger: { spent: 0, reserved: 100 } });
        expect(await store.settle(hold('key_z', 100), m(100))).toEqual({ settled: false, ledger: { spent: 0, reserved: 0 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 100 });
        expect(await store.ledger('key_z', JAN)).toEqual({ spent: 0, reserved: 0 });
      });

      it('charges the month the reservation was made in, even when settled after it ended', async () => {
        const late = hold('key_a', 600, JAN);
        await store.reserve(late, m(1_000));
        // The month rolls over while the request is in flight; the new month starts with its whole budget.
        expect(await store.reserve(hold('key_a', 1_000, FEB), m(1_000))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 1_000 } });
        expect(await store.settle(late, m(450))).toEqual({ settled: true, ledger: { spent: 450, reserved: 0 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 450, reserved: 0 });
        expect(await store.ledger('key_a', FEB)).toEqual({ spent: 0, reserved: 1_000 });
      });
    });

    describe('isolation', () => {
      it('keeps keys apart', async () => {
        const a = hold('key_a', 1_000);
        await store.reserve(a, m(1_000));
        await store.settle(a, m(1_000));
        expect(await store.reserve(hold('key_b', 1_000), m(1_000))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 1_000 } });
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 1_000, reserved: 0 });
        expect(await store.ledger('key_b', JAN)).toEqual({ spent: 0, reserved: 1_000 });
      });

      it('keeps months apart', async () => {
        const jan = hold('key_a', 1_000, JAN);
        await store.reserve(jan, m(1_000));
        await store.settle(jan, m(900));
        expect(await store.reserve(hold('key_a', 1_000, FEB), m(1_000))).toMatchObject({ ok: true, ledger: { spent: 0, reserved: 1_000 } });
        expect(await store.reserve(hold('key_a', 101, JAN), m(1_000))).toEqual({ ok: false, ledger: { spent: 900, reserved: 0 } });
        expect(await store.ledger('key_a', '2025-12')).toEqual({ spent: 0, reserved: 0 });
      });

      it('does not mix keys whose ids only differ in case or share a prefix', async () => {
        await store.reserve(hold('key', 10), null);
        await store.reserve(hold('KEY', 20), null);
        await store.reserve(hold('key_', 30), null);
        expect(await store.ledger('key', JAN)).toEqual({ spent: 0, reserved: 10 });
        expect(await store.ledger('KEY', JAN)).toEqual({ spent: 0, reserved: 20 });
        expect(await store.ledger('key_', JAN)).toEqual({ spent: 0, reserved: 30 });
      });
    });

    describe('concurrency', () => {
      it('never goes over the limit: 200 concurrent reservations of 7 against 1,000 admit exactly 142', async () => {
        const holds = Array.from({ length: 200 }, () => hold('key_a', 7));
        const results = await Promise.all(holds.map((r) => store.reserve(r, m(1_000))));
        const admitted = results.flatMap((x) => (x.ok ? [x.reservation] : []));
        expect(admitted).toHaveLength(142);
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 0, reserved: 994 });

        const settled = await Promise.all(admitted.map((r) => store.settle(r, m(5))));
        expect(settled.every((x) => x.settled)).toBe(true);
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 710, reserved: 0 });

        // Retried settlements racing each other still charge nothing more.
        const again = await Promise.all(admitted.map((r) => store.settle(r, m(5))));
        expect(again.some((x) => x.settled)).toBe(false);
        expect(await store.ledger('key_a', JAN)).toEqual({ spent: 710, reserved: 0 });
      });
    });
  });
}
