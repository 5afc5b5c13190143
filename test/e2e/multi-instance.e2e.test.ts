// Two real gateway processes sharing Redis (spend) and PostgreSQL (keys, usage): one capped key, a burst split across both.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { defaultPricing, parseChatRequest, requestFeatures, worstCaseCost } from '../../src/index.js';
import { startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';

const ADMIN = 'multi-instance-admin-token-42';
const BASE_DB_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `tokenhub_multi_${process.pid}_${Date.now()}`;
const dbUrl = (() => {
  const u = new URL(BASE_DB_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

let upstream: OpenAIStandin;
let admin: pg.Client;
const children: ChildProcess[] = [];
const urls: string[] = [];

function startInstance(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      TOKENHUB_ADMIN_TOKEN: ADMIN,
      OPENAI_API_KEY: upstream.apiKey,
      OPENAI_BASE_URL: upstream.baseURL,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`instance did not start: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`instance exited ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  upstream.state.delayMs = 40; // keep requests in flight together
  admin = new pg.Client({ connectionString: BASE_DB_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  // Start one first so the schema is created once, then the second against it; both migrate idempotently anyway.
  urls.push(await startInstance());
  urls.push(await startInstance());
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await upstream.close();
});

const body = { model: 'openai/gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'Summarise: the meeting moved to Tuesday.' }] };
const reservation = worstCaseCost(defaultPricing().get('openai/gpt-4o-mini')!, requestFeatures(parseChatRequest(body)));
const actual = 8; // 12 in + 9 out on gpt-4o-mini, rounded up

describe('two gateway instances', () => {
  it('never overspend one capped key under 60 concurrent requests split across both', async () => {
    const limitMicros = reservation * 8 + Math.floor(reservation / 3);
    const created = await fetch(`${urls[0]}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shared', monthlyLimitUsd: limitMicros / 1e6 }),
    });
    const { id, key } = (await created.json()) as { id: string; key: string };

    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${urls[i % 2]}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, id: r.headers.get('x-inferoute-request-id'), instance: i % 2, text: await r.text() })),
      ),
    );
    const admitted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(admitted.length + refused.length).toBe(60);
    expect(admitted.length).toBeGreaterThanOrEqual(8);
    expect(refused.length).toBeGreaterThan(0);
    // Both instances answered: whichever admitted, the other saw its holds in the shared store.
    expect(new Set(results.map((r) => r.instance)).size).toBe(2);
    expect(upstream.state.requests).toHaveLength(admitted.length);

    // The shared ledger: exactly the admitted requests' cost, within the cap, as either instance reads it. Each
    // instance settles as its answers go out and its admin API waits for its own settles: ask the first, then read
    // through the second.
    await fetch(`${urls[0]}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.arrayBuffer());
    const keys = (await (await fetch(`${urls[1]}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { data: Array<{ id: string; monthSpendUsd: number }> };
    const spent = Math.round(keys.data.find((k) => k.id === id)!.monthSpendUsd * 1e6);
    expect(spent).toBe(admitted.length * actual);
    expect(spent).toBeLessThanOrEqual(limitMicros);
    // It lives in Redis, not in either process; clean it up.
    const redis = new Redis(REDIS_URL);
    const counters = await redis.keys(`tokenhub:{${id}}:*`);
    expect(counters.length).toBeGreaterThan(0);
    await redis.del(...counters);
    await redis.quit();

    // Every admitted request has exactly one usage record in PostgreSQL (records are flushed in batches: poll).
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      let rows: Array<{ id: string; n: string }> = [];
      for (let i = 0; i < 100; i++) {
        rows = (await db.query<{ id: string; n: string }>('SELECT id, count(*) AS n FROM tokenhub_usage WHERE key_id = $1 GROUP BY id', [id])).rows;
        if (rows.length === 60) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows).toHaveLength(60);
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
      const recorded = new Set(rows.map((r) => r.id));
      for (const r of admitted) expect(recorded.has(r.id!)).toBe(true);
    } finally {
      await db.end();
    }
    console.log(`two instances: ${admitted.length} admitted, ${refused.length} refused; settled ${spent} µ$ of a ${limitMicros} µ$ cap`);
  });
});
