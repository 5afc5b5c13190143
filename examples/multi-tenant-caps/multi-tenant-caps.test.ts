// Runs examples/multi-tenant-caps: each customer spends against its own plan's cap, and the app turns the 429 into its own 402.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../../test/support/openai-standin.js';
import { runExample, type RunningExample } from '../shared/run.js';

let upstream: OpenAIStandin;
let app: RunningExample;

beforeAll(async () => {
  upstream = await startOpenAIStandin();
  app = await runExample('multi-tenant-caps', { OPENAI_API_KEY: upstream.apiKey, OPENAI_BASE_URL: upstream.baseURL });
});
afterAll(async () => {
  expect(await app.stop()).toBe(0);
  await upstream.close();
});

const summarize = async (customer: string) => {
  const res = await fetch(`${app.url}/customers/${customer}/summarize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'A long customer email about an invoice.' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

it('answers within the plan, then refuses with the app’s own 402 once the free plan’s month is spent; other customers go on', async () => {
  const first = await summarize('tiny-startup');
  expect(first.status).toBe(200);
  expect(first.body.summary).toBe(DEFAULT_REPLY);
  expect(first.body.budgetLeftUsd).toBeCloseTo(0.05 - 0.000008, 6);

  // A long answer: 100,000 output tokens on gpt-4o-mini cost $0.06, more than the free plan's $0.05.
  upstream.state.reply.completionTokens = 100_000;
  expect((await summarize('tiny-startup')).status).toBe(200);
  const before = upstream.state.requests.length;
  const refused = await summarize('tiny-startup');
  expect(refused).toEqual({ status: 402, body: { error: "This month's AI budget of the free plan ($0.05) is used up.", upgrade: '/billing' } });
  expect(upstream.state.requests.length).toBe(before); // refused before any upstream call

  const acme = await summarize('acme');
  expect(acme.status).toBe(200);
  expect(acme.body.budgetLeftUsd).toBeCloseTo(25 - 0.06 - 0.000002, 4);
  expect((await summarize('nobody')).status).toBe(404);
});
