// The SQLite usage store in-process: records inserted in batches of 200 (the usage writer's default).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, measure } from './common.mjs';

const [{ sqliteStorage }, { newRequestId }] = await Promise.all(['adapters/sqlite/index.js', 'core/request-id.js'].map(load));
const dir = mkdtempSync(join(tmpdir(), 'tokenhub-micro-'));
const storage = sqliteStorage({ path: join(dir, 'usage.db') });
const record = () => ({
  id: newRequestId(Date.now()), time: Date.now(), keyId: 'key_micro', requestedModel: 'economy', model: 'openai/gpt-4o-mini',
  provider: 'openai', strategy: 'cost', inputTokens: 120, outputTokens: 16, cost: 28, estimated: false, latencyMs: 2,
  ttfbMs: 2, status: 200, streamed: false, errorCode: null, attempts: 1, providersTried: ['openai'], tier: null,
  reason: 'cheapest', warning: null, needsTools: false, needsImages: false, needsJson: false, contextTokens: 130,
});
await measure('usage insert, batches of 200', { batches: 100, perBatch: 200 }, () => storage.usage.insert(Array.from({ length: 200 }, record)));
await storage.close();
rmSync(dir, { recursive: true, force: true });
