// Routing through the whole pipeline: balanced by default for "auto", the reason header, and spend-aware tapering.
import { describe, expect, it } from 'vitest';
import type { Micros } from '../../src/index.js';
import { useOpenAIGateway } from '../support/gateway.js';

const fixture = useOpenAIGateway();

const review = {
  model: 'auto',
  messages: [
    { role: 'system' as const, content: 'You are a senior engineer. Review this pull request for bugs and security issues.' },
    { role: 'user' as const, content: '```ts\nexport function add(a: number, b: number) { return a - b; }\n```' },
  ],
};

describe('routing end to end', () => {
  it('sends a code review on "auto" to the premium tier and says why', async () => {
    const { key } = await fixture.gw.createKey();
    const { response } = await fixture.gw.client(key).chat.completions.create(review).withResponse();
    expect(response.headers.get('x-inferoute-strategy')).toBe('balanced');
    expect(response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o');
    expect(response.headers.get('x-inferoute-reason')).toMatch(/^balanced: intent=code tier=premium/);
  });

  it('tapers "auto" down the tiers once a key has spent past its thresholds, and never touches a named model', async () => {
    const engine = fixture.gw.hub.engine;
    const { record, secret } = await engine.keys.create({
      name: 'tapering', monthlyLimit: 1_000_000 as Micros, allowedModels: null, settings: { taperAt: [0.5, 0.6] },
    });
    const client = fixture.gw.client(secret);
    const before = await client.chat.completions.create(review).withResponse();
    expect(before.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o');

    // Spend 65% of the cap this month: two thresholds passed, premium → economy.
    const month = new Date().toISOString().slice(0, 7);
    const r = { requestId: 'seed-spend', keyId: record.id, month, amount: 650_000 as Micros };
    await engine.storage.spend.reserve(r, record.monthlyLimit);
    await engine.storage.spend.settle(r, 650_000 as Micros);

    const after = await client.chat.completions.create(review).withResponse();
    expect(after.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
    expect(after.response.headers.get('x-inferoute-reason')).toMatch(/taper=/);
    const named = await client.chat.completions.create({ ...review, model: 'openai/gpt-4o' }).withResponse();
    expect(named.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o');
    await engine.flushUsage();
    const rec = await engine.storage.usage.get(after.response.headers.get('x-inferoute-request-id')!);
    expect(rec).toMatchObject({ strategy: 'balanced', model: 'openai/gpt-4o-mini', reason: expect.stringMatching(/taper=/) });
  });
});
