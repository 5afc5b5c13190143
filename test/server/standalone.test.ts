// The standalone server as `npm start` runs it: env config, SQLite that survives a restart, the admin token, SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { startOpenAIStandin, DEFAULT_REPLY, type OpenAIStandin } from '../support/openai-standin.js';

const quiet = { info() {}, warn() {}, error() {} };
let upstream: OpenAIStandin;
let dir: string;

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  dir = mkdtempSync(join(tmpdir(), 'tokenhub-server-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (db: string, extra: Record<string, string> = {}) => ({
  PORT: '0',
  HOST: '127.0.0.1',
  TOKENHUB_DB: db,
  TOKENHUB_ADMIN_TOKEN: 'standalone-admin-token-123456',
  OPENAI_API_KEY: upstream.apiKey,
  OPENAI_BASE_URL: upstream.baseURL,
  ...extra,
});
const admin = { authorization: 'Bearer standalone-admin-token-123456', 'content-type': 'application/json' };
const chat = (url: string, key: string, body: unknown = { model: 'economy', messages: [{ role: 'user', content: 'hi' }] }) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('standalone server', () => {
  it('creates the SQLite file on first start, and keeps keys and spend across a restart', async () => {
    const db = join(dir, 'nested', 'tokenhub.db');
    const first = await startServer(env(db), quiet);
    expect(existsSync(db)).toBe(true);
    const created = await fetch(`${first.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'team-a', monthlyLimitUsd: 50 }) });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    const res = await chat(first.url, key);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(DEFAULT_REPLY);
    await first.close();

    const second = await startServer(env(db), quiet);
    try {
      const keys = (await (await fetch(`${second.url}/admin/keys`, { headers: admin })).json()) as { data: Array<Record<string, unknown>> };
      expect(keys.data).toEqual([expect.objectContaining({ id, name: 'team-a', monthlyLimitUsd: 50, monthSpendUsd: 0.000008 })]);
      expect((await chat(second.url, key)).status).toBe(200);
      const usage = (await (await fetch(`${second.url}/admin/usage?groupBy=model`, { headers: admin })).json()) as { rows: unknown[]; totals: unknown };
      expect(usage.totals).toEqual({ requests: 2, inputTokens: 24, outputTokens: 18, costUsd: 0.000016 });
      expect(usage.rows).toEqual([{ group: 'openai/gpt-4o-mini', requests: 2, inputTokens: 24, outputTokens: 18, costUsd: 0.000016 }]);
    } finally {
      await second.close();
    }
  });

  it('answers /healthz and refuses a bad environment with a readable message', async () => {
    await expect(startServer({ ...env(join(dir, 'x.db')), PORT: 'eighty' }, quiet)).rejects.toThrow(/PORT/);
    const s = await startServer(env(join(dir, 'h.db')), quiet);
    try {
      expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ ok: true });
    } finally {
      await s.close();
    }
  });

  it('generates and prints an admin token once when none is configured', async () => {
    const lines: string[] = [];
    const s = await startServer({ ...env(join(dir, 'g.db')), TOKENHUB_ADMIN_TOKEN: '' }, { ...quiet, info: (m: string) => lines.push(m) });
    try {
      const line = lines.find((l) => l.includes('generated an admin token'));
      expect(line).toBeDefined();
      const token = /(tha-[A-Za-z0-9_-]+)/.exec(line!)![1]!;
      expect((await fetch(`${s.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('on SIGTERM finishes an in-flight stream, records it, and exits 0', async () => {
    const db = join(dir, 'sigterm.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, ...env(db) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const created = await fetch(`${url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'drain' }) });
    const { key } = (await created.json()) as { key: string };
    upstream.state.chunkDelayMs = 150;
    const res = await chat(url, key, { model: 'economy', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const reading = res.text();
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const body = await reading;
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    upstream.reset();
    expect(body).toContain('data: [DONE]');
    expect(code).toBe(0);
    expect(out).not.toContain(key);

    // The drained request's usage record was flushed before exit.
    const again = await startServer(env(db), quiet);
    try {
      const usage = (await (await fetch(`${again.url}/admin/usage`, { headers: admin })).json()) as { totals: { requests: number } };
      expect(usage.totals.requests).toBe(1);
    } finally {
      await again.close();
    }
  });
});
