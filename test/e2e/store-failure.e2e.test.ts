// When the spend store goes away: fail closed with 503 (or admit with a warning when failOpen), and settle later without double-charging.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { memoryStorage, openai, redisSpendStore } from '../../src/index.js';
import { startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `tokenhub-test:${process.pid}:${Date.now()}:`;
const month = () => new Date().toISOString().slice(0, 7);
const body = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

let upstream: OpenAIStandin;
let client: Redis;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startOpenAIStandin();
});
afterEach(async () => {
  upstream.reset();
  while (gateways.length > 0) await gateways.pop()!.close();
  if (client !== undefined) {
    // Best effort: a connection a test cut can still say `ready` while its socket closes, and the prefix is this
    // run's own, so keys left behind touch no other test.
    if (client.status === 'ready') {
      await client
        .keys(`${prefix}*`)
        .then((keys) => (keys.length > 0 ? client.del(...keys) : 0))
        .catch(() => undefined);
    }
    client.disconnect();
  }
});
afterAll(async () => {
  await upstream.close();
});

/** A gateway whose spend counters live in the real Redis, over a client the test can cut. */
async function gatewayOnRedis(extra: { failOpen?: boolean } = {}) {
  client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  client.on('error', () => {});
  await client.connect();
  const spend = redisSpendStore({ client }, { prefix });
  const g = await startGateway({ storage: { ...memoryStorage(), spend }, providers: [openai({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })], ...extra });
  gateways.push(g);
  return { g, spend };
}
const post = (g: TestGateway, key: string) =>
  fetch(`${g.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('spend store failures', () => {
  it('answers 503 store_unavailable with no upstream call once the Redis connection is gone (fail closed)', async () => {
    const { g } = await gatewayOnRedis();
    const { key } = await g.createKey({ monthlyLimitUsd: 1 });
    expect((await post(g, key)).status).toBe(200);
    await g.hub.engine.settled(); // the first answer's settle lands before the connection goes
    client.disconnect();
    const res = await post(g, key);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ type: 'store_unavailable', code: 'store_unavailable' });
    expect(upstream.state.requests).toHaveLength(1);
  });

  it('admits with a warning in the usage record when failOpen is set', async () => {
    const { g } = await gatewayOnRedis({ failOpen: true });
    const { id, key } = await g.createKey({ monthlyLimitUsd: 1 });
    client.disconnect();
    const res = await post(g, key);
    expect(res.status).toBe(200);
    await g.hub.engine.flushUsage();
    const record = await g.hub.engine.storage.usage.get(res.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ keyId: id, status: 200, warning: expect.stringMatching(/failOpen/) });
  });

  it('retries a settlement the store refused and charges it exactly once when the connection comes back', { timeout: 15_000 }, async () => {
    const { g, spend } = await gatewayOnRedis();
    const { id, key } = await g.createKey({ monthlyLimitUsd: 1 });
    upstream.state.delayMs = 150;
    const pending = post(g, key);
    await new Promise((r) => setTimeout(r, 60)); // reserved by now, the upstream still thinking
    client.disconnect();
    setTimeout(() => void client.connect().catch(() => undefined), 250);
    const res = await pending;
    expect(res.status).toBe(200);
    // Settled by an inline retry, or (on a slow machine) by the background backlog retry a few seconds later.
    let ledger = { spent: -1, reserved: -1 };
    for (const deadline = Date.now() + 8_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if (client.status !== 'ready') continue;
      ledger = await spend.ledger(id, month());
      if (ledger.reserved === 0) break;
    }
    expect(ledger).toEqual({ spent: 8, reserved: 0 });
    // A second settle of the same request (a retry whose first reply was lost) changes nothing.
    const again = await spend.settle({ requestId: res.headers.get('x-inferoute-request-id')!, keyId: id, month: month(), amount: 0 as never }, 8 as never);
    expect(again).toEqual({ settled: false, ledger: { spent: 8, reserved: 0 } });
  });
});
