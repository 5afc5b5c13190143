// PostgreSQL usage store: one row per request, batch inserts, aggregation done by the database.
import { DEFAULT_USAGE_LIMIT } from '../../core/aggregate.js';
import type { Micros } from '../../core/money.js';
import type { UsageGroup, UsageQuery, UsageRecord, UsageSort, UsageStore, UsageTotals } from '../../ports/usage.js';
import { DAY_BUCKET, HOUR_BUCKET, HOUR_OF_DAY_BUCKET, type PgContext } from './schema.js';
import { pgHourWindow, pgLocalBucket, pgLocalTime, pgUsageAnalytics } from './analytics.js';

// Record field → column. The batch goes to the server as one JSON array, so the field names double as the
// column definitions of jsonb_to_recordset and no per-row parameters are built.
const FIELDS = [
  ['id', 'id', 'text'],
  ['time', 'time', 'bigint'],
  ['keyId', 'key_id', 'text'],
  ['requestedModel', 'requested_model', 'text'],
  ['model', 'model', 'text'],
  ['provider', 'provider', 'text'],
  ['strategy', 'strategy', 'text'],
  ['inputTokens', 'input_tokens', 'integer'],
  ['outputTokens', 'output_tokens', 'integer'],
  ['cost', 'cost', 'bigint'],
  ['estimated', 'estimated', 'boolean'],
  ['latencyMs', 'latency_ms', 'integer'],
  ['ttfbMs', 'ttfb_ms', 'integer'],
  ['status', 'status', 'integer'],
  ['streamed', 'streamed', 'boolean'],
  ['errorCode', 'error_code', 'text'],
  ['attempts', 'attempts', 'integer'],
  ['providersTried', 'providers_tried', 'jsonb'],
  ['tier', 'tier', 'text'],
  ['reason', 'reason', 'text'],
  ['warning', 'warning', 'text'],
  ['needsTools', 'needs_tools', 'boolean'],
  ['needsImages', 'needs_images', 'boolean'],
  ['needsJson', 'needs_json', 'boolean'],
  ['contextTokens', 'context_tokens', 'integer'],
] as const satisfies readonly (readonly [keyof UsageRecord, string, string])[];

const SELECT_RECORD = FIELDS.map(([f, col]) => (f === col ? col : `${col} AS "${f}"`)).join(', ');

type RecordRow = Omit<UsageRecord, 'time' | 'cost'> & { time: string; cost: string };

// The bucket a row is grouped by, and the label shown for it, in the exact text aggregateRecords produces.
// Time buckets group on whole days/hours since the epoch (number work on a million rows) and only the
// surviving groups are formatted.
const BUCKETS: Record<UsageGroup, { bucket: string; label: string }> = {
  model: { bucket: 'COALESCE(model, requested_model)', label: 'bucket' },
  provider: { bucket: "COALESCE(provider, 'none')", label: 'bucket' },
  key: { bucket: 'key_id', label: 'bucket' },
  day: { bucket: DAY_BUCKET, label: `to_char(to_timestamp(bucket * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD')` },
  hour: { bucket: HOUR_BUCKET, label: `to_char(to_timestamp(bucket * 3600) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')` },
  hourOfDay: { bucket: HOUR_OF_DAY_BUCKET, label: 'bucket::text' },
};

// Ties break on the group as sortRows does: numerically for hours of the day, otherwise by code point
// (COLLATE "C"), never by the database's locale.
function orderBy(sort: UsageSort, group: UsageGroup): string {
  const byGroup = group === 'hourOfDay' ? 'bucket' : 'label COLLATE "C"';
  switch (sort) {
    case 'cost_desc': return `cost DESC, ${byGroup}`;
    case 'cost_asc': return `cost ASC, ${byGroup}`;
    case 'requests_desc': return `requests DESC, ${byGroup}`;
    case 'tokens_desc': return `input_tokens + output_tokens DESC, ${byGroup}`;
    case 'group_asc': return byGroup;
  }
}

interface SumRow {
  total: boolean;
  label: string | null;
  requests: string;
  input_tokens: string;
  output_tokens: string;
  cost: string;
}

const totalsOf = (r: SumRow | undefined): UsageTotals => ({
  requests: Number(r?.requests ?? 0),
  inputTokens: Number(r?.input_tokens ?? 0),
  outputTokens: Number(r?.output_tokens ?? 0),
  cost: Number(r?.cost ?? 0) as Micros,
});

export function pgUsageStore(c: PgContext): UsageStore {
  const { pool, t } = c;
  const columns = FIELDS.map(([, col]) => col).join(', ');
  const recordset = FIELDS.map(([f, , type]) => `"${f}" ${type}`).join(', ');
  const insertSql = `INSERT INTO ${t.usage} (${columns})
    SELECT ${FIELDS.map(([f]) => `"${f}"`).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${recordset})
    ON CONFLICT (id) DO NOTHING`;

  return {
    ...pgUsageAnalytics(c),
    async insert(records) {
      if (records.length === 0) return;
      await c.ready();
      await pool.query(insertSql, [JSON.stringify(records)]);
    },
    async aggregate(q: UsageQuery) {
      await c.ready();
      const params: unknown[] = [];
      const where: string[] = [];
      const filter = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (q.from !== undefined) filter('time >= ?::bigint', q.from);
      if (q.to !== undefined) filter('time < ?::bigint', q.to);
      if (q.model !== undefined) filter('model = ?', q.model);
      if (q.provider !== undefined) filter('provider = ?', q.provider);
      if (q.keyId !== undefined) filter('key_id = ?', q.keyId);
      const local = pgLocalTime(q);
      const hours = pgHourWindow(q, local);
      if (hours !== null) where.push(hours);
      const whereSql = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
      const sums = 'count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost';

      if (q.groupBy === undefined) {
        const res = await pool.query<SumRow>(`SELECT ${sums} FROM ${t.usage} ${whereSql}`, params);
        return { rows: [], totals: totalsOf(res.rows[0]) };
      }
      const { label } = BUCKETS[q.groupBy];
      const bucket = pgLocalBucket(q.groupBy, BUCKETS[q.groupBy].bucket, local);
      params.push(Math.max(0, q.limit ?? DEFAULT_USAGE_LIMIT));
      // One scan: the groups are computed once; the top rows and the totals over all groups both read them.
      const res = await pool.query<SumRow>(`
        WITH g AS (
          SELECT ${bucket} AS bucket, ${sums} FROM ${t.usage} ${whereSql} GROUP BY 1
        ), labelled AS (
          SELECT ${label} AS label, bucket, requests, input_tokens, output_tokens, cost FROM g
        )
        SELECT * FROM (
          (SELECT false AS total, row_number() OVER (ORDER BY ${orderBy(q.sort ?? 'cost_desc', q.groupBy)}) AS pos,
              label, requests, input_tokens, output_tokens, cost
            FROM labelled ORDER BY pos LIMIT $${params.length})
          UNION ALL
          SELECT true, NULL, NULL, COALESCE(sum(requests), 0), COALESCE(sum(input_tokens), 0), COALESCE(sum(output_tokens), 0), COALESCE(sum(cost), 0) FROM g
        ) u ORDER BY total, pos`,
        params);
      const rows = res.rows.filter((r) => !r.total).map((r) => ({ group: r.label!, ...totalsOf(r) }));
      return { rows, totals: totalsOf(res.rows.find((r) => r.total)) };
    },
    async get(id) {
      await c.ready();
      const res = await pool.query<RecordRow>(`SELECT ${SELECT_RECORD} FROM ${t.usage} WHERE id = $1`, [id]);
      const r = res.rows[0];
      return r === undefined ? null : { ...r, time: Number(r.time), cost: Number(r.cost) as Micros };
    },
  };
}
