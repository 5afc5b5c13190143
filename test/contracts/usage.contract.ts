// The UsageStore contract: every usage adapter runs this suite against an empty store per test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregateRecords } from '../../src/core/aggregate.js';
import type { Micros } from '../../src/core/money.js';
import { USAGE_GROUPS, USAGE_SORTS, type UsageQuery, type UsageRecord, type UsageStore } from '../../src/ports/usage.js';
import { generateUsage, usageRecord } from './support.js';

const at = (iso: string) => Date.parse(iso);
const row = (group: string, requests: number, inputTokens: number, outputTokens: number, cost: number) => ({ group, requests, inputTokens, outputTokens, cost });
const totals = (requests: number, inputTokens: number, outputTokens: number, cost: number) => ({ requests, inputTokens, outputTokens, cost });

/** Six requests around UTC day and hour boundaries; the expected groups below are worked out by hand. */
const FIXTURE: UsageRecord[] = [
  usageRecord({ id: 'r1', time: at('2026-01-31T23:59:59.999Z'), keyId: 'key_a', model: 'openai/gpt-4o-mini', provider: 'openai', inputTokens: 100, outputTokens: 10, cost: 50 as Micros }),
  usageRecord({ id: 'r2', time: at('2026-02-01T00:00:00.000Z'), keyId: 'key_b', model: 'openai/gpt-4o-mini', provider: 'openai', inputTokens: 200, outputTokens: 20, cost: 70 as Micros }),
  usageRecord({ id: 'r3', time: at('2026-02-01T09:30:00.000Z'), keyId: 'key_a', model: 'anthropic/claude-3-haiku', provider: 'anthropic', inputTokens: 300, outputTokens: 30, cost: 120 as Micros }),
  usageRecord({ id: 'r4', time: at('2026-02-01T10:00:00.000Z'), keyId: 'key_b', model: 'google/gemini-flash', provider: 'google', inputTokens: 50, outputTokens: 5, cost: 5 as Micros }),
  // A failed request: no model served it, so it groups under the model asked for and under provider "none".
  usageRecord({ id: 'r5', time: at('2026-02-02T09:59:59.999Z'), keyId: 'key_c', requestedModel: 'economy', model: null, provider: null, inputTokens: 40, outputTokens: 0, cost: 0 as Micros, status: 503, errorCode: 'no_provider_available', ttfbMs: null, attempts: 0, providersTried: [] }),
  usageRecord({ id: 'r6', time: at('2026-02-02T23:00:00.000Z'), keyId: 'key_a', model: 'anthropic/claude-3-haiku', provider: 'anthropic', inputTokens: 10, outputTokens: 1_000, cost: 120 as Micros }),
];
const FIXTURE_TOTALS = totals(6, 700, 1_065, 365);

/**
 * Runs the usage store contract. `factory` must give an empty store; `close` runs after each test.
 */
export function usageStoreContract(name: string, factory: () => Promise<{ store: UsageStore; close(): Promise<void> }>): void {
  describe(name, () => {
    let store: UsageStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      close = () => made.close();
    });
    afterEach(async () => {
      await close();
    });

    describe('insert and get', () => {
      it('round-trips every field: strings, numbers, booleans, arrays and nulls', async () => {
        const full = usageRecord({
          id: 'req_full',
          time: at('2026-03-04T05:06:07.089Z'),
          keyId: 'key_x',
          requestedModel: 'auto',
          model: 'anthropic/claude-3-5-sonnet',
          provider: 'anthropic',
          strategy: 'balanced',
          inputTokens: 12_345,
          outputTokens: 678,
          cost: 47_205 as Micros,
          estimated: true,
          latencyMs: 2_345,
          ttfbMs: 456,
          status: 200,
          streamed: true,
          errorCode: 'upstream_error',
          attempts: 3,
          providersTried: ['google', 'openai', 'anthropic'],
          tier: 'premium',
          reason: 'task needs tools and code; cheapest premium',
          warning: 'spend store unreachable at reservation; admitted by failOpen',
          needsTools: true,
          needsImages: true,
          needsJson: true,
          contextTokens: 16_441,
        });
        const bare = usageRecord({
          id: 'req_bare',
          model: null,
          provider: null,
          ttfbMs: null,
          errorCode: null,
          tier: null,
          reason: null,
          warning: null,
          providersTried: [],
          attempts: 0,
          cost: 0 as Micros,
          inputTokens: 0,
          outputTokens: 0,
          status: 503,
        });
        await store.insert([full, bare]);
        expect(await store.get('req_full')).toEqual(full);
        expect(await store.get('req_bare')).toEqual(bare);
      });

      it('answers null for an unknown id', async () => {
        await store.insert([usageRecord({ id: 'req_1' })]);
        expect(await store.get('req_2')).toBeNull();
      });

      it('accepts an empty batch', async () => {
        await store.insert([]);
        expect(await store.aggregate({})).toEqual({ rows: [], totals: totals(0, 0, 0, 0) });
      });

      it('ignores a record whose id is stored already, across and within batches (retries never duplicate)', async () => {
        const first = usageRecord({ id: 'req_1', cost: 10 as Micros });
        await store.insert([first, usageRecord({ id: 'req_2', cost: 20 as Micros })]);
        // A retried batch: one old record (changed, as a buggy retry might) and one new one.
        await store.insert([usageRecord({ id: 'req_1', cost: 999 as Micros }), usageRecord({ id: 'req_3', cost: 30 as Micros })]);
        await store.insert([usageRecord({ id: 'req_4', cost: 40 as Micros }), usageRecord({ id: 'req_4', cost: 400 as Micros })]);
        expect(await store.get('req_1')).toEqual(first);
        expect((await store.get('req_4'))?.cost).toBe(40);
        expect((await store.aggregate({})).totals).toMatchObject({ requests: 4, cost: 100 });
      });

      it('keeps its own copy: mutating the inserted or returned record changes nothing stored', async () => {
        const r = usageRecord({ id: 'req_1', providersTried: ['openai'] });
        const expected = structuredClone(r);
        await store.insert([r]);
        r.providersTried.push('google');
        r.cost = 1 as Micros;
        const got = await store.get('req_1');
        got!.providersTried.push('anthropic');
        expect(await store.get('req_1')).toEqual(expected);
      });
    });

    describe('aggregate: totals and filters', () => {
      beforeEach(async () => {
        await store.insert(FIXTURE);
      });

      it('totals everything, with no rows when there is no groupBy', async () => {
        expect(await store.aggregate({})).toEqual({ rows: [], totals: FIXTURE_TOTALS });
      });

      it('answers zeros and no rows when nothing matches', async () => {
        expect(await store.aggregate({ keyId: 'key_none', groupBy: 'model' })).toEqual({ rows: [], totals: totals(0, 0, 0, 0) });
      });

      it('includes `from` and excludes `to`', async () => {
        const q = { from: at('2026-02-01T00:00:00.000Z'), to: at('2026-02-02T09:59:59.999Z') };
        expect((await store.aggregate(q)).totals).toEqual(totals(3, 550, 55, 195));
        expect((await store.aggregate({ from: at('2026-02-02T23:00:00.000Z') })).totals).toEqual(totals(1, 10, 1_000, 120));
        expect((await store.aggregate({ to: at('2026-02-01T00:00:00.000Z') })).totals).toEqual(totals(1, 100, 10, 50));
        expect((await store.aggregate({ from: at('2026-02-01T10:00:00.000Z'), to: at('2026-02-01T10:00:00.000Z') })).totals).toEqual(totals(0, 0, 0, 0));
      });

      it('filters by the model that served the request, by provider and by key', async () => {
        expect((await store.aggregate({ model: 'anthropic/claude-3-haiku' })).totals).toEqual(totals(2, 310, 1_030, 240));
        // A failed request's requested model is not a model that served it.
        expect((await store.aggregate({ model: 'economy' })).totals).toEqual(totals(0, 0, 0, 0));
        expect((await store.aggregate({ provider: 'openai' })).totals).toEqual(totals(2, 300, 30, 120));
        expect((await store.aggregate({ keyId: 'key_b' })).totals).toEqual(totals(2, 250, 25, 75));
        // Filter values are matched exactly, not as patterns or case-insensitively.
        expect((await store.aggregate({ keyId: 'KEY_B' })).totals.requests).toBe(0);
        expect((await store.aggregate({ model: 'anthropic/%' })).totals.requests).toBe(0);
      });

      it('combines filters with grouping', async () => {
        expect(await store.aggregate({ keyId: 'key_a', from: at('2026-02-01T00:00:00.000Z'), groupBy: 'day', sort: 'group_asc' })).toEqual({
          rows: [row('2026-02-01', 1, 300, 30, 120), row('2026-02-02', 1, 10, 1_000, 120)],
          totals: totals(2, 310, 1_030, 240),
        });
        expect(await store.aggregate({ provider: 'openai', to: at('2026-02-01T00:00:00.000Z'), groupBy: 'key' })).toEqual({
          rows: [row('key_a', 1, 100, 10, 50)],
          totals: totals(1, 100, 10, 50),
        });
      });
    });

    describe('aggregate: every groupBy, in UTC', () => {
      beforeEach(async () => {
        await store.insert(FIXTURE);
      });
      const grouped = (groupBy: UsageQuery['groupBy']) => store.aggregate({ groupBy, sort: 'group_asc' });

      it('by model, a failed request under the model it asked for', async () => {
        expect(await grouped('model')).toEqual({
          rows: [
            row('anthropic/claude-3-haiku', 2, 310, 1_030, 240),
            row('economy', 1, 40, 0, 0),
            row('google/gemini-flash', 1, 50, 5, 5),
            row('openai/gpt-4o-mini', 2, 300, 30, 120),
          ],
          totals: FIXTURE_TOTALS,
        });
      });

      it('by provider, "none" when no provider served it', async () => {
        expect((await grouped('provider')).rows).toEqual([
          row('anthropic', 2, 310, 1_030, 240),
          row('google', 1, 50, 5, 5),
          row('none', 1, 40, 0, 0),
          row('openai', 2, 300, 30, 120),
        ]);
      });

      it('by key', async () => {
        expect((await grouped('key')).rows).toEqual([row('key_a', 3, 410, 1_040, 290), row('key_b', 2, 250, 25, 75), row('key_c', 1, 40, 0, 0)]);
      });

      it('by day (YYYY-MM-DD): the last millisecond of a day and the first of the next fall apart', async () => {
        expect(await grouped('day')).toEqual({
          rows: [row('2026-01-31', 1, 100, 10, 50), row('2026-02-01', 3, 550, 55, 195), row('2026-02-02', 2, 50, 1_000, 120)],
          totals: FIXTURE_TOTALS,
        });
      });

      it('by hour (YYYY-MM-DDTHH)', async () => {
        expect((await grouped('hour')).rows).toEqual([
          row('2026-01-31T23', 1, 100, 10, 50),
          row('2026-02-01T00', 1, 200, 20, 70),
          row('2026-02-01T09', 1, 300, 30, 120),
          row('2026-02-01T10', 1, 50, 5, 5),
          row('2026-02-02T09', 1, 40, 0, 0),
          row('2026-02-02T23', 1, 10, 1_000, 120),
        ]);
      });

      it('by hour of day (0–23, across days), ordered as numbers', async () => {
        expect((await grouped('hourOfDay')).rows).toEqual([
          row('0', 1, 200, 20, 70),
          row('9', 2, 340, 30, 120),
          row('10', 1, 50, 5, 5),
          row('23', 2, 110, 1_010, 170),
        ]);
      });
    });

    describe('aggregate: sorts and limit', () => {
      // Five models built for ties: each sort must fall back to the group, in code-point order ('Z' before 'a').
      const SORT_FIXTURE = [
        ['c-model', 1, 5, 5, [200]],
        ['Z-model', 2, 250, 250, [50, 50]],
        ['a-model', 2, 5, 5, [50, 50]],
        ['b-model', 1, 5, 5, [100]],
        ['d-model', 3, 250, 250, [3, 3, 4]],
      ] as const;
      beforeEach(async () => {
        let n = 0;
        await store.insert(
          SORT_FIXTURE.flatMap(([model, requests, input, output, costs]) =>
            costs.map((cost, i) =>
              usageRecord({ id: `s${n++}`, model, inputTokens: i === 0 ? input : 0, outputTokens: i === 0 ? output : 0, cost: cost as Micros }),
            ).slice(0, requests),
          ),
        );
      });
      const order = async (q: UsageQuery) => (await store.aggregate({ groupBy: 'model', ...q })).rows.map((r) => r.group);

      it('cost_desc by default', async () => {
        expect(await order({})).toEqual(['c-model', 'Z-model', 'a-model', 'b-model', 'd-model']);
        expect(await order({ sort: 'cost_desc' })).toEqual(['c-model', 'Z-model', 'a-model', 'b-model', 'd-model']);
      });

      it('cost_asc', async () => {
        expect(await order({ sort: 'cost_asc' })).toEqual(['d-model', 'Z-model', 'a-model', 'b-model', 'c-model']);
      });

      it('requests_desc', async () => {
        expect(await order({ sort: 'requests_desc' })).toEqual(['d-model', 'Z-model', 'a-model', 'b-model', 'c-model']);
      });

      it('tokens_desc, counting input and output together', async () => {
        expect(await order({ sort: 'tokens_desc' })).toEqual(['Z-model', 'd-model', 'a-model', 'b-model', 'c-model']);
      });

      it('group_asc', async () => {
        expect(await order({ sort: 'group_asc' })).toEqual(['Z-model', 'a-model', 'b-model', 'c-model', 'd-model']);
      });

      it('every sort is known to this suite', () => {
        expect([...USAGE_SORTS].sort()).toEqual(['cost_asc', 'cost_desc', 'group_asc', 'requests_desc', 'tokens_desc']);
      });

      it('breaks hour-of-day ties as numbers, not as text', async () => {
        await store.insert([
          usageRecord({ id: 'h10', time: at('2026-05-01T10:00:00.000Z'), cost: 7 as Micros }),
          usageRecord({ id: 'h2', time: at('2026-05-01T02:00:00.000Z'), cost: 7 as Micros }),
        ]);
        const rows = (await store.aggregate({ groupBy: 'hourOfDay', from: at('2026-05-01T00:00:00.000Z'), sort: 'cost_desc' })).rows;
        expect(rows.map((r) => r.group)).toEqual(['2', '10']);
      });

      it('returns the first `limit` rows in order, with totals over every match', async () => {
        expect(await store.aggregate({ groupBy: 'model', sort: 'cost_desc', limit: 2 })).toEqual({
          rows: [row('c-model', 1, 5, 5, 200), row('Z-model', 2, 250, 250, 100)],
          totals: totals(9, 515, 515, 510),
        });
        expect((await store.aggregate({ groupBy: 'model', sort: 'group_asc', limit: 1 })).rows.map((r) => r.group)).toEqual(['Z-model']);
      });

      it('returns at most 1,000 rows by default', async () => {
        const start = at('2026-06-01T00:00:00.000Z');
        await store.insert(Array.from({ length: 1_001 }, (_, i) => usageRecord({ id: `hr${i}`, time: start + i * 3_600_000, cost: 1 as Micros })));
        const agg = await store.aggregate({ groupBy: 'hour', from: start, sort: 'group_asc' });
        expect(agg.rows).toHaveLength(1_000);
        expect(agg.rows[0]?.group).toBe('2026-06-01T00');
        expect(agg.totals.requests).toBe(1_001);
      });
    });

    describe('aggregate: agreement with the reference aggregateRecords', () => {
      const records = generateUsage(400, { seed: 7 });
      const from = at('2026-01-31T06:00:00.000Z');
      const to = at('2026-02-02T18:00:00.000Z');
      beforeEach(async () => {
        // Two batches, the second repeating part of the first, as a retry would.
        await store.insert(records.slice(0, 250));
        await store.insert(records.slice(200));
      });

      it('agrees for every groupBy and sort', async () => {
        for (const groupBy of [undefined, ...USAGE_GROUPS]) {
          for (const sort of USAGE_SORTS) {
            const q: UsageQuery = { groupBy, sort };
            expect(await store.aggregate(q), JSON.stringify(q)).toEqual(aggregateRecords(records, q));
          }
        }
      });

      it('agrees under filters and limits', async () => {
        const queries: UsageQuery[] = [
          { from, to, groupBy: 'hour', sort: 'cost_desc' },
          { from, groupBy: 'hourOfDay', sort: 'requests_desc', limit: 5 },
          { to, groupBy: 'day', sort: 'tokens_desc' },
          { model: 'openai/gpt-4o-mini', groupBy: 'day', sort: 'group_asc' },
          { model: 'Custom/Zeta', groupBy: 'key', sort: 'cost_asc' },
          { provider: 'anthropic', groupBy: 'hourOfDay', sort: 'group_asc' },
          { provider: 'custom', groupBy: 'model', sort: 'cost_desc' },
          { keyId: 'key_B', from, to, groupBy: 'model', sort: 'cost_desc', limit: 3 },
          { keyId: 'KEY_d', model: 'google/gemini-flash', provider: 'google', groupBy: 'hour', sort: 'requests_desc' },
          { from, to, model: 'anthropic/claude-3-haiku' },
          { groupBy: 'key', sort: 'group_asc', limit: 2 },
        ];
        for (const q of queries) expect(await store.aggregate(q), JSON.stringify(q)).toEqual(aggregateRecords(records, q));
      });
    });
  });
}
