// The SQLite spend store in-process: a reserve and a settle per request, MICRO_PER_BATCH requests per event-loop turn
// (the settles of one turn join the next turn's reserve transaction, as at 32 connections). Options of sqliteStorage
// as JSON in MICRO_SQLITE, e.g. '{"synchronous":"normal","checkpointIntervalMs":0}', or '{"spendLeases":false}' for the
// per-request path without spend leases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, measure } from './common.mjs';

const [{ sqliteStorage }, { newRequestId }] = await Promise.all(['adapters/sqlite/index.js', 'core/request-id.js'].map(load));
const perBatch = Number(process.env.MICRO_PER_BATCH ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'tokenhub-micro-'));
const storage = sqliteStorage({ path: join(dir, 'spend.db'), ...JSON.parse(process.env.MICRO_SQLITE ?? '{}') });
const month = new Date().toISOString().slice(0, 7);

let settling = [];
await measure(`spend, ${perBatch} requests a batch`, { batches: 5_000, perBatch }, async () => {
  const batch = Array.from({ length: perBatch }, () => ({ requestId: newRequestId(Date.now()), keyId: 'key_micro', month, amount: 1_000 }));
  await Promise.all(batch.map((r) => storage.spend.reserve(r, 1e15)));
  for (const r of settling) void storage.spend.settle(r, 500);
  settling = batch;
});
await storage.close();
rmSync(dir, { recursive: true, force: true });
