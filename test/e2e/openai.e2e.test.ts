// End to end through the five stages with the official OpenAI SDK against a local OpenAI stand-in.
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { DEFAULT_REPLY } from '../support/openai-standin.js';
import { useOpenAIGateway, type TestGateway } from '../support/gateway.js';

const fixture = useOpenAIGateway();

const ask = [{ role: 'user' as const, content: 'Classify this email as spam or not spam: "You won a prize!"' }];

describe('JSON completions', () => {
  it('answers a named model with the SPEC headers, exact cost and the served model in the body', async () => {
    const { key } = await fixture.gw.createKey({ monthlyLimitUsd: 50 });
    const { data, response } = await fixture.gw.client(key).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: ask }).withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(data.model).toBe('openai/gpt-4o-mini');
    expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 9 });
    const h = response.headers;
    expect(h.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
    expect(h.get('x-inferoute-provider')).toBe('openai');
    expect(h.get('x-inferoute-strategy')).toBe('fixed');
    expect(h.get('x-inferoute-request-id')).toMatch(/^[0-9a-f]{32}$/);
    // 12 × $0.15/M + 9 × $0.60/M = 1.8 + 5.4 = 7.2 micro-USD → 8, rounded up.
    expect(h.get('x-inferoute-cost-usd')).toBe('0.000008');
    expect(h.get('x-inferoute-spend-limit-usd')).toBe('50.000000');
    expect(h.get('x-inferoute-spend-remaining-usd')).toBe('49.999992');
    // The upstream saw its own model id, our provider key, and none of the client's credentials.
    const sent = fixture.upstream.state.requests[0]!;
    expect(sent.body.model).toBe('gpt-4o-mini');
    expect(sent.headers.authorization).toBe(`Bearer ${fixture.upstream.apiKey}`);
    expect(JSON.stringify(sent.headers)).not.toContain(key);
  });

  it('routes "economy" and "auto" + X-Inferoute-Strategy: cost to the cheapest configured model', async () => {
    const { key } = await fixture.gw.createKey();
    const client = fixture.gw.client(key);
    const a = await client.chat.completions.create({ model: 'economy', messages: ask }).withResponse();
    expect(a.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
    expect(a.response.headers.get('x-inferoute-strategy')).toBe('cost');
    const b = await client.chat.completions
      .create({ model: 'auto', messages: ask }, { headers: { 'X-Inferoute-Strategy': 'cost' } })
      .withResponse();
    expect(b.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
    expect(b.data.model).toBe('openai/gpt-4o-mini');
    // The cost header overrides a named premium model too.
    const c = await client.chat.completions
      .create({ model: 'openai/gpt-4o', messages: ask }, { headers: { 'X-Inferoute-Strategy': 'cost' } })
      .withResponse();
    expect(c.response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
  });

  it('passes unknown fields through to an OpenAI-compatible upstream and keeps tools', async () => {
    const { key } = await fixture.gw.createKey();
    fixture.upstream.state.reply.toolCalls = [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }];
    const res = await fixture.gw.client(key).chat.completions.create({
      model: 'openai/gpt-4o',
      messages: ask,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'auto',
      // A vendor field neither the schema nor the SDK knows must still reach an OpenAI-compatible fixture.upstream.
      ...({ vendor_option: { priority: 'low' } } as object),
    });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls![0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(fixture.upstream.state.requests[0]!.body).toMatchObject({ vendor_option: { priority: 'low' }, tool_choice: 'auto', model: 'gpt-4o' });
  });
});

describe('streaming', () => {
  it('streams the upstream text as it comes, hides the usage chunk the client did not ask for, and bills exactly', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: 1 });
    const { data: stream, response } = await fixture.gw.client(key).chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: ask, stream: true })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o-mini');
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.usage ?? undefined).toBeUndefined();
      expect(chunk.model).toBe('openai/gpt-4o-mini');
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(DEFAULT_REPLY);
    expect(chunks).toBe(6); // role, 4 content pieces, finish — no usage chunk
    expect(fixture.upstream.state.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    const usage = await waitForUsage(fixture.gw, id, 1);
    expect(usage.totals).toMatchObject({ requests: 1, inputTokens: 12, outputTokens: 9, costUsd: 0.000008 });
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    const { key } = await fixture.gw.createKey();
    const stream = await fixture.gw.client(key).chat.completions.create({
      model: 'openai/gpt-4o-mini', messages: ask, stream: true, stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 });
  });

  it('ends a stream that fails mid-way with an error the SDK raises, and bills what was seen', async () => {
    const { id, key } = await fixture.gw.createKey();
    fixture.upstream.state.errorAfterChunks = 2;
    const stream = await fixture.gw.client(key).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: ask, stream: true });
    let text = '';
    await expect(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    }).rejects.toThrow(/error/i);
    expect(text.length).toBeGreaterThan(0);
    expect(DEFAULT_REPLY.startsWith(text)).toBe(true);
    const usage = await waitForUsage(fixture.gw, id, 1);
    expect(usage.totals.outputTokens).toBeGreaterThan(0);
    expect(usage.totals.inputTokens).toBeGreaterThan(0);
    expect(usage.totals.costUsd).toBeGreaterThan(0);
  });
});

/** Polls the admin usage API until `n` records of a key are visible (streams settle after the response ends). */
async function waitForUsage(g: TestGateway, keyId: string, n: number) {
  for (let i = 0; i < 100; i++) {
    const res = await g.admin('GET', `/admin/usage?keyId=${keyId}`);
    if (res.body.totals.requests >= n) return res.body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('usage record never appeared');
}
