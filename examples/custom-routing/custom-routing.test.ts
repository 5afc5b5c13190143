// Runs examples/custom-routing against OpenAI and Anthropic stand-ins and checks where each kind of request lands, and why.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAIStandin, type OpenAIStandin } from '../../test/support/openai-standin.js';
import { startAnthropicStandin } from '../../test/support/anthropic-standin.js';
import { runExample, type RunningExample } from '../shared/run.js';

const ADMIN = 'custom-routing-admin-token-1234';
let openaiUp: OpenAIStandin;
let anthropicUp: Awaited<ReturnType<typeof startAnthropicStandin>>;
let app: RunningExample;
const keys: Record<string, string> = {};

beforeAll(async () => {
  openaiUp = await startOpenAIStandin();
  anthropicUp = await startAnthropicStandin();
  app = await runExample('custom-routing', {
    OPENAI_API_KEY: openaiUp.apiKey,
    OPENAI_BASE_URL: openaiUp.baseURL,
    ANTHROPIC_API_KEY: anthropicUp.apiKey,
    ANTHROPIC_BASE_URL: anthropicUp.baseURL,
    TOKENHUB_ADMIN_TOKEN: ADMIN,
  });
  for (const customer of ['plain', 'acme', 'globex']) {
    const settings = customer === 'plain' ? {} : { labels: { customer } };
    const res = await fetch(`${app.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: customer, settings }),
    });
    expect(res.status).toBe(201);
    keys[customer] = ((await res.json()) as { key: string }).key;
  }
});
afterAll(async () => {
  expect(await app.stop()).toBe(0);
  await openaiUp.close();
  await anthropicUp.close();
});

async function ask(customer: string, o: { task?: string; metadata?: Record<string, string> } = {}) {
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[customer]}`, 'content-type': 'application/json', ...(o.task ? { 'x-task': o.task } : {}) },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'Here is the input.' }], ...(o.metadata ? { metadata: o.metadata } : {}) }),
  });
  expect(res.status).toBe(200);
  return { model: res.headers.get('x-inferoute-model'), strategy: res.headers.get('x-inferoute-strategy'), reason: res.headers.get('x-inferoute-reason') ?? '' };
}

it('sends classification and extraction to the economy tier', async () => {
  for (const task of ['classification', 'extraction']) {
    const r = await ask('plain', { task });
    expect(r).toMatchObject({ model: 'openai/gpt-4o-mini', strategy: 'house' });
    expect(r.reason).toContain('use=cheap-tasks');
  }
});

it('sends code review (tagged in metadata) to premium, and keeps Globex off Anthropic even then', async () => {
  const review = { metadata: { task: 'code-review' } };
  const plain = await ask('plain', review);
  expect(plain.model).toBe('anthropic/claude-3-5-sonnet'); // the cheaper premium model
  expect(plain.reason).toContain('use=code-review');
  const globex = await ask('globex', review);
  expect(globex.model).toBe('openai/gpt-4o');
  expect(globex.reason).toContain('never=globex-no-anthropic');
  expect(anthropicUp.state.requests).toHaveLength(1);
});

it('gives Acme premium for everything, and everyone else the cheapest model by default', async () => {
  const acme = await ask('acme', { task: 'classification' });
  expect(acme.model).toBe('anthropic/claude-3-5-sonnet');
  expect(acme.reason).toContain('use=acme-premium');
  const other = await ask('plain');
  expect(other.model).toBe('openai/gpt-4o-mini');
  expect(other.reason).toMatch(/^rules: cost: cheapest-eligible=openai\/gpt-4o-mini/);
});
