// Runs examples/standalone like `npm start`: env config, SQLite that survives a restart, the admin API, a graceful SIGTERM.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import OpenAI from 'openai';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../../test/support/openai-standin.js';
import { runExample } from '../shared/run.js';

const ADMIN = 'standalone-example-admin-token';
let upstream: OpenAIStandin;
let dir: string;

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  dir = mkdtempSync(join(tmpdir(), 'tokenhub-example-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  HOST: '127.0.0.1',
  TOKENHUB_DB: join(dir, 'data', 'tokenhub.db'),
  TOKENHUB_ADMIN_TOKEN: ADMIN,
  OPENAI_API_KEY: upstream.apiKey,
  OPENAI_BASE_URL: upstream.baseURL,
});
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

it('serves the SDK, keeps keys and spend in SQLite across a restart, and lets a stream finish on SIGTERM', async () => {
  const first = await runExample('standalone', env());
  expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ ok: true });
  const created = await fetch(`${first.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'team-a', monthlyLimitUsd: 5 }) });
  expect(created.status).toBe(201);
  const { id, key } = (await created.json()) as { id: string; key: string };
  const client = (url: string) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
  const answer = await client(first.url).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  expect(answer.choices[0]!.message.content).toBe(DEFAULT_REPLY);
  expect(existsSync(env().TOKENHUB_DB)).toBe(true);

  // SIGTERM in the middle of a stream: the stream still ends properly, then the process exits 0.
  upstream.state.chunkDelayMs = 150;
  const stream = await client(first.url).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  let exited: Promise<number | null> | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    exited ??= first.stop();
  }
  expect(text).toBe(DEFAULT_REPLY);
  expect(await exited).toBe(0);
  upstream.state.chunkDelayMs = 0;

  const second = await runExample('standalone', env());
  try {
    const keys = (await (await fetch(`${second.url}/admin/keys`, { headers: admin })).json()) as { data: Array<Record<string, unknown>> };
    expect(keys.data).toEqual([expect.objectContaining({ id, name: 'team-a', monthlyLimitUsd: 5, monthSpendUsd: 0.000016 })]);
    const usage = (await (await fetch(`${second.url}/admin/usage`, { headers: admin })).json()) as { totals: { requests: number } };
    expect(usage.totals.requests).toBe(2);
    expect((await client(second.url).chat.completions.create({ model: 'economy', messages: [{ role: 'user', content: 'hi' }] })).model).toBe('openai/gpt-4o-mini');
  } finally {
    expect(await second.stop()).toBe(0);
  }
});
