// PostgreSQL dashboard analytics: cost trend, hour × weekday matrix and waste groups, each one GROUP BY in the database.
import { dayLabel, hourLabel, hourWindow } from '../../core/analytics.js';
import type { Micros } from '../../core/money.js';
import type { HeatCell, SeriesPoint, UsageAnalytics, UsageQuery, UsageTotals, WasteGroup } from '../../ports/usage.js';
import type { PgContext } from './schema.js';

/** Adds a parameter and returns its placeholder. */
export type Param = (value: unknown) => string;

/**
 * Epoch ms shifted to the wall clock of the query's zone (`time` itself for UTC), as SQL. `AT TIME ZONE` applies
 * each row's own offset, so days and hours follow the zone's daylight-saving changes exactly. The zone goes in as
 * a literal, not a parameter, so an expression that ends up unused leaves no unbound parameter behind; only
 * IANA-shaped names are accepted, which leaves nothing to escape.
 */
export function pgLocalTime(q: Pick<UsageQuery, 'tz'>): string {
  if (q.tz === undefined || q.tz === 'UTC' || q.tz === 'Etc/UTC') return 'time';
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(q.tz)) throw new RangeError(`not a time zone name: ${JSON.stringify(q.tz)}`);
  return `(extract(epoch from (to_timestamp(time / 1000.0) AT TIME ZONE '${q.tz}')) * 1000)::bigint`;
}

/** Hour of day (0–23) of a local-time SQL expression. */
const hourOfDay = (local: string) => `mod(floor(${local} / 3600000::float8)::bigint, 24)`;

/** The query's hour-of-day window as a condition on a local-time expression, or null when it admits every hour. */
export function pgHourWindow(q: Pick<UsageQuery, 'hourFrom' | 'hourTo'>, local: string): string | null {
  const w = hourWindow(q);
  if (w === null) return null;
  const [from, to] = w;
  const h = hourOfDay(local);
  // Whole numbers 0–23 checked by hourWindow's callers (the admin schema); inlined so the planner sees constants.
  if (!Number.isInteger(from) || !Number.isInteger(to)) throw new TypeError('hourFrom and hourTo must be whole hours');
  return from <= to ? `${h} BETWEEN ${from} AND ${to}` : `(${h} >= ${from} OR ${h} <= ${to})`;
}

/** The WHERE clause of every analytics read: range, model, provider, key and hour window. */
function whereOf(q: UsageQuery, param: Param, local: string, extra: string[] = []): string {
  const where = [...extra];
  if (q.from !== undefined) where.push(`time >= ${param(q.from)}::bigint`);
  if (q.to !== undefined) where.push(`time < ${param(q.to)}::bigint`);
  if (q.model !== undefined) where.push(`model = ${param(q.model)}`);
  if (q.provider !== undefined) where.push(`provider = ${param(q.provider)}`);
  if (q.keyId !== undefined) where.push(`key_id = ${param(q.keyId)}`);
  const hw = pgHourWindow(q, local);
  if (hw !== null) where.push(hw);
  return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
}

const SUMS = 'count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost';

interface SumRow {
  requests: string;
  input_tokens: string;
  output_tokens: string;
  cost: string;
}
const totalsOf = (r: SumRow): UsageTotals => ({
  requests: Number(r.requests),
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  cost: Number(r.cost) as Micros,
});
const cmp = (a: string | number | boolean, b: string | number | boolean) => (a < b ? -1 : a > b ? 1 : 0);

function params(): { values: unknown[]; param: Param } {
  const values: unknown[] = [];
  return { values, param: (v) => `$${values.push(v)}` };
}

/** The dashboard's reads on the usage table of `c`. Rows are ordered in JS, by code point, as the memory reference does. */
export function pgUsageAnalytics(c: PgContext): UsageAnalytics {
  const { pool, t } = c;
  return {
    async series(q, { bucket, splitBy }) {
      await c.ready();
      const { values, param } = params();
      const local = pgLocalTime(q);
      const unit = bucket === 'day' ? 86_400_000 : 3_600_000;
      const split = splitBy === undefined ? 'NULL::text' : splitBy === 'model' ? "COALESCE(model, 'none')" : "COALESCE(provider, 'none')";
      const res = await pool.query<SumRow & { b: string; split: string | null }>(
        `SELECT floor(${local} / ${unit}::float8)::bigint AS b, ${split} AS split, ${SUMS}
         FROM ${t.usage} ${whereOf(q, param, local)} GROUP BY 1, 2`,
        values,
      );
      const label = bucket === 'day' ? dayLabel : hourLabel;
      return res.rows
        .map((r): SeriesPoint => ({ bucket: label(Number(r.b)), split: r.split, ...totalsOf(r) }))
        .sort((a, b) => cmp(a.bucket, b.bucket) || cmp(a.split ?? '', b.split ?? ''));
    },

    async heatmap(q) {
      await c.ready();
      const { values, param } = params();
      const local = pgLocalTime(q);
      // 1970-01-01 was a Thursday: day number + 3, mod 7, counts from Monday.
      const res = await pool.query<SumRow & { weekday: number; hour: number }>(
        `SELECT mod(floor(${local} / 86400000::float8)::bigint + 3, 7)::int AS weekday, ${hourOfDay(local)}::int AS hour, ${SUMS}
         FROM ${t.usage} ${whereOf(q, param, local)} GROUP BY 1, 2`,
        values,
      );
      return res.rows
        .map((r): HeatCell => ({ weekday: r.weekday, hour: r.hour, ...totalsOf(r) }))
        .sort((a, b) => a.weekday - b.weekday || a.hour - b.hour);
    },

    async wasteGroups(q, { models } = {}) {
      await c.ready();
      const { values, param } = params();
      const local = pgLocalTime(q);
      const extra = ['model IS NOT NULL'];
      if (models !== undefined) extra.push(`model = ANY(${param([...models])}::text[])`);
      const res = await pool.query<SumRow & {
        model: string; key_id: string; needs_tools: boolean; needs_images: boolean; needs_json: boolean;
        max_context: string; first_time: string; last_time: string;
      }>(
        `SELECT model, key_id, needs_tools, needs_images, needs_json, ${SUMS},
           max(context_tokens) AS max_context, min(time) AS first_time, max(time) AS last_time
         FROM ${t.usage} ${whereOf(q, param, local, extra)} GROUP BY 1, 2, 3, 4, 5`,
        values,
      );
      return res.rows
        .map((r): WasteGroup => ({
          model: r.model, keyId: r.key_id, needsTools: r.needs_tools, needsImages: r.needs_images, needsJson: r.needs_json,
          maxContextTokens: Number(r.max_context), firstTime: Number(r.first_time), lastTime: Number(r.last_time), ...totalsOf(r),
        }))
        .sort((a, b) => cmp(a.model, b.model) || cmp(a.keyId, b.keyId) || cmp(a.needsTools, b.needsTools)
          || cmp(a.needsImages, b.needsImages) || cmp(a.needsJson, b.needsJson));
    },
  };
}

/**
 * For `aggregate`: the GROUP BY expression of a time grouping on a local-time expression (the UTC bucket itself when
 * the query has no zone, so the planner still matches the statistics of migration 2). Other groupings pass through.
 */
export function pgLocalBucket(group: string, utcBucket: string, local: string): string {
  if (local === 'time') return utcBucket;
  switch (group) {
    case 'day': return `floor(${local} / 86400000::float8)::bigint`;
    case 'hour': return `floor(${local} / 3600000::float8)::bigint`;
    case 'hourOfDay': return hourOfDay(local);
    default: return utcBucket;
  }
}
