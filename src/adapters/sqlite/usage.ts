// SQLite usage store: one row per request; aggregates are one GROUP BY query each, answered by the store.
import type { Database, Statement } from 'better-sqlite3';
import { DEFAULT_USAGE_LIMIT } from '../../core/aggregate.js';
import type { Micros } from '../../core/money.js';
import type { UsageAggregate, UsageGroup, UsageQuery, UsageRecord, UsageRow, UsageSort, UsageStore, UsageTotals } from '../../ports/usage.js';
import { migrate } from './schema.js';

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

interface GroupDbRow {
  group: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  all_requests: number;
  all_input_tokens: number;
  all_output_tokens: number;
  all_cost: number;
}

type TotalsDbRow = Pick<GroupDbRow, 'all_requests' | 'all_input_tokens' | 'all_output_tokens' | 'all_cost'>;

const COLUMNS = [
  'id', 'time', 'key_id', 'requested_model', 'model', 'provider', 'strategy', 'input_tokens', 'output_tokens', 'cost',
  'estimated', 'latency_ms', 'ttfb_ms', 'status', 'streamed', 'error_code', 'attempts', 'providers_tried', 'tier',
  'reason', 'warning', 'needs_tools', 'needs_images', 'needs_json', 'context_tokens',
] as const;

const bit = (b: boolean) => (b ? 1 : 0);

const toRow = (r: UsageRecord): UsageDbRow => ({
  id: r.id,
  time: r.time,
  key_id: r.keyId,
  requested_model: r.requestedModel,
  model: r.model,
  provider: r.provider,
  strategy: r.strategy,
  input_tokens: r.inputTokens,
  output_tokens: r.outputTokens,
  cost: r.cost,
  estimated: bit(r.estimated),
  latency_ms: r.latencyMs,
  ttfb_ms: r.ttfbMs,
  status: r.status,
  streamed: bit(r.streamed),
  error_code: r.errorCode,
  attempts: r.attempts,
  providers_tried: JSON.stringify(r.providersTried),
  tier: r.tier,
  reason: r.reason,
  warning: r.warning,
  needs_tools: bit(r.needsTools),
  needs_images: bit(r.needsImages),
  needs_json: bit(r.needsJson),
  context_tokens: r.contextTokens,
});

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

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** floor(time / n) for any sign: SQLite's integer `/` truncates toward zero, the reference's Date floors. */
const floorDiv = (n: number) => `((time - ((time % ${n}) + ${n}) % ${n}) / ${n})`;

/**
 * Per grouping: the bucket key grouped on (cheap integer arithmetic for the time groups, so strftime runs
 * once per group, not once per row) and how a bucket becomes the label the reference `groupValue` gives.
 * Bucket order equals label order, except hourOfDay, whose labels the reference compares as numbers.
 */
const GROUPS: Record<UsageGroup, { bucket: string; label: string }> = {
  model: { bucket: 'coalesce(model, requested_model)', label: 'bucket' },
  provider: { bucket: `coalesce(provider, 'none')`, label: 'bucket' },
  key: { bucket: 'key_id', label: 'bucket' },
  day: { bucket: floorDiv(DAY_MS), label: `strftime('%Y-%m-%d', bucket * 86400, 'unixepoch')` },
  hour: { bucket: floorDiv(HOUR_MS), label: `strftime('%Y-%m-%dT%H', bucket * 3600, 'unixepoch')` },
  hourOfDay: { bucket: `(((time % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}) / ${HOUR_MS}`, label: 'CAST(bucket AS TEXT)' },
};

// Ties fall back to the bucket, ascending, as the reference's sortRows does (BINARY collation = code-point order).
const SORTS: Record<UsageSort, string> = {
  cost_desc: 'cost DESC, bucket',
  cost_asc: 'cost ASC, bucket',
  requests_desc: 'requests DESC, bucket',
  tokens_desc: 'input_tokens + output_tokens DESC, bucket',
  group_asc: 'bucket',
};

const FILTERS = [
  ['from', 'time >= @from'],
  ['to', 'time < @to'],
  ['model', 'model = @model'],
  ['provider', 'provider = @provider'],
  ['keyId', 'key_id = @keyId'],
] as const;

type Filter = (typeof FILTERS)[number][0];

const totalsOf = (r: TotalsDbRow | undefined): UsageTotals => ({
  requests: r?.all_requests ?? 0,
  inputTokens: r?.all_input_tokens ?? 0,
  outputTokens: r?.all_output_tokens ?? 0,
  cost: (r?.all_cost ?? 0) as Micros,
});

/**
 * Usage records in the `tokenhub_usage` table of a better-sqlite3 Database the caller owns.
 * Aggregation runs in SQLite with indexes on (time), (key_id, time), (model, time), (provider, time);
 * note it runs synchronously, on the calling thread, like every better-sqlite3 query.
 */
export function sqliteUsageStore(db: Database): UsageStore {
  migrate(db);
  const insertOne = db.prepare<UsageDbRow>(
    `INSERT OR IGNORE INTO tokenhub_usage (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  const insertBatch = db.transaction((records: readonly UsageRecord[]) => {
    for (const r of records) insertOne.run(toRow(r));
  });
  const byId = db.prepare<[string], UsageDbRow>(`SELECT ${COLUMNS.join(', ')} FROM tokenhub_usage WHERE id = ?`);

  // Only the filters a query uses go into its WHERE, so the planner can pick the matching index; the
  // shapes (filters × grouping × sort) are few, and each one's statement is prepared once, on first use.
  const shapes = new Map<string, Statement<Record<string, unknown>, GroupDbRow | TotalsDbRow>>();
  const statementFor = (used: readonly Filter[], groupBy: UsageGroup | undefined, sort: UsageSort) => {
    const id = `${used.join(',')}|${groupBy ?? ''}|${groupBy === undefined ? '' : sort}`;
    let stmt = shapes.get(id);
    if (stmt !== undefined) return stmt;
    const where = used.length === 0 ? '' : `WHERE ${FILTERS.filter(([f]) => used.includes(f)).map(([, sql]) => sql).join(' AND ')}`;
    const sql =
      groupBy === undefined
        ? `SELECT count(*) AS all_requests, coalesce(sum(input_tokens), 0) AS all_input_tokens,
                  coalesce(sum(output_tokens), 0) AS all_output_tokens, coalesce(sum(cost), 0) AS all_cost
           FROM tokenhub_usage ${where}`
        : // The window sums run over every group before LIMIT cuts, so each row also carries the totals.
          `SELECT ${GROUPS[groupBy].label} AS "group", requests, input_tokens, output_tokens, cost,
                  all_requests, all_input_tokens, all_output_tokens, all_cost
           FROM (
             SELECT ${GROUPS[groupBy].bucket} AS bucket, count(*) AS requests, sum(input_tokens) AS input_tokens,
                    sum(output_tokens) AS output_tokens, sum(cost) AS cost,
                    sum(count(*)) OVER () AS all_requests, sum(sum(input_tokens)) OVER () AS all_input_tokens,
                    sum(sum(output_tokens)) OVER () AS all_output_tokens, sum(sum(cost)) OVER () AS all_cost
             FROM tokenhub_usage ${where}
             GROUP BY bucket
           )
           ORDER BY ${SORTS[sort]}
           LIMIT @limit`;
    stmt = db.prepare<Record<string, unknown>, GroupDbRow | TotalsDbRow>(sql);
    shapes.set(id, stmt);
    return stmt;
  };

  return {
    insert(records) {
      if (records.length > 0) insertBatch.immediate(records);
    },
    get(id) {
      const row = byId.get(id);
      return row === undefined ? null : toRecord(row);
    },
    aggregate(q: UsageQuery): UsageAggregate {
      const used = FILTERS.map(([f]) => f).filter((f) => q[f] !== undefined);
      const params: Record<string, unknown> = {};
      for (const f of used) params[f] = q[f];
      const totalsOnly = () => totalsOf(statementFor(used, undefined, 'cost_desc').get(params) as TotalsDbRow | undefined);
      if (q.groupBy === undefined) return { rows: [], totals: totalsOnly() };

      // Same cut as the reference's rows.slice(0, limit), for any number it may be given.
      const limit = q.limit ?? DEFAULT_USAGE_LIMIT;
      const sqlLimit = limit < 0 || limit >= Number.MAX_SAFE_INTEGER ? -1 : Math.trunc(limit) || 0;
      if (sqlLimit === 0) return { rows: [], totals: totalsOnly() };
      const found = statementFor(used, q.groupBy, q.sort ?? 'cost_desc').all({ ...params, limit: sqlLimit }) as GroupDbRow[];
      const rows: UsageRow[] = found.slice(0, limit).map((r) => ({
        group: r.group,
        requests: r.requests,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cost: r.cost as Micros,
      }));
      return { rows, totals: totalsOf(found[0]) };
    },
  };
}
