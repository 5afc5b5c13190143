// The UsageAnalytics contract (cost trend, hour × weekday, waste groups, time zones and hour windows): every usage adapter runs it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregateRecords } from '../../src/core/aggregate.js';
import { heatmapOfRecords, seriesOfRecords, wasteGroupsOfRecords } from '../../src/core/analytics.js';
import type { Micros } from '../../src/core/money.js';
import type { SeriesOptions, UsageAnalytics, UsageQuery, UsageRecord, UsageStore } from '../../src/ports/usage.js';
import { generateUsage, usageRecord } from './support.js';

const at = (iso: string) => Date.parse(iso);
const sums = (requests: number, inputTokens: number, outputTokens: number, cost: number) => ({ requests, inputTokens, outputTokens, cost });

/**
 * Six requests around the start of US daylight saving time (2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT).
 * Local times, worked out by hand:
 *
 * | id | UTC                      | New York           | Kolkata (+05:30)    | served by                  | key   |
 * |----|--------------------------|--------------------|---------------------|----------------------------|-------|
 * | a1 | Sat 03-07 23:30          | Sat 03-07 18:30    | Sun 03-08 05:00     | openai/gpt-4o (tools)      | key_a |
 * | a2 | Sun 03-08 00:15          | Sat 03-07 19:15    | Sun 03-08 05:45     | openai/gpt-4o (tools)      | key_a |
 * | a3 | Sun 03-08 06:59:59.999   | Sun 03-08 01:59:59 | Sun 03-08 12:29:59  | claude-3-5-sonnet (images) | key_b |
 * | a4 | Sun 03-08 07:00          | Sun 03-08 03:00    | Sun 03-08 12:30     | openai/gpt-4o-mini         | key_b |
 * | a5 | Mon 03-09 14:00          | Mon 03-09 10:00    | Mon 03-09 19:30     | openai/gpt-4o (JSON)       | key_a |
 * | a6 | Mon 03-09 22:00          | Mon 03-09 18:00    | Tue 03-10 03:30     | none (failed)              | key_c |
 */
const FIXTURE: UsageRecord[] = [
  usageRecord({ id: 'a1', time: at('2026-03-07T23:30:00.000Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 1_000, outputTokens: 200, cost: 8_000 as Micros, needsTools: true, contextTokens: 5_000 }),
  usageRecord({ id: 'a2', time: at('2026-03-08T00:15:00.000Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 2_000, outputTokens: 100, cost: 11_500 as Micros, needsTools: true, contextTokens: 9_000 }),
  usageRecord({ id: 'a3', time: at('2026-03-08T06:59:59.999Z'), keyId: 'key_b', model: 'anthropic/claude-3-5-sonnet', provider: 'anthropic', inputTokens: 3_000, outputTokens: 300, cost: 13_500 as Micros, needsImages: true, contextTokens: 4_000 }),
  usageRecord({ id: 'a4', time: at('2026-03-08T07:00:00.000Z'), keyId: 'key_b', model: 'openai/gpt-4o-mini', provider: 'openai', inputTokens: 500, outputTokens: 50, cost: 105 as Micros, contextTokens: 800 }),
  usageRecord({ id: 'a5', time: at('2026-03-09T14:00:00.000Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 100, outputTokens: 10, cost: 650 as Micros, needsJson: true, contextTokens: 600 }),
  usageRecord({ id: 'a6', time: at('2026-03-09T22:00:00.000Z'), keyId: 'key_c', requestedModel: 'economy', model: null, provider: null, inputTokens: 40, outputTokens: 0, cost: 0 as Micros, status: 503, errorCode: 'no_provider_available', contextTokens: 1_040 }),
];
const NY = 'America/New_York';
const KOLKATA = 'Asia/Kolkata';

/**
 * Runs the analytics contract. `factory` must give an empty store whose analytics methods exist; `close` runs after each test.
 */
export function usageAnalyticsContract(name: string, factory: () => Promise<{ store: UsageStore; close(): Promise<void> }>): void {
  describe(`${name}: analytics`, () => {
    let store: UsageStore;
    let analytics: UsageAnalytics;
    let close: () => Promise<void>;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      close = () => made.close();
      expect(typeof store.series, 'series() is implemented').toBe('function');
      expect(typeof store.heatmap, 'heatmap() is implemented').toBe('function');
      expect(typeof store.wasteGroups, 'wasteGroups() is implemented').toBe('function');
      analytics = store as UsageAnalytics;
    });
    afterEach(async () => {
      await close();
    });

    describe('on a hand-computed fixture', () => {
      beforeEach(async () => {
        await store.insert(FIXTURE);
      });

      it('series: days in UTC, one unsplit line, empty days left out', async () => {
        expect(await analytics.series({}, { bucket: 'day' })).toEqual([
          { bucket: '2026-03-07', split: null, ...sums(1, 1_000, 200, 8_000) },
          { bucket: '2026-03-08', split: null, ...sums(3, 5_500, 450, 25_105) },
          { bucket: '2026-03-09', split: null, ...sums(2, 140, 10, 650) },
        ]);
        expect(await analytics.series({ from: at('2026-03-10T00:00:00Z') }, { bucket: 'day' })).toEqual([]);
      });

      it('series: days in New York move the two evening requests back to Saturday', async () => {
        expect(await analytics.series({ tz: NY }, { bucket: 'day' })).toEqual([
          { bucket: '2026-03-07', split: null, ...sums(2, 3_000, 300, 19_500) },
          { bucket: '2026-03-08', split: null, ...sums(2, 3_500, 350, 13_605) },
          { bucket: '2026-03-09', split: null, ...sums(2, 140, 10, 650) },
        ]);
      });

      it('series: days in Kolkata (+05:30) split by model, "none" for the failed request, splits in code-point order', async () => {
        expect(await analytics.series({ tz: KOLKATA }, { bucket: 'day', splitBy: 'model' })).toEqual([
          { bucket: '2026-03-08', split: 'anthropic/claude-3-5-sonnet', ...sums(1, 3_000, 300, 13_500) },
          { bucket: '2026-03-08', split: 'openai/gpt-4o', ...sums(2, 3_000, 300, 19_500) },
          { bucket: '2026-03-08', split: 'openai/gpt-4o-mini', ...sums(1, 500, 50, 105) },
          { bucket: '2026-03-09', split: 'openai/gpt-4o', ...sums(1, 100, 10, 650) },
          { bucket: '2026-03-10', split: 'none', ...sums(1, 40, 0, 0) },
        ]);
      });

      it('series: hours in New York across the daylight-saving jump (01h then 03h), split by provider', async () => {
        expect(await analytics.series({ tz: NY }, { bucket: 'hour', splitBy: 'provider' })).toEqual([
          { bucket: '2026-03-07T18', split: 'openai', ...sums(1, 1_000, 200, 8_000) },
          { bucket: '2026-03-07T19', split: 'openai', ...sums(1, 2_000, 100, 11_500) },
          { bucket: '2026-03-08T01', split: 'anthropic', ...sums(1, 3_000, 300, 13_500) },
          { bucket: '2026-03-08T03', split: 'openai', ...sums(1, 500, 50, 105) },
          { bucket: '2026-03-09T10', split: 'openai', ...sums(1, 100, 10, 650) },
          { bucket: '2026-03-09T18', split: 'none', ...sums(1, 40, 0, 0) },
        ]);
      });

      it('series honours range, model, provider and key filters', async () => {
        const q: UsageQuery = { from: at('2026-03-08T00:00:00Z'), to: at('2026-03-09T22:00:00Z'), provider: 'openai', keyId: 'key_a' };
        expect(await analytics.series(q, { bucket: 'day', splitBy: 'model' })).toEqual([
          { bucket: '2026-03-08', split: 'openai/gpt-4o', ...sums(1, 2_000, 100, 11_500) },
          { bucket: '2026-03-09', split: 'openai/gpt-4o', ...sums(1, 100, 10, 650) },
        ]);
        expect(await analytics.series({ model: 'openai/gpt-4o-mini' }, { bucket: 'hour' })).toEqual([
          { bucket: '2026-03-08T07', split: null, ...sums(1, 500, 50, 105) },
        ]);
      });

      it('heatmap: weekday (0 = Monday) × hour in UTC, only cells with requests', async () => {
        expect(await analytics.heatmap({})).toEqual([
          { weekday: 0, hour: 14, ...sums(1, 100, 10, 650) },
          { weekday: 0, hour: 22, ...sums(1, 40, 0, 0) },
          { weekday: 5, hour: 23, ...sums(1, 1_000, 200, 8_000) },
          { weekday: 6, hour: 0, ...sums(1, 2_000, 100, 11_500) },
          { weekday: 6, hour: 6, ...sums(1, 3_000, 300, 13_500) },
          { weekday: 6, hour: 7, ...sums(1, 500, 50, 105) },
        ]);
      });

      it('heatmap: in Kolkata the half-hour offset merges pairs and the late failure moves to Tuesday 03h', async () => {
        expect(await analytics.heatmap({ tz: KOLKATA })).toEqual([
          { weekday: 0, hour: 19, ...sums(1, 100, 10, 650) },
          { weekday: 1, hour: 3, ...sums(1, 40, 0, 0) },
          { weekday: 6, hour: 5, ...sums(2, 3_000, 300, 19_500) },
          { weekday: 6, hour: 12, ...sums(2, 3_500, 350, 13_605) },
        ]);
      });

      it('hour window: inclusive, wraps past midnight, read in the query zone, and applies to aggregate too', async () => {
        // UTC 22–00 wraps: a6 (22h), a1 (23h), a2 (00h).
        expect((await store.aggregate({ hourFrom: 22, hourTo: 0 })).totals).toEqual(sums(3, 3_040, 300, 19_500));
        expect(await analytics.heatmap({ hourFrom: 22, hourTo: 0 })).toEqual([
          { weekday: 0, hour: 22, ...sums(1, 40, 0, 0) },
          { weekday: 5, hour: 23, ...sums(1, 1_000, 200, 8_000) },
          { weekday: 6, hour: 0, ...sums(1, 2_000, 100, 11_500) },
        ]);
        // New York 01–03: a3 (01:59 EST) and a4 (03:00 EDT); there is no 02h that night.
        expect((await store.aggregate({ tz: NY, hourFrom: 1, hourTo: 3 })).totals).toEqual(sums(2, 3_500, 350, 13_605));
        // One bound alone: from 19h to the end of the day; from midnight to 5h.
        expect((await store.aggregate({ tz: KOLKATA, hourFrom: 19 })).totals).toEqual(sums(1, 100, 10, 650));
        expect((await store.aggregate({ tz: KOLKATA, hourTo: 5 })).totals).toEqual(sums(3, 3_040, 300, 19_500));
        expect(await analytics.series({ hourFrom: 7, hourTo: 14 }, { bucket: 'day' })).toEqual([
          { bucket: '2026-03-08', split: null, ...sums(1, 500, 50, 105) },
          { bucket: '2026-03-09', split: null, ...sums(1, 100, 10, 650) },
        ]);
      });

      it('aggregate groups day, hour and hourOfDay in the query zone', async () => {
        expect(await store.aggregate({ tz: NY, groupBy: 'day', sort: 'group_asc' })).toEqual({
          rows: [
            { group: '2026-03-07', ...sums(2, 3_000, 300, 19_500) },
            { group: '2026-03-08', ...sums(2, 3_500, 350, 13_605) },
            { group: '2026-03-09', ...sums(2, 140, 10, 650) },
          ],
          totals: sums(6, 6_640, 660, 33_755),
        });
        expect((await store.aggregate({ tz: KOLKATA, groupBy: 'hourOfDay', sort: 'group_asc' })).rows).toEqual([
          { group: '3', ...sums(1, 40, 0, 0) },
          { group: '5', ...sums(2, 3_000, 300, 19_500) },
          { group: '12', ...sums(2, 3_500, 350, 13_605) },
          { group: '19', ...sums(1, 100, 10, 650) },
        ]);
        expect((await store.aggregate({ tz: NY, groupBy: 'hour', sort: 'cost_desc', limit: 2 })).rows).toEqual([
          { group: '2026-03-08T01', ...sums(1, 3_000, 300, 13_500) },
          { group: '2026-03-07T19', ...sums(1, 2_000, 100, 11_500) },
        ]);
      });

      it('wasteGroups: per served model, key and needs, with the largest context and the first and last request', async () => {
        const group = (over: object) => ({ needsTools: false, needsImages: false, needsJson: false, ...over });
        expect(await analytics.wasteGroups({})).toEqual([
          group({ model: 'anthropic/claude-3-5-sonnet', keyId: 'key_b', needsImages: true, maxContextTokens: 4_000, firstTime: FIXTURE[2]!.time, lastTime: FIXTURE[2]!.time, ...sums(1, 3_000, 300, 13_500) }),
          group({ model: 'openai/gpt-4o', keyId: 'key_a', needsJson: true, maxContextTokens: 600, firstTime: FIXTURE[4]!.time, lastTime: FIXTURE[4]!.time, ...sums(1, 100, 10, 650) }),
          group({ model: 'openai/gpt-4o', keyId: 'key_a', needsTools: true, maxContextTokens: 9_000, firstTime: FIXTURE[0]!.time, lastTime: FIXTURE[1]!.time, ...sums(2, 3_000, 300, 19_500) }),
          group({ model: 'openai/gpt-4o-mini', keyId: 'key_b', maxContextTokens: 800, firstTime: FIXTURE[3]!.time, lastTime: FIXTURE[3]!.time, ...sums(1, 500, 50, 105) }),
        ]);
      });

      it('wasteGroups: only the models asked for, with the query filters and hour window', async () => {
        const premium = ['openai/gpt-4o', 'anthropic/claude-3-5-sonnet'];
        const a = await analytics.wasteGroups({ keyId: 'key_a' }, { models: premium });
        expect(a.map((g) => [g.model, g.needsTools, g.needsJson, g.requests])).toEqual([
          ['openai/gpt-4o', false, true, 1],
          ['openai/gpt-4o', true, false, 2],
        ]);
        const b = await analytics.wasteGroups({ tz: KOLKATA, hourFrom: 5, hourTo: 5 }, { models: premium });
        expect(b.map((g) => [g.model, g.keyId, g.requests, g.cost])).toEqual([['openai/gpt-4o', 'key_a', 2, 19_500]]);
        expect(await analytics.wasteGroups({}, { models: [] })).toEqual([]);
        expect(await analytics.wasteGroups({}, { models: ['google/gemini-flash'] })).toEqual([]);
      });

      it('answers empty arrays when nothing matches', async () => {
        const none: UsageQuery = { keyId: 'key_none' };
        expect(await analytics.series(none, { bucket: 'hour', splitBy: 'model' })).toEqual([]);
        expect(await analytics.heatmap(none)).toEqual([]);
        expect(await analytics.wasteGroups(none)).toEqual([]);
      });
    });

    describe('agrees with the in-memory reference on generated usage', () => {
      // Six days across the start of European summer time (2026-03-29 01:00Z), every model, key, hour and failure mix.
      const records = generateUsage(700, { seed: 7, start: Date.UTC(2026, 2, 26), days: 6, idPrefix: 'g' });
      beforeEach(async () => {
        await store.insert(records);
      });
      const queries: [string, UsageQuery][] = [
        ['everything, UTC', {}],
        ['a range and a key', { from: Date.UTC(2026, 2, 27, 5), to: Date.UTC(2026, 2, 30, 17, 30), keyId: 'key_B' }],
        ['Paris, across its DST change', { tz: 'Europe/Paris' }],
        ['Paris with a range and a wrapping hour window', { tz: 'Europe/Paris', from: Date.UTC(2026, 2, 28), to: Date.UTC(2026, 2, 31), hourFrom: 20, hourTo: 3 }],
        ['Kathmandu (+05:45), one provider, office hours', { tz: 'Asia/Kathmandu', provider: 'openai', hourFrom: 9, hourTo: 17 }],
        ["St John's (−03:30/−02:30), one model", { tz: 'America/St_Johns', model: 'Custom/Zeta' }],
      ];
      const shapes: SeriesOptions[] = [{ bucket: 'day' }, { bucket: 'hour', splitBy: 'model' }, { bucket: 'day', splitBy: 'provider' }];

      for (const [label, q] of queries) {
        it(`series, heatmap, wasteGroups and grouped aggregates: ${label}`, async () => {
          for (const shape of shapes) expect(await analytics.series(q, shape), JSON.stringify(shape)).toEqual(seriesOfRecords(records, q, shape));
          expect(await analytics.heatmap(q)).toEqual(heatmapOfRecords(records, q));
          expect(await analytics.wasteGroups(q)).toEqual(wasteGroupsOfRecords(records, q));
          const models = ['openai/gpt-4o', 'Custom/Zeta'];
          expect(await analytics.wasteGroups(q, { models })).toEqual(wasteGroupsOfRecords(records, q, { models }));
          for (const groupBy of ['day', 'hour', 'hourOfDay'] as const) {
            const g: UsageQuery = { ...q, groupBy, sort: 'group_asc' };
            expect(await store.aggregate(g), groupBy).toEqual(aggregateRecords(records, g));
          }
        });
      }
    });
  });
}
