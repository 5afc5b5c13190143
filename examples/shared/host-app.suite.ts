// The behaviour both host-app examples (Koa and Express) must show, run against whichever is named: its own pages, the session guard, TokenHub under /ai, per-team caps.
import { afterAll, beforeAll, expect, it } from 'vitest';
import OpenAI from 'openai';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../../test/support/openai-standin.js';
import { runExample, type RunningExample } from './run.js';

/** Starts examples/<name> as a user would and checks it end to end. */
export function hostAppSuite(name: 'koa-existing-app' | 'express-app'): void {
  let upstream: OpenAIStandin;
  let app: RunningExample;

  beforeAll(async () => {
    upstream = await startOpenAIStandin();
    app = await runExample(name, { OPENAI_API_KEY: upstream.apiKey, OPENAI_BASE_URL: upstream.baseURL });
  });
  afterAll(async () => {
    expect(await app.stop()).toBe(0);
    await upstream.close();
  });

  async function login(user: string, password: string): Promise<string> {
    const res = await fetch(`${app.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
    expect(res.status).toBe(200);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  it('keeps its own pages and refuses /ai to visitors who are not signed in', async () => {
    expect(await (await fetch(`${app.url}/`)).json()).toEqual({ app: name, user: null });
    const res = await fetch(`${app.url}/ai/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_signed_in');
    expect(upstream.state.requests).toHaveLength(0);
  });

  it('serves a signed-in user through TokenHub with the official SDK, billed to the team, and keeps the cookie from the upstream', async () => {
    const cookie = await login('alice', 'wonderland');
    // The SDK needs some apiKey; the session decides who pays, not the bearer token.
    const ai = new OpenAI({ apiKey: 'unused', baseURL: `${app.url}/ai/v1`, defaultHeaders: { cookie }, maxRetries: 0 });
    const { data, response } = await ai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(response.headers.get('x-inferoute-spend-limit-usd')).toBe('20.000000');
    const stream = await ai.chat.completions.create({ model: 'economy', messages: [{ role: 'user', content: 'Say hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_REPLY);
    for (const r of upstream.state.requests) {
      expect(r.headers.cookie).toBeUndefined();
      expect(r.headers.authorization).toBe(`Bearer ${upstream.apiKey}`);
    }

    // The admin API is behind the app's own auth: alice is not an admin, bob is, and sees team-red's key and spend.
    expect((await fetch(`${app.url}/ai/admin/keys`, { headers: { cookie } })).status).toBe(401);
    const admin = await login('bob', 'builder');
    const keys = (await (await fetch(`${app.url}/ai/admin/keys`, { headers: { cookie: admin } })).json()) as {
      data: Array<{ name: string; monthlyLimitUsd: number; monthSpendUsd: number; settings: { labels: Record<string, string> } }>;
    };
    expect(keys.data).toEqual([expect.objectContaining({ name: 'team-red', monthlyLimitUsd: 20, settings: { labels: { hostId: 'team-red' } } })]);
    expect(keys.data[0]!.monthSpendUsd).toBeGreaterThan(0);
  });
}
