// Benchmark: usage aggregation in PostgreSQL over a million rows, as GET /admin/usage runs it. Not part of `npm test`.
// Run: npx tsx bench/usage-postgres.ts [rows]   (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresUsageStore } from '../src/adapters/postgres/index.js';
import type { UsageQuery } from '../src/ports/usage.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 7;
const DAY = 86_400_000;
const END = Date.UTC(2026, 3, 1);
const SPAN_DAYS = 90;

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4 });
// A schema of its own, dropped at the end, so the benchmark never touches real data.
const schema = `tokenhub_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const store = postgresUsageStore({ pool }, { schema });

async function fill(): Promise<number> {
  await store.migrate();
  const started = performance.now();
  // Generated in the server: 200 keys, five models (5 % failed with no model), 90 days of traffic.
  await pool.query('SELECT setseed(0.42)');
  await pool.query(
    `INSERT INTO "${schema}".tokenhub_usage (id, time, key_id, requested_model, model, provider, strategy, input_tokens, output_tokens,
       cost, estimated, latency_ms, ttfb_ms, status, streamed, error_code, attempts, providers_tried, tier, reason, warning,
       needs_tools, needs_images, needs_json, context_tokens)
     SELECT 'bench-' || i, $1::bigint + floor(random() * $2::bigint)::bigint, 'key_' || (i % 200),
       CASE WHEN i % 2 = 0 THEN 'auto' ELSE 'economy' END,
       m.model, split_part(m.model, '/', 1), 'cost', (random() * 4000)::int, (random() * 1500)::int,
       (random() * 20000)::bigint, false, (random() * 5000)::int, (random() * 800)::int,
       CASE WHEN m.model IS NULL THEN 503 ELSE 200 END, i % 3 = 0, NULL, 1, '["openai"]'::jsonb, NULL, NULL, NULL,
       false, false, false, 1000
     FROM generate_series(1, $3::int) AS i
     CROSS JOIN LATERAL (SELECT CASE WHEN i % 20 = 0 THEN NULL ELSE (ARRAY['openai/gpt-4o', 'openai/gpt-4o-mini',
       'anthropic/claude-3-5-sonnet', 'anthropic/claude-3-haiku', 'google/gemini-flash'])[1 + (i * 7) % 5] END AS model) m`,
    [END - SPAN_DAYS * DAY, SPAN_DAYS * DAY, ROWS],
  );
  await pool.query(`VACUUM ANALYZE "${schema}".tokenhub_usage`);
  return performance.now() - started;
}

async function time(q: UsageQuery): Promise<{ median: number; min: number; rows: number }> {
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const agg = await store.aggregate(q);
    ms.push(performance.now() - started);
    rows = agg.rows.length;
    if (i === 0 && agg.totals.requests === 0 && q.keyId === undefined) throw new Error('no rows matched');
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(RUNS / 2)]!, min: ms[0]!, rows };
}

try {
  const fillMs = await fill();
  console.log(`${ROWS.toLocaleString('en-US')} usage rows generated in ${(fillMs / 1000).toFixed(1)} s (schema ${schema})`);
  const month = END - 30 * DAY;
  const queries: [string, UsageQuery][] = [
    ["groupBy model, all rows (the figure)", { groupBy: 'model' }],
    ['no groupBy, totals of all rows', {}],
    ['groupBy day, all rows', { groupBy: 'day', sort: 'group_asc' }],
    ['groupBy hourOfDay, all rows', { groupBy: 'hourOfDay', sort: 'group_asc' }],
    ['groupBy key, all rows', { groupBy: 'key' }],
    ['groupBy model, last 30 days', { groupBy: 'model', from: month, to: END }],
    ['groupBy day, one key, last 30 days', { groupBy: 'day', keyId: 'key_7', from: month, to: END }],
    ['groupBy hour, one model, last 7 days', { groupBy: 'hour', model: 'openai/gpt-4o-mini', from: END - 7 * DAY, to: END }],
  ];
  console.log(`median (min) of ${RUNS} warm runs:`);
  for (const [name, q] of queries) {
    const r = await time(q);
    console.log(`  ${name.padEnd(42)} ${r.median.toFixed(0).padStart(6)} ms (${r.min.toFixed(0)} ms)  ${r.rows} rows`);
  }
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
