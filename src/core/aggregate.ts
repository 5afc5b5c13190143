// Usage aggregation over records in memory: the reference the SQL adapters must agree with.
import type { Micros } from './money.js';
import type { UsageAggregate, UsageGroup, UsageQuery, UsageRecord, UsageRow, UsageSort, UsageTotals } from '../ports/usage.js';
import { DAY_MS, HOUR_MS, dayLabel, hourLabel, hourOf, localMs, recordMatches } from './analytics.js';

/** Default most rows an aggregate returns. */
export const DEFAULT_USAGE_LIMIT = 1000;

/** The bucket a record falls in for a grouping; times in `tz` (default UTC). */
export function groupValue(r: UsageRecord, g: UsageGroup, tz?: string): string {
  switch (g) {
    case 'model': return r.model ?? r.requestedModel;
    case 'provider': return r.provider ?? 'none';
    case 'key': return r.keyId;
    case 'day': return dayLabel(Math.floor(localMs(r.time, tz) / DAY_MS));
    case 'hour': return hourLabel(Math.floor(localMs(r.time, tz) / HOUR_MS));
    case 'hourOfDay': return String(hourOf(localMs(r.time, tz)));
  }
}

/** Whether a record passes the query's filters (range, model, provider, key, hour window in `tz`). */
export const matches: (r: UsageRecord, q: UsageQuery) => boolean = recordMatches;

/** Orders rows as the query asks; ties break on the group so answers are stable. */
export function sortRows(rows: UsageRow[], sort: UsageSort = 'cost_desc', group?: UsageGroup): UsageRow[] {
  const byGroup = (a: UsageRow, b: UsageRow) =>
    group === 'hourOfDay' ? Number(a.group) - Number(b.group) : a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
  const cmp: Record<UsageSort, (a: UsageRow, b: UsageRow) => number> = {
    cost_desc: (a, b) => b.cost - a.cost || byGroup(a, b),
    cost_asc: (a, b) => a.cost - b.cost || byGroup(a, b),
    requests_desc: (a, b) => b.requests - a.requests || byGroup(a, b),
    tokens_desc: (a, b) => b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) || byGroup(a, b),
    group_asc: byGroup,
  };
  return rows.sort(cmp[sort]);
}

/** Totals of no records. */
export const zero = (): UsageTotals => ({ requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 as Micros });
/** Adds one record to running totals, in place. */
export const add = (t: UsageTotals, r: UsageRecord) => {
  t.requests += 1;
  t.inputTokens += r.inputTokens;
  t.outputTokens += r.outputTokens;
  t.cost = (t.cost + r.cost) as Micros;
};

/** Filters, groups, sorts and totals records in one pass. */
export function aggregateRecords(records: Iterable<UsageRecord>, q: UsageQuery): UsageAggregate {
  const totals = zero();
  const groups = new Map<string, UsageRow>();
  for (const r of records) {
    if (!matches(r, q)) continue;
    add(totals, r);
    if (q.groupBy === undefined) continue;
    const g = groupValue(r, q.groupBy, q.tz);
    let row = groups.get(g);
    if (row === undefined) groups.set(g, (row = { group: g, ...zero() }));
    add(row, r);
  }
  const rows = sortRows([...groups.values()], q.sort, q.groupBy).slice(0, q.limit ?? DEFAULT_USAGE_LIMIT);
  return { rows, totals };
}
