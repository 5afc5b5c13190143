// SQL pieces of the usage reads: local time in the query's zone, time buckets and the shared WHERE clause.
import { DAY_MS, HOUR_MS, hourWindow, offsetSegments } from '../../core/analytics.js';
import type { UsageQuery } from '../../ports/usage.js';

/** floor(x / n) for either sign: SQLite's integer `/` truncates toward zero, the reference floors. */
export const floorDiv = (x: string, n: number) => `((${x} - ((${x} % ${n}) + ${n}) % ${n}) / ${n})`;
/** Days since 1970-01-01 of a (local) epoch-ms expression. */
export const dayNumber = (x: string) => floorDiv(x, DAY_MS);
/** Hours since 1970-01-01T00 of a (local) epoch-ms expression. */
export const hourNumber = (x: string) => floorDiv(x, HOUR_MS);
/** Hour of day, 0–23, of a (local) epoch-ms expression. */
export const hourOfDay = (x: string) => `((((${x}) % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS} / ${HOUR_MS})`;
/** Weekday, 0 = Monday, of a (local) epoch-ms expression; 1970-01-01 was a Thursday. */
export const weekday = (x: string) => `(((${dayNumber(x)} + 3) % 7 + 7) % 7)`;

const isUtc = (tz: string | undefined) => tz === undefined || tz === 'UTC' || tz === 'Etc/UTC';

/**
 * `time` shifted to the wall clock of the query's zone, as SQL. SQLite knows no zones, so the zone's
 * offsets over the data's span become a CASE on `time` (a change or two a year): each row gets the
 * offset in force at its own instant, as the reference's localMs does. Only numbers go into the SQL.
 * `span` gives the first and last stored instants, asked only when the query leaves an end open.
 */
export function localTime(q: Pick<UsageQuery, 'tz' | 'from' | 'to'>, span: () => [number, number] | null): string {
  if (isUtc(q.tz)) return 'time';
  let from = q.from;
  let to = q.to;
  if (from === undefined || to === undefined) {
    const s = span();
    from ??= s?.[0] ?? to ?? 0;
    to ??= s === null ? from : s[1] + 1;
  }
  // Throws a RangeError for a zone the runtime does not know, before any SQL is built.
  const segments = offsetSegments(q.tz, from, to);
  if (segments.length === 1) return `(time + ${segments[0]!.offsetMs})`;
  const whens = segments.map((s) => (s.until === null ? `ELSE ${s.offsetMs}` : `WHEN time < ${s.until} THEN ${s.offsetMs}`));
  return `(time + CASE ${whens.join(' ')} END)`;
}

/**
 * Whether the (time) index should serve the query's range: walking an index costs a random table lookup
 * per row, so past about a fifth of the stored span a plain scan is faster (2x at a third, measured on a
 * million rows), and SQLite's planner picks the index for any range. With a model, provider or key
 * filter the range stays on that filter's (column, time) index, which narrows by both.
 */
export function useTimeIndex(q: UsageQuery, span: () => [number, number] | null): boolean {
  if (q.model !== undefined || q.provider !== undefined || q.keyId !== undefined) return true;
  if (q.from === undefined && q.to === undefined) return false;
  const s = span();
  if (s === null) return true;
  const [lo, hi] = s;
  const covered = Math.min(q.to ?? Infinity, hi + 1) - Math.max(q.from ?? -Infinity, lo);
  return covered <= 0.2 * (hi + 1 - lo);
}

/**
 * The query's filters as one WHERE clause (empty when none) and its named parameters. With `scanTime`,
 * the range is written `+time` so it filters rows without steering the planner onto the (time) index.
 */
export function whereOf(
  q: UsageQuery, local: string, extra: readonly string[] = [], scanTime = false,
): { where: string; params: Record<string, unknown> } {
  const clauses = [...extra];
  const params: Record<string, unknown> = {};
  const bind = (name: 'from' | 'to' | 'model' | 'provider' | 'keyId', clause: string) => {
    if (q[name] === undefined) return;
    clauses.push(clause);
    params[name] = q[name];
  };
  const time = scanTime ? '+time' : 'time';
  bind('from', `${time} >= @from`);
  bind('to', `${time} < @to`);
  bind('model', 'model = @model');
  bind('provider', 'provider = @provider');
  bind('keyId', 'key_id = @keyId');
  const w = hourWindow(q);
  if (w !== null) {
    const [from, to] = w;
    // Inlined (whole numbers only), so the statement text names its window and the planner sees constants.
    if (!Number.isInteger(from) || !Number.isInteger(to)) throw new TypeError('hourFrom and hourTo must be whole hours');
    const h = hourOfDay(local);
    clauses.push(from <= to ? `${h} BETWEEN ${from} AND ${to}` : `(${h} >= ${from} OR ${h} <= ${to})`);
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}
