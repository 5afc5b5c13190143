// Benchmark: usage aggregation in a SQLite file over a million rows, as GET /admin/usage runs it, and how long each
// query holds the event loop: on the calling thread (a host Database, as every read was before the analytics worker)
// and on the adapter's worker. Not part of `npm test`.
// Run: npx tsx bench/usage-sqlite.ts [rows]   (the file goes to the OS temp folder and is deleted at the end)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteStorage, sqliteUsageStore } from '../src/adapters/sqlite/index.js';
import type { Micros } from '../src/core/money.js';
import type { UsageRecord, UsageStore } from '../src/ports/usage.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 5;
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
const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
const worker = storage.usage;

/**
 * Runs `run` while a 1 ms interval ticks; the stall is the longest gap between ticks beyond that 1 ms: the time
 * a request arriving meanwhile would have waited for the event loop.
 */
async function measure(run: () => unknown): Promise<{ ms: number; stall: number; result: unknown }> {
  let last = performance.now();
  let stall = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 1);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  last = performance.now();
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  stall = Math.max(stall, performance.now() - last - 1);
  clearInterval(tick);
  return { ms, stall: Math.max(0, stall), result };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const started = performance.now();
  for (let i = 0; i < ROWS; i += BATCH) {
    const batch: UsageRecord[] = [];
    for (let j = i; j < Math.min(i + BATCH, ROWS); j++) batch.push(record(j));
    await worker.insert(batch);
  }
  const fillMs = performance.now() - started;
  const size = (p: string) => statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  const mb = (size(path) + size(`${path}-wal`)) / 1e6;
  console.log(`${ROWS.toLocaleString('en-US')} usage rows inserted in ${(fillMs / 1000).toFixed(1)} s `
    + `(${Math.round(ROWS / (fillMs / 1000)).toLocaleString('en-US')} rows/s, batches of ${BATCH.toLocaleString('en-US')}), file ${mb.toFixed(0)} MB`);

  // The calling-thread reads get the same cache and memory map as the adapter's own connections.
  const host = new Database(path, { readonly: true });
  host.pragma('mmap_size = 1073741824');
  host.pragma('cache_size = -65536');
  const inThread = sqliteUsageStore(host);

  const month = END - 30 * DAY;
  const queries: [string, (usage: UsageStore) => unknown][] = [
    ['groupBy model, all rows (figure 1)', (u) => u.aggregate({ groupBy: 'model' })],
    ["groupBy day, model 'openai/gpt-4o-mini' (figure 2)", (u) => u.aggregate({ groupBy: 'day', model: 'openai/gpt-4o-mini' })],
    ['no groupBy, totals of all rows', (u) => u.aggregate({})],
    ['groupBy day, all rows', (u) => u.aggregate({ groupBy: 'day', sort: 'group_asc' })],
    ['groupBy hourOfDay, all rows', (u) => u.aggregate({ groupBy: 'hourOfDay', sort: 'group_asc' })],
    ['groupBy key, all rows', (u) => u.aggregate({ groupBy: 'key' })],
    ['groupBy model, last 30 days', (u) => u.aggregate({ groupBy: 'model', from: month, to: END })],
    ['groupBy day, one key, last 30 days', (u) => u.aggregate({ groupBy: 'day', keyId: 'key_7', from: month, to: END })],
    ['groupBy hour, one model, last 7 days', (u) => u.aggregate({ groupBy: 'hour', model: 'openai/gpt-4o-mini', from: END - 7 * DAY, to: END })],
    ['groupBy day in Europe/Paris, all rows', (u) => u.aggregate({ groupBy: 'day', tz: 'Europe/Paris' })],
    ['series by day split by model, 30 days', (u) => u.series({ from: month, to: END }, { bucket: 'day', splitBy: 'model' })],
    ['series by hour split by model, all rows', (u) => u.series({}, { bucket: 'hour', splitBy: 'model' })],
    ['heatmap, all rows', (u) => u.heatmap({})],
    ['wasteGroups, all rows', (u) => u.wasteGroups({})],
  ];
  // One untimed pass each: the worker starts, the zones' formatters are built, and the pages are in the cache.
  for (const [, run] of queries) {
    await run(worker);
    await run(inThread);
  }
  console.log(`median of ${RUNS} runs: query time, and the longest the event loop was held (stall)`);
  console.log(`  ${'query'.padEnd(52)} ${'in-thread'.padStart(9)} ${'stall'.padStart(7)}   ${'worker'.padStart(9)} ${'stall'.padStart(7)}  rows`);
  const worst = { inThread: 0, worker: 0 };
  for (const [name, run] of queries) {
    const a: { ms: number[]; stall: number[] } = { ms: [], stall: [] };
    const b: { ms: number[]; stall: number[] } = { ms: [], stall: [] };
    let result: unknown;
    for (let i = 0; i < RUNS; i++) {
      const x = await measure(() => run(inThread));
      a.ms.push(x.ms);
      a.stall.push(x.stall);
      const y = await measure(() => run(worker));
      b.ms.push(y.ms);
      b.stall.push(y.stall);
      result = y.result;
    }
    worst.inThread = Math.max(worst.inThread, ...a.stall);
    worst.worker = Math.max(worst.worker, ...b.stall);
    const res = result as { rows?: unknown[] } | unknown[];
    const rows = Array.isArray(res) ? res.length : (res.rows?.length ?? 0);
    const f = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
    console.log(`  ${name.padEnd(52)} ${f(median(a.ms))} ${f(median(a.stall)).padStart(7)}   ${f(median(b.ms))} ${f(median(b.stall)).padStart(7)}  ${rows}`);
  }
  console.log(`longest stall of any run: in-thread ${worst.inThread.toFixed(0)} ms, worker ${worst.worker.toFixed(1)} ms`);
  host.close();
} finally {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
}
