// Benchmark: usage aggregation in a SQLite file over a million rows, as GET /admin/usage runs it. Not part of `npm test`.
// Run: npx tsx bench/usage-sqlite.ts [rows]   (the file goes to the OS temp folder and is deleted at the end)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStorage } from '../src/adapters/sqlite/index.js';
import type { Micros } from '../src/core/money.js';
import type { UsageRecord } from '../src/ports/usage.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 7;
const BATCH = 10_000;
const DAY = 86_400_000;
const END = Date.UTC(2026, 3, 1);
const SPAN_DAYS = 90;
// The same traffic shape as bench/usage-postgres.ts: 200 keys, five models (5 % failed with none), 90 days.
const MODELS = ['openai/gpt-4o', 'openai/gpt-4o-mini', 'anthropic/claude-3-5-sonnet', 'anthropic/claude-3-haiku', 'google/gemini-flash'];

let seed = 42;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

function record(i: number): UsageRecord {
  const model = i % 20 === 0 ? null : MODELS[(i * 7) % 5]!;
  return {
    id: `bench-${i}`, time: END - SPAN_DAYS * DAY + Math.floor(rnd() * SPAN_DAYS * DAY), keyId: `key_${i % 200}`,
    requestedModel: i % 2 === 0 ? 'auto' : 'economy', model, provider: model === null ? null : model.slice(0, model.indexOf('/')),
    strategy: 'cost', inputTokens: Math.floor(rnd() * 4000), outputTokens: Math.floor(rnd() * 1500),
    cost: Math.floor(rnd() * 20_000) as Micros, estimated: false, latencyMs: Math.floor(rnd() * 5000), ttfbMs: Math.floor(rnd() * 800),
    status: model === null ? 503 : 200, streamed: i % 3 === 0, errorCode: null, attempts: 1, providersTried: ['openai'],
    tier: null, reason: null, warning: null, needsTools: false, needsImages: false, needsJson: false, contextTokens: 1000,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tokenhub-bench-'));
const path = join(dir, 'usage.db');
const storage = sqliteStorage({ path });
const usage = storage.usage;

function time(run: () => unknown): { first: number; median: number; min: number; result: unknown } {
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = run();
    ms.push(performance.now() - started);
  }
  const first = ms[0]!;
  ms.sort((a, b) => a - b);
  return { first, median: ms[Math.floor(RUNS / 2)]!, min: ms[0]!, result };
}

try {
  const started = performance.now();
  for (let i = 0; i < ROWS; i += BATCH) {
    const batch: UsageRecord[] = [];
    for (let j = i; j < Math.min(i + BATCH, ROWS); j++) batch.push(record(j));
    await usage.insert(batch);
  }
  const fillMs = performance.now() - started;
  const size = (p: string) => statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  const mb = (size(path) + size(`${path}-wal`)) / 1e6;
  console.log(`${ROWS.toLocaleString('en-US')} usage rows inserted in ${(fillMs / 1000).toFixed(1)} s `
    + `(${Math.round(ROWS / (fillMs / 1000)).toLocaleString('en-US')} rows/s, batches of ${BATCH.toLocaleString('en-US')}), file ${mb.toFixed(0)} MB`);

  const month = END - 30 * DAY;
  const queries: [string, () => unknown][] = [
    ['groupBy model, all rows (figure 1)', () => usage.aggregate({ groupBy: 'model' })],
    ["groupBy day, model 'openai/gpt-4o-mini' (figure 2)", () => usage.aggregate({ groupBy: 'day', model: 'openai/gpt-4o-mini' })],
    ['no groupBy, totals of all rows', () => usage.aggregate({})],
    ['groupBy day, all rows', () => usage.aggregate({ groupBy: 'day', sort: 'group_asc' })],
    ['groupBy hourOfDay, all rows', () => usage.aggregate({ groupBy: 'hourOfDay', sort: 'group_asc' })],
    ['groupBy key, all rows', () => usage.aggregate({ groupBy: 'key' })],
    ['groupBy model, last 30 days', () => usage.aggregate({ groupBy: 'model', from: month, to: END })],
    ['groupBy day, one key, last 30 days', () => usage.aggregate({ groupBy: 'day', keyId: 'key_7', from: month, to: END })],
    ['groupBy hour, one model, last 7 days', () => usage.aggregate({ groupBy: 'hour', model: 'openai/gpt-4o-mini', from: END - 7 * DAY, to: END })],
    ['groupBy day in Europe/Paris, all rows', () => usage.aggregate({ groupBy: 'day', tz: 'Europe/Paris' })],
    ['series by day split by model, 30 days', () => usage.series?.({ from: month, to: END }, { bucket: 'day', splitBy: 'model' })],
    ['heatmap, all rows', () => usage.heatmap?.({})],
  ];
  console.log(`first run, then median (min) of ${RUNS}:`);
  for (const [name, run] of queries) {
    const r = time(run);
    const res = r.result as { rows?: unknown[] } | unknown[];
    const rows = Array.isArray(res) ? res.length : (res.rows?.length ?? 0);
    console.log(`  ${name.padEnd(52)} first ${r.first.toFixed(0).padStart(5)} ms   median ${r.median.toFixed(0).padStart(5)} ms (${r.min.toFixed(0)})  ${rows} rows`);
  }
} finally {
  await storage.close?.();
  rmSync(dir, { recursive: true, force: true });
}
