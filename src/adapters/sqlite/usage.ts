// SQLite usage store: one row per request; aggregates are one GROUP BY query each, answered by the store.
import type { Database } from 'better-sqlite3';
import { DEFAULT_USAGE_LIMIT } from '../../core/aggregate.js';
import type { Micros } from '../../core/money.js';
import type { Awaitable } from '../../ports/awaitable.js';
import type {
  HeatCell, SeriesPoint, UsageAggregate, UsageAnalytics, UsageGroup, UsageQuery, UsageRecord, UsageRow, UsageSort, UsageStore, UsageTotals, WasteGroup,
} from '../../ports/usage.js';
import { dayNumber, hourNumber, hourOfDay, localTime, useTimeIndex, weekday, whereOf } from './sql.js';
import { inThreadReader, type SqlReader } from './reader.js';
import { migrate } from './schema.js';
import { noWalSync, type WalSync } from './wal-sync.js';

interface UsageDbRow {
  id: string;
  time: number;
  key_id: string;
  requested_model: string;
  model: string | null;
  provider: string | null;
  strategy: string;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  estimated: number;
  latency_ms: number;
  ttfb_ms: number | null;
  status: number;
  streamed: number;
  error_code: string | null;
  attempts: number;
  providers_tried: string;
  tier: string | null;
  reason: string | null;
  warning: string | null;
  needs_tools: number;
  needs_images: number;
  needs_json: number;
  context_tokens: number;
}

interface TotalsDbRow {
  all_requests: number;
  all_input_tokens: number;
  all_output_tokens: number;
  all_cost: number;
}

const COLUMNS = [
  'id', 'time', 'key_id', 'requested_model', 'model', 'provider', 'strategy', 'input_tokens', 'output_tokens', 'cost',
  'estimated', 'latency_ms', 'ttfb_ms', 'status', 'streamed', 'error_code', 'attempts', 'providers_tried', 'tier',
  'reason', 'warning', 'needs_tools', 'needs_images', 'needs_json', 'context_tokens',
] as const;

const bit = (b: boolean) => (b ? 1 : 0);


const toRecord = (r: UsageDbRow): UsageRecord => ({
  id: r.id,
  time: r.time,
  keyId: r.key_id,
  requestedModel: r.requested_model,
  model: r.model,
  provider: r.provider,
  strategy: r.strategy,
  inputTokens: r.input_tokens,
  outputTokens: r.output_tokens,
  cost: r.cost as Micros,
  estimated: r.estimated === 1,
  latencyMs: r.latency_ms,
  ttfbMs: r.ttfb_ms,
  status: r.status,
  streamed: r.streamed === 1,
  errorCode: r.error_code,
  attempts: r.attempts,
  providersTried: JSON.parse(r.providers_tried) as string[],
  tier: r.tier,
  reason: r.reason,
  warning: r.warning,
  needsTools: r.needs_tools === 1,
  needsImages: r.needs_images === 1,
  needsJson: r.needs_json === 1,
  contextTokens: r.context_tokens,
});

interface SumsDbRow {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}

type GroupDbRow = SumsDbRow & TotalsDbRow & { group: string };

const SUMS = 'count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost';

const sumsOf = (r: SumsDbRow): UsageTotals => ({
  requests: r.requests,
  inputTokens: r.input_tokens,
  outputTokens: r.output_tokens,
  cost: r.cost as Micros,
});

/**
 * Per grouping, on the (local) time expression `t`: the bucket grouped on (integer arithmetic for the time
 * groups, so strftime runs once per group, not once per row) and how a bucket becomes the reference's label.
 * Bucket order equals label order, except hourOfDay, whose labels the reference compares as numbers.
 */
const GROUPS: Record<UsageGroup, (t: string) => { bucket: string; label: string }> = {
  model: () => ({ bucket: 'coalesce(model, requested_model)', label: 'bucket' }),
  provider: () => ({ bucket: `coalesce(provider, 'none')`, label: 'bucket' }),
  // `+` keeps the planner from walking the (key_id, time) index just to get rows in group order: that costs a
  // random table lookup per row (3x slower over a million rows than a scan and a sort).
  key: () => ({ bucket: '+key_id', label: 'bucket' }),
  day: (t) => ({ bucket: dayNumber(t), label: `strftime('%Y-%m-%d', bucket * 86400, 'unixepoch')` }),
  hour: (t) => ({ bucket: hourNumber(t), label: `strftime('%Y-%m-%dT%H', bucket * 3600, 'unixepoch')` }),
  hourOfDay: (t) => ({ bucket: hourOfDay(t), label: 'CAST(bucket AS TEXT)' }),
};

// Ties fall back to the bucket, ascending, as the reference's sortRows does (BINARY collation = code-point order).
const SORTS: Record<UsageSort, string> = {
  cost_desc: 'cost DESC, bucket',
  cost_asc: 'cost ASC, bucket',
  requests_desc: 'requests DESC, bucket',
  tokens_desc: 'input_tokens + output_tokens DESC, bucket',
  group_asc: 'bucket',
};

const totalsOf = (r: TotalsDbRow | undefined): UsageTotals => ({
  requests: r?.all_requests ?? 0,
  inputTokens: r?.all_input_tokens ?? 0,
  outputTokens: r?.all_output_tokens ?? 0,
  cost: (r?.all_cost ?? 0) as Micros,
});

/** `f` of a value the reader gave now or will give later, without making the in-thread path a promise. */
const then = <A, B>(v: Awaitable<A>, f: (a: A) => B): Awaitable<B> => (v instanceof Promise ? v.then(f) : f(v));

/**
 * Usage records in the `tokenhub_usage` table of a better-sqlite3 Database the caller owns.
 * Aggregation runs in SQLite with indexes on (time), (key_id, time), (model, time), (provider, time);
 * note it runs synchronously, on the calling thread, like every better-sqlite3 query: over a million rows an
 * aggregate holds the event loop for a second or two. `sqliteStorage({ path })` moves those reads to a worker.
 */
export function sqliteUsageStore(db: Database): UsageStore & UsageAnalytics {
  return usageStore(db, inThreadReader(db));
}

/**
 * The usage store with its analytics (aggregate, series, heatmap, wasteGroups) run by `reader`; writes, `get` and
 * the planner's look at the stored time span stay on `db`. The SQL is built here either way, so a worker's answers
 * equal the in-thread ones.
 */
export function usageStore(db: Database, reader: SqlReader, sync: WalSync = noWalSync): UsageStore & UsageAnalytics {
  migrate(db);
  const insertOne = db.prepare<unknown[]>(
    `INSERT OR IGNORE INTO tokenhub_usage (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
  );
  // The values in COLUMNS order, as arguments: better-sqlite3 binds 25 arguments in about three quarters of the time
  // it takes to look 25 names up in an object (and an array of them is no faster than the names).
  const insertRecord = (r: UsageRecord) =>
    insertOne.run(
      r.id, r.time, r.keyId, r.requestedModel, r.model, r.provider, r.strategy, r.inputTokens, r.outputTokens, r.cost,
      bit(r.estimated), r.latencyMs, r.ttfbMs, r.status, bit(r.streamed), r.errorCode, r.attempts, JSON.stringify(r.providersTried), r.tier,
      r.reason, r.warning, bit(r.needsTools), bit(r.needsImages), bit(r.needsJson), r.contextTokens,
    );
  const insertBatch = db.transaction((records: readonly UsageRecord[]) => {
    for (const r of records) insertRecord(r);
  });
  const byId = db.prepare<[string], UsageDbRow>(`SELECT ${COLUMNS.join(', ')} FROM tokenhub_usage WHERE id = ?`);

  // Two probes of the (time) index, so it stays on the calling thread. Written as two subqueries because SQLite
  // answers a lone min() or max() from the index but scans every row for `SELECT min(time), max(time)`.
  const bounds = db.prepare<[], { lo: number | null; hi: number | null }>(
    `SELECT (SELECT min(time) FROM tokenhub_usage) AS lo, (SELECT max(time) FROM tokenhub_usage) AS hi`,
  );
  const span = (): [number, number] | null => {
    const b = bounds.get();
    return b === undefined || b.lo === null || b.hi === null ? null : [b.lo, b.hi];
  };

  const read = <T>(sql: string, params: Record<string, unknown>) => reader.all<T>(sql, params);
  const filter = (q: UsageQuery, t: string, extra: readonly string[] = []) => whereOf(q, t, extra, !useTimeIndex(q, span));

  return {
    insert(records) {
      if (records.length === 0) return;
      insertBatch.immediate(records);
      return sync.durable(undefined);
    },

    get(id) {
      const row = byId.get(id);
      return row === undefined ? null : toRecord(row);
    },

    aggregate(q: UsageQuery): Awaitable<UsageAggregate> {
      const t = localTime(q, span);
      const { where, params } = filter(q, t);
      const totalsOnly = () =>
        then(
          read<TotalsDbRow>(
            `SELECT count(*) AS all_requests, coalesce(sum(input_tokens), 0) AS all_input_tokens,
                    coalesce(sum(output_tokens), 0) AS all_output_tokens, coalesce(sum(cost), 0) AS all_cost
             FROM tokenhub_usage ${where}`,
            params,
          ),
          (found) => ({ rows: [], totals: totalsOf(found[0]) }),
        );
      if (q.groupBy === undefined) return totalsOnly();

      // Same cut as the reference's rows.slice(0, limit), for any number it may be given.
      const limit = q.limit ?? DEFAULT_USAGE_LIMIT;
      const sqlLimit = limit < 0 || limit >= Number.MAX_SAFE_INTEGER ? -1 : Math.trunc(limit) || 0;
      if (sqlLimit === 0) return totalsOnly();
      const g = GROUPS[q.groupBy](t);
      // The window sums run over every group before LIMIT cuts, so each row also carries the totals.
      const found = read<GroupDbRow>(
        `SELECT ${g.label} AS "group", requests, input_tokens, output_tokens, cost,
                all_requests, all_input_tokens, all_output_tokens, all_cost
         FROM (
           SELECT ${g.bucket} AS bucket, ${SUMS},
                  sum(count(*)) OVER () AS all_requests, sum(sum(input_tokens)) OVER () AS all_input_tokens,
                  sum(sum(output_tokens)) OVER () AS all_output_tokens, sum(sum(cost)) OVER () AS all_cost
           FROM tokenhub_usage ${where}
           GROUP BY bucket
         )
         ORDER BY ${SORTS[q.sort ?? 'cost_desc']}
         LIMIT @limit`,
        { ...params, limit: sqlLimit },
      );
      return then(found, (rows) => ({
        rows: rows.slice(0, limit).map((r): UsageRow => ({ group: r.group, ...sumsOf(r) })),
        totals: totalsOf(rows[0]),
      }));
    },

    series(q, { bucket, splitBy }): Awaitable<SeriesPoint[]> {
      const t = localTime(q, span);
      const { where, params } = filter(q, t);
      const split = splitBy === undefined ? 'NULL' : splitBy === 'model' ? `coalesce(model, 'none')` : `coalesce(provider, 'none')`;
      // Labelled in SQL, as the grouped aggregate does: a worker then hands back finished strings, and the calling
      // thread is spared a Date per point (13,000 points for 90 days by hour and model).
      const g = GROUPS[bucket](t);
      const found = read<SumsDbRow & { label: string; split: string | null }>(
        `SELECT ${g.label} AS label, split, requests, input_tokens, output_tokens, cost
         FROM (SELECT ${g.bucket} AS bucket, ${split} AS split, ${SUMS} FROM tokenhub_usage ${where} GROUP BY bucket, split)
         ORDER BY bucket, split`,
        params,
      );
      return then(found, (rows) => rows.map((r) => ({ bucket: r.label, split: r.split, ...sumsOf(r) })));
    },

    heatmap(q): Awaitable<HeatCell[]> {
      const t = localTime(q, span);
      const { where, params } = filter(q, t);
      const found = read<SumsDbRow & { weekday: number; hour: number }>(
        `SELECT ${weekday(t)} AS weekday, ${hourOfDay(t)} AS hour, ${SUMS}
         FROM tokenhub_usage ${where} GROUP BY weekday, hour ORDER BY weekday, hour`,
        params,
      );
      return then(found, (rows) => rows.map((r) => ({ weekday: r.weekday, hour: r.hour, ...sumsOf(r) })));
    },

    wasteGroups(q, { models } = {}): Awaitable<WasteGroup[]> {
      const t = localTime(q, span);
      // The model list is one JSON parameter, so lists of any length share a statement.
      const extra = models === undefined ? ['model IS NOT NULL'] : ['model IN (SELECT value FROM json_each(@models))'];
      const { where, params } = filter(q, t, extra);
      if (models !== undefined) params.models = JSON.stringify(models);
      const found = read<SumsDbRow & {
        model: string; key_id: string; needs_tools: number; needs_images: number; needs_json: number;
        max_context: number; first_time: number; last_time: number;
      }>(
        `SELECT model, key_id, needs_tools, needs_images, needs_json, ${SUMS},
                max(context_tokens) AS max_context, min(time) AS first_time, max(time) AS last_time
         FROM tokenhub_usage ${where}
         GROUP BY model, key_id, needs_tools, needs_images, needs_json
         ORDER BY model, key_id, needs_tools, needs_images, needs_json`,
        params,
      );
      return then(found, (rows) => rows.map((r) => ({
        model: r.model,
        keyId: r.key_id,
        needsTools: r.needs_tools === 1,
        needsImages: r.needs_images === 1,
        needsJson: r.needs_json === 1,
        maxContextTokens: r.max_context,
        firstTime: r.first_time,
        lastTime: r.last_time,
        ...sumsOf(r),
      })));
    },
  };
}
