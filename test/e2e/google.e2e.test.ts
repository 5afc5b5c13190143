// End to end with the official OpenAI SDK against a local Gemini stand-in (and an OpenAI one for fallback).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { google, openai } from '../../src/index.js';
import { GEMINI_REPLY, googleError, startGeminiStandin, type GeminiStandin } from '../support/gemini-standin.js';
import { DEFAULT_REPLY, startOpenAIStandin, type OpenAIStandin } from '../support/openai-standin.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gemini: GeminiStandin;
let oai: OpenAIStandin;
let gw: TestGateway;

beforeAll(async () => {
  gemini = await startGeminiStandin();
  oai = await startOpenAIStandin();
  gw = await startGateway({
    cooldownMs: 60_000,
    providers: [google({ apiKey: gemini.apiKey, baseURL: gemini.baseURL }), openai({ apiKey: oai.apiKey, baseURL: oai.baseURL })],
  });
});
afterAll(async () => {
  await gw.close();
  await gemini.close();
  await oai.close();
});
afterEach(() => {
  gemini.reset();
  oai.reset();
  gw.hub.engine.health.succeed('google');
  gw.hub.engine.health.succeed('openai');
});

const FLASH = 'google/gemini-flash';
const ask: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Label the sentiment.' },
  { role: 'user', content: 'I love this keyboard.' },
];
const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
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
  it('"economy" answers from Gemini with the mapped request, SPEC headers and the exact cost (thoughts billed as output)', async () => {
    const { key } = await gw.createKey({ monthlyLimitUsd: 1 });
    Object.assign(gemini.state.reply, { promptTokens: 1200, candidatesTokens: 300, thoughtsTokens: 500 });
    const { data, response } = await gw.client(key).chat.completions.create({ model: 'economy', messages: ask, temperature: 0.2, max_tokens: 900 }).withResponse();
    expect(data.choices[0]!.message.content).toBe(GEMINI_REPLY);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe(FLASH);
    expect(data.usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 800, total_tokens: 2000, completion_tokens_details: { reasoning_tokens: 500 } });
    expect(response.headers.get('x-inferoute-model')).toBe(FLASH);
    expect(response.headers.get('x-inferoute-provider')).toBe('google');
    expect(response.headers.get('x-inferoute-strategy')).toBe('cost');
    // 1200 × $0.075/M + (300 + 500) × $0.30/M = 90 + 240 = 330 micro-USD.
    expect(response.headers.get('x-inferoute-cost-usd')).toBe('0.000330');
    expect(response.headers.get('x-inferoute-spend-remaining-usd')).toBe('0.999670');

    const sent = gemini.state.requests[0]!;
    expect(sent.url).toBe('/v1beta/models/gemini-2.0-flash-lite:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe(gemini.apiKey);
    expect(JSON.stringify(sent.headers)).not.toContain(key);
    expect(sent.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'I love this keyboard.' }] }],
      systemInstruction: { parts: [{ text: 'Label the sentiment.' }] },
      generationConfig: { maxOutputTokens: 900, temperature: 0.2 },
    });
    expect(oai.state.requests).toHaveLength(0);
  });

  it('maps JSON mode, images and stop sequences onto the Gemini request', async () => {
    const { key } = await gw.createKey();
    gemini.state.reply.content = '{"sentiment":"positive"}';
    const res = await gw.client(key).chat.completions.create({
      model: FLASH,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object', properties: { sentiment: { type: 'string', enum: ['positive', 'negative'] } }, required: ['sentiment'] } } },
      stop: ['\n\n'],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Mood of this photo?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ sentiment: 'positive' });
    expect(gemini.state.requests[0]!.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Mood of this photo?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] }],
      generationConfig: {
        stopSequences: ['\n\n'],
        responseMimeType: 'application/json',
        responseSchema: { type: 'OBJECT', properties: { sentiment: { type: 'STRING', enum: ['positive', 'negative'] } }, required: ['sentiment'] },
      },
    });
  });

  it('round-trips tool calls: functionCall out as tool_calls, tool results back as named functionResponse parts', async () => {
    const { key } = await gw.createKey();
    const client = gw.client(key);
    gemini.state.reply.functionCalls = [{ name: 'get_weather', args: { city: 'Paris' } }];
    const first = await client.chat.completions.create({ model: FLASH, messages: ask, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(call.id).toMatch(/^call_[0-9a-f]{32}_0$/);
    expect(gemini.state.requests[0]!.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });

    gemini.reset();
    const second = await client.chat.completions.create({
      model: FLASH,
      tools: [weatherTool],
      messages: [...ask, choice.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: '{"celsius":18}' }],
    });
    expect(second.choices[0]!.message.content).toBe(GEMINI_REPLY);
    expect(gemini.state.requests[0]!.body.contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { celsius: 18 } } }] },
    ]);
  });

  it('passes Gemini’s own 400 through with its message', async () => {
    const { key } = await gw.createKey();
    gemini.fail(400, 1, googleError(400, '* GenerateContentRequest.generation_config.stop_sequences: too many stop sequences'));
    const err = await gw.client(key).chat.completions.create({ model: FLASH, messages: ask }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('too many stop sequences');
    expect(oai.state.requests).toHaveLength(0);
  });
});

describe('streaming', () => {
  it('streams the stand-in’s text exactly over \\r\\n\\r\\n events, ends with [DONE], and bills exactly', async () => {
    const { id, key } = await gw.createKey();
    Object.assign(gemini.state.reply, { promptTokens: 1000, candidatesTokens: 400, thoughtsTokens: 0, chunks: 5 });
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: 'economy', messages: ask, stream: true }).withResponse();
    expect(response.headers.get('x-inferoute-provider')).toBe('google');
    let text = '';
    let finish: string | null = null;
    let chunks = 0;
    for await (const c of stream) {
      chunks += 1;
      expect(c.model).toBe(FLASH);
      expect(c.usage ?? undefined).toBeUndefined();
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(GEMINI_REPLY);
    expect(finish).toBe('stop');
    expect(chunks).toBe(6); // 5 text pieces (the first with the role), then the finish
    expect(gemini.state.requests[0]!.url).toBe('/v1beta/models/gemini-2.0-flash-lite:streamGenerateContent?alt=sse');
    // 1000 × $0.075/M + 400 × $0.30/M = 75 + 120 = 195 micro-USD, from the last usageMetadata only.
    const usage = await gw.admin('GET', `/admin/usage?keyId=${id}`);
    expect(usage.body.totals).toEqual({ requests: 1, inputTokens: 1000, outputTokens: 400, costUsd: 0.000195 });
    expect(await usageOf(response.headers.get('x-inferoute-request-id')!)).toMatchObject({ estimated: false, streamed: true, errorCode: null });
  });

  it('reads usage from a usage-only last chunk and sends the client’s usage chunk last, before [DONE]', async () => {
    const { key } = await gw.createKey();
    Object.assign(gemini.state.reply, { promptTokens: 50, candidatesTokens: 20, thoughtsTokens: 30 });
    gemini.state.usageOnlyLastChunk = true;
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: FLASH, messages: ask, stream: true, stream_options: { include_usage: true } }),
    });
    const frames = (await res.text()).trimEnd().split('\n\n');
    expect(frames.at(-1)).toBe('data: [DONE]');
    const last = JSON.parse(frames.at(-2)!.slice('data: '.length)) as OpenAI.ChatCompletionChunk;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 50, total_tokens: 100 });
  });

  it('streams function calls the SDK assembles into whole calls', async () => {
    const { key } = await gw.createKey();
    gemini.state.reply.functionCalls = [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_weather', args: { city: 'Rome' } }];
    const final = await gw.client(key).chat.completions.stream({ model: FLASH, messages: ask, tools: [weatherTool] }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const calls = final.choices[0]!.message.tool_calls!.map((t) => (t.type === 'function' ? [t.function.name, t.function.arguments] : null));
    expect(calls).toEqual([['get_weather', '{"city":"Paris"}'], ['get_weather', '{"city":"Rome"}']]);
    expect(new Set(final.choices[0]!.message.tool_calls!.map((t) => t.id)).size).toBe(2);
  });

  it('ends in an error the SDK raises when Gemini sends an error mid-stream, and bills what was seen', async () => {
    const { key } = await gw.createKey();
    gemini.state.errorAfterChunks = 2;
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: FLASH, messages: ask, stream: true }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('overloaded');
    expect(text.length).toBeGreaterThan(0);
    expect(GEMINI_REPLY.startsWith(text)).toBe(true);
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ estimated: true, inputTokens: 14, errorCode: 'upstream_error' });
    expect(record.outputTokens).toBeGreaterThan(0);
    expect(record.cost).toBeGreaterThan(0);
  });

  it('ends in an error the SDK raises when the connection is cut, and bills what was seen', async () => {
    const { key } = await gw.createKey();
    gemini.state.cutAfterChunks = 2;
    const { data: stream, response } = await gw.client(key).chat.completions.create({ model: FLASH, messages: ask, stream: true }).withResponse();
    let text = '';
    await expect(async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    }).rejects.toThrow();
    expect(text.length).toBeGreaterThan(0);
    expect(GEMINI_REPLY.startsWith(text)).toBe(true);
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ estimated: true, inputTokens: 14, errorCode: 'stream_interrupted' });
    expect(record.outputTokens).toBeGreaterThan(0);
    expect(record.cost).toBeGreaterThan(0);
  });
});

describe('faults', () => {
  it('a Gemini 503 falls back to the next cheapest model (gpt-4o-mini) without the client noticing', async () => {
    const { key } = await gw.createKey();
    gemini.fail(503);
    const { data, response } = await gw.client(key).chat.completions.create({ model: 'economy', messages: ask }).withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect(data.model).toBe('openai/gpt-4o-mini');
    expect(response.headers.get('x-inferoute-provider')).toBe('openai');
    const record = await usageOf(response.headers.get('x-inferoute-request-id')!);
    expect(record).toMatchObject({ attempts: 2, providersTried: ['google', 'openai'], status: 200 });
    const health = await gw.admin('GET', '/admin/providers');
    expect(health.body.data.find((p: { provider: string }) => p.provider === 'google')).toMatchObject({ coolingDown: true, lastFailure: 'server_error' });
  });

  it('a Gemini 429 before the first byte falls back for a stream too', async () => {
    const { key } = await gw.createKey();
    gemini.fail(429);
    const stream = await gw.client(key).chat.completions.create({ model: 'economy', messages: ask, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_REPLY);
    expect(gemini.state.requests).toHaveLength(1);
  });

  it('answers 502 when Gemini refuses the gateway’s key (its 400 API_KEY_INVALID), and shows the provider cooling down', async () => {
    const bad = await startGateway({ providers: [google({ apiKey: 'AIza-wrong', baseURL: gemini.baseURL })] });
    try {
      const { key } = await bad.createKey();
      const err = await bad.client(key).chat.completions.create({ model: FLASH, messages: ask }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      const health = await bad.admin('GET', '/admin/providers');
      expect(health.body.data).toEqual([expect.objectContaining({ provider: 'google', coolingDown: true, lastFailure: 'auth' })]);
    } finally {
      await bad.close();
    }
  });
});
