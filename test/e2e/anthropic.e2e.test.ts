// End to end with the official OpenAI SDK against a local Anthropic Messages stand-in (and an OpenAI one for fallback).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { anthropic, openai } from '../../src/index.js';
import { ANTHROPIC_REPLY, anthropicError, startAnthropicStandin, type AnthropicStandin } from '../support/anthropic-standin.js';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let claude: AnthropicStandin;
let oai: OpenAIStandin;
let gw: TestGateway;

beforeAll(async () => {
  claude = await startAnthropicStandin();
  oai = await startOpenAIStandin();
  gw = await startGateway({
    cooldownMs: 60_000,
    providers: [anthropic({ apiKey: claude.apiKey, baseURL: claude.baseURL }), openai({ apiKey: oai.apiKey, baseURL: oai.baseURL })],
  });
});
afterAll(async () => {
  await gw.close();
  await claude.close();
  await oai.close();
});
afterEach(() => {
  claude.reset();
  oai.reset();
  gw.hub.engine.health.succeed('anthropic');
  gw.hub.engine.health.succeed('openai');
});

const SONNET = 'anthropic/claude-3-5-sonnet';
const ask: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Summarise: the meeting moved to Thursday.' },
];
const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

async function usageOf(requestId: string) {
  for (let i = 0; i < 100; i++) {
    await gw.hub.engine.flushUsage();
    const r = await gw.hub.engine.storage.usage.get(requestId);
    if (r !== null) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('usage record never appeared');
}

describe('JSON completions', () => {
  it('answers from Claude with the mapped request, SPEC headers and the exact cost', async () => {
    const { key } = await gw.createKey({ monthlyLimitUsd: 10 });
    const { data, response } = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask }).withResponse();
    expect(data.choices[0]!.message.content).toBe(ANTHROPIC_REPLY);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe(SONNET);
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 11, total_tokens: 36 });
    expect(response.headers.get('x-inferoute-provider')).toBe('anthropic');
    expect(response.headers.get('x-inferoute-model')).toBe(SONNET);
    // 25 × $3/M + 11 × $15/M = 75 + 165 = 240 micro-USD.
    expect(response.headers.get('x-inferoute-cost-usd')).toBe('0.000240');
    expect(response.headers.get('x-inferoute-spend-remaining-usd')).toBe('9.999760');

    const sent = claude.state.requests[0]!;
    expect(sent.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 8192,
      system: 'You are terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise: the meeting moved to Thursday.' }] }],
    });
    expect(sent.headers['x-api-key']).toBe(claude.apiKey);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain(key);
  });

  it('bills cache writes and reads as input tokens', async () => {
    const { key } = await gw.createKey();
    Object.assign(claude.state.reply, { inputTokens: 20, cacheCreationInputTokens: 200, cacheReadInputTokens: 2000, outputTokens: 30 });
    const { data, response } = await gw.client(key).chat.completions.create({ model: 'anthropic/claude-3-haiku', messages: ask, max_tokens: 64 }).withResponse();
    expect(data.usage).toMatchObject({ prompt_tokens: 2220, completion_tokens: 30 });
    // 2220 × $0.25/M + 30 × $1.25/M = 555 + 37.5 → 593 micro-USD (rounded up).
    expect(response.headers.get('x-inferoute-cost-usd')).toBe('0.000593');
    expect(claude.state.requests[0]!.body).toMatchObject({ model: 'claude-3-haiku-20240307', max_tokens: 64 });
  });

  it('round-trips tool calls: tool_use out as tool_calls, tool results back as tool_result blocks', async () => {
    const { key } = await gw.createKey();
    const client = gw.client(key);
    claude.state.reply.content = '';
    claude.state.reply.toolCalls = [{ id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } }];
    const first = await client.chat.completions.create({ model: SONNET, messages: ask, tools: [weatherTool], tool_choice: 'required' });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(claude.state.requests[0]!.body).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'any' },
    });

    claude.reset();
    await client.chat.completions.create({
      model: SONNET,
      tools: [weatherTool],
      messages: [...ask, choice.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C and sunny' }],
    });
    expect(claude.state.requests[0]!.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '18°C and sunny' }] },
    ]);
  });

  it('passes Anthropic’s own 400 through with its message, without retrying elsewhere', async () => {
    const { key } = await gw.createKey();
    claude.fail(400, 1, anthropicError('invalid_request_error', 'messages.0.content: text content blocks must be non-empty'));
    const err = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('text content blocks must be non-empty');
    expect(oai.state.requests).toHaveLength(0);
  });
});

describe('streaming', () => {
  it('streams the stand-in’s text exactly and bills the stream exactly from message_start and message_delta', async () => {
    const { id, key } = await gw.createKey();
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask, stream: true }).withResponse();
    expect(response.headers.get('x-inferoute-provider')).toBe('anthropic');
    let text = '';
    const roles: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.model).toBe(SONNET);
      expect(chunk.usage ?? undefined).toBeUndefined();
      const c = chunk.choices[0]!;
      if (c.delta.role) roles.push(c.delta.role);
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
    expect(text).toBe(ANTHROPIC_REPLY);
    expect(roles).toEqual(['assistant']);
    expect(finish).toBe('stop');
    expect(claude.state.requests[0]!.body.stream).toBe(true);
    const usage = await gw.admin('GET', `/admin/usage?keyId=${id}`);
    expect(usage.body.totals).toEqual({ requests: 1, inputTokens: 25, outputTokens: 11, costUsd: 0.00024 });
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ estimated: false, streamed: true, provider: 'anthropic', errorCode: null });
  });

  it('sends the usage chunk last when the client asks for it', async () => {
    const { key } = await gw.createKey();
    const stream = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 11, total_tokens: 36 });
  });

  it('streams tool calls the SDK assembles into whole calls', async () => {
    const { key } = await gw.createKey();
    claude.state.reply.content = 'Let me look.';
    claude.state.reply.toolCalls = [
      { id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
      { id: 'toolu_01B', name: 'get_weather', input: { city: 'Rome' } },
    ];
    const stream = gw.client(key).chat.completions.stream({ model: SONNET, messages: ask, tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.content).toBe('Let me look.');
    expect(final.choices[0]!.message.tool_calls!.map((t) => [t.id, t.type === 'function' && t.function.name, t.type === 'function' && t.function.arguments])).toEqual([
      ['toolu_01A', 'get_weather', '{"city":"Paris"}'],
      ['toolu_01B', 'get_weather', '{"city":"Rome"}'],
    ]);
  });

  it('ends in an error the SDK raises when Claude sends an error event mid-stream, and bills what was seen', async () => {
    const { key } = await gw.createKey();
    claude.state.errorAfterChunks = 2;
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask, stream: true }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('Overloaded');
    expect(text.length).toBeGreaterThan(0);
    expect(ANTHROPIC_REPLY.startsWith(text)).toBe(true);
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    // Input as message_start reported it; output estimated from the text seen, never zero.
    expect(record).toMatchObject({ estimated: true, inputTokens: 25, errorCode: 'upstream_error' });
    expect(record.outputTokens).toBeGreaterThan(0);
    expect(record.cost).toBe(Math.ceil((25 * 3_000_000 + record.outputTokens * 15_000_000) / 1_000_000));
  });

  it('ends in an error the SDK raises when the connection is cut, and bills what was seen', async () => {
    const { key } = await gw.createKey();
    claude.state.cutAfterChunks = 2;
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask, stream: true }).withResponse();
    let text = '';
    await expect(async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    }).rejects.toThrow();
    expect(ANTHROPIC_REPLY.startsWith(text)).toBe(true);
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ estimated: true, inputTokens: 25, errorCode: 'stream_interrupted' });
    expect(record.outputTokens).toBeGreaterThan(0);
    expect(record.cost).toBeGreaterThan(0);
  });
});

describe('faults', () => {
  it('falls back to the next candidate on 529 overloaded without the client noticing', async () => {
    // The key may use Claude models and gpt-4o, so "economy" ranks claude-3-haiku first.
    const { key } = await gw.createKey({ allowedModels: ['anthropic/claude-3-haiku', 'anthropic/claude-3-5-sonnet', 'openai/gpt-4o'] });
    // Overloaded for both Claude models: haiku, then sonnet, then gpt-4o answers.
    claude.fail(529, 2);
    const { data, response } = await gw.client(key).chat.completions.create({ model: 'economy', messages: ask }).withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(response.headers.get('x-inferoute-model')).toBe('openai/gpt-4o');
    expect(claude.state.requests.map((r) => r.body.model)).toEqual(['claude-3-haiku-20240307', 'claude-sonnet-4-5']);
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ attempts: 3, providersTried: ['anthropic', 'anthropic', 'openai'], status: 200 });
    const health = await gw.admin('GET', '/admin/providers');
    expect(health.body.data.find((p: { provider: string }) => p.provider === 'anthropic')).toMatchObject({ coolingDown: true, lastFailure: 'server_error' });
  });

  it('answers 502 when Anthropic refuses the gateway’s key, and shows the provider cooling down', async () => {
    const { key } = await gw.createKey();
    claude.fail(401);
    const err = await gw.client(key).chat.completions.create({ model: SONNET, messages: ask }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).not.toContain(claude.apiKey);
    const health = await gw.admin('GET', '/admin/providers');
    expect(health.body.data.find((p: { provider: string }) => p.provider === 'anthropic')).toMatchObject({ coolingDown: true, lastFailure: 'auth' });
  });
});
