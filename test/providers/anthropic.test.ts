// Anthropic Messages mapping, both ways and streamed: pure functions, no sockets.
import { describe, expect, it } from 'vitest';
import { defaultPricing } from '../../src/core/pricing.js';
import { HubError } from '../../src/core/errors.js';
import { parseChatRequest } from '../../src/core/request.js';
import { anthropic } from '../../src/providers/anthropic/index.js';
import { toAnthropicRequest } from '../../src/providers/anthropic/request.js';
import { fromAnthropicResponse, type AnthropicMessageResponse } from '../../src/providers/anthropic/response.js';
import { UpstreamStreamError, type ExchangeInfo } from '../../src/providers/types.js';
import type { SseEvent } from '../../src/stream/sse.js';

const sonnet = defaultPricing().get('anthropic/claude-3-5-sonnet')!;
const info: ExchangeInfo = { id: 'chatcmpl-abc123', created: 1_750_000_000, model: 'anthropic/claude-3-5-sonnet' };
const user = (content: unknown) => ({ role: 'user', content });
const map = (body: Record<string, unknown>, stream = false) =>
  toAnthropicRequest(parseChatRequest({ model: 'anthropic/claude-3-5-sonnet', messages: [user('Hi')], ...body }), sonnet, stream);

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('request mapping', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['model is the upstream id; max_tokens defaults to the catalog output limit', {}, { model: 'claude-sonnet-4-5', max_tokens: 8192, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }],
    ['max_tokens is passed', { max_tokens: 300 }, { max_tokens: 300 }],
    ['max_completion_tokens wins over max_tokens', { max_tokens: 300, max_completion_tokens: 200 }, { max_tokens: 200 }],
    ['system and developer messages become system, in order', {
      messages: [{ role: 'system', content: 'Be brief.' }, user('Hi'), { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] }],
    }, { system: 'Be brief.\n\nAnswer in French.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }],
    ['consecutive same-role turns merge', {
      messages: [user('One'), user([{ type: 'text', text: 'Two' }]), { role: 'assistant', content: 'A' }, { role: 'assistant', content: 'B' }, user('Three')],
    }, {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] },
        { role: 'user', content: [{ type: 'text', text: 'Three' }] },
      ],
    }],
    ['a data: URL image becomes a base64 source', {
      messages: [user([{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: 'data:image/PNG;base64,iVBORw0KGgo=' } }])],
    }, { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }] }],
    ['an https image becomes a url source', {
      messages: [user([{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } }])],
    }, { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } }] }] }],
    ['tools become tools with input_schema', { tools: [weatherTool] }, {
      tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: weatherTool.function.parameters }],
    }],
    ['a tool without parameters gets an empty object schema', { tools: [{ type: 'function', function: { name: 'now' } }] }, {
      tools: [{ name: 'now', input_schema: { type: 'object', properties: {} } }],
    }],
    ['tool_choice auto', { tools: [weatherTool], tool_choice: 'auto' }, { tool_choice: { type: 'auto' } }],
    ['tool_choice none', { tools: [weatherTool], tool_choice: 'none' }, { tool_choice: { type: 'none' } }],
    ['tool_choice required → any', { tools: [weatherTool], tool_choice: 'required' }, { tool_choice: { type: 'any' } }],
    ['tool_choice function → tool', { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { tool_choice: { type: 'tool', name: 'get_weather' } }],
    ['parallel_tool_calls: false → disable_parallel_tool_use', { tools: [weatherTool], parallel_tool_calls: false }, { tool_choice: { type: 'auto', disable_parallel_tool_use: true } }],
    ['parallel_tool_calls: false with required', { tools: [weatherTool], tool_choice: 'required', parallel_tool_calls: false }, { tool_choice: { type: 'any', disable_parallel_tool_use: true } }],
    ['stop string → stop_sequences', { stop: 'END' }, { stop_sequences: ['END'] }],
    ['stop array → stop_sequences', { stop: ['a', 'b'] }, { stop_sequences: ['a', 'b'] }],
    ['temperature and top_p pass', { temperature: 0.3, top_p: 0.9 }, { temperature: 0.3, top_p: 0.9 }],
    ['temperature above Anthropic’s 1 is clamped', { temperature: 1.7 }, { temperature: 1 }],
    ['user → metadata.user_id', { user: 'u-42' }, { metadata: { user_id: 'u-42' } }],
    ['a system-only conversation is sent as the user turn', { messages: [{ role: 'system', content: 'Say hi.' }] }, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hi.' }] }],
    }],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    expect(map(body)).toMatchObject(expected);
  });

  it('leaves out what the request did not set', () => {
    const out = map({});
    for (const k of ['system', 'stop_sequences', 'temperature', 'top_p', 'tools', 'tool_choice', 'metadata', 'stream']) expect(out).not.toHaveProperty(k);
  });

  it('drops tool_choice when there are no tools (Anthropic rejects it alone)', () => {
    expect(map({ tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
  });

  it('sets stream only for streams', () => {
    expect(map({}, true).stream).toBe(true);
  });

  it('replays a tool round trip: tool_use with parsed input, results as user tool_result blocks, then the user text', () => {
    const out = map({
      tools: [weatherTool],
      messages: [
        user('Weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }] },
        user('And tomorrow?'),
      ],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '21°C' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  it('skips empty turns (an assistant message with null content and no calls)', () => {
    const out = map({ messages: [user('a'), { role: 'assistant', content: null }, user('b')] });
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]);
  });

  const rejects: Array<[string, Record<string, unknown>, string]> = [
    ['n > 1', { n: 2 }, 'n'],
    ['arguments that are not a JSON object', {
      messages: [user('x'), { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1]' } }] }],
    }, 'messages[1].tool_calls[0].function.arguments'],
    ['an image that is neither http(s) nor base64', { messages: [user([{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }])] }, 'messages[0].content[0].image_url.url'],
    ['an audio part', { messages: [user([{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }])] }, 'messages[0].content[0].type'],
    ['a legacy function message', { messages: [user('x'), { role: 'function', name: 'f', content: '1' }] }, 'messages[1].role'],
  ];
  it.each(rejects)('answers 400 for %s, naming the field', (_name, body, param) => {
    let err: unknown;
    try {
      map(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(400);
    expect((err as HubError).param).toBe(param);
  });
});

describe('provider', () => {
  it('posts to {baseURL}/v1/messages with x-api-key, anthropic-version and extra headers', () => {
    const p = anthropic({ apiKey: 'sk-ant-test', baseURL: 'http://127.0.0.1:9/', headers: { 'anthropic-beta': 'x' } });
    const r = p.buildRequest(parseChatRequest({ model: 'anthropic/claude-3-5-sonnet', messages: [user('Hi')] }), sonnet, false);
    expect(p.name).toBe('anthropic');
    expect(r.url).toBe('http://127.0.0.1:9/v1/messages');
    expect(r.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'x', 'content-type': 'application/json' });
    expect(r.headers).not.toHaveProperty('authorization');
    expect(JSON.parse(r.body).model).toBe('claude-sonnet-4-5');
  });

  it('defaults to the public API and takes a name and version', () => {
    const p = anthropic({ apiKey: 'k', name: 'claude', version: '2024-01-01' });
    const r = p.buildRequest(parseChatRequest({ model: 'x/y', messages: [user('Hi')] }), sonnet, true);
    expect(p.name).toBe('claude');
    expect(r.url).toBe('https://api.anthropic.com/v1/messages');
    expect(r.headers['anthropic-version']).toBe('2024-01-01');
  });

  it('rejects a missing key at start-up', () => {
    expect(() => anthropic({ apiKey: '' })).toThrow();
  });

  const errors: Array<[number, string, string]> = [
    [400, '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}', 'max_tokens: Field required'],
    [529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}', 'Overloaded'],
    [502, '<html>Bad gateway</html>', 'upstream answered HTTP 502'],
    [500, '{"type":"error","error":{"type":"api_error"}}', 'upstream answered HTTP 500'],
  ];
  it.each(errors)('errorMessage(%i) reads the error body', (status, body, message) => {
    expect(anthropic({ apiKey: 'k' }).errorMessage(status, body)).toBe(message);
  });
});

const message = (over: Partial<AnthropicMessageResponse> = {}): AnthropicMessageResponse => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-3-5-sonnet-20241022',
  content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: ' world' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 25, output_tokens: 7 },
  ...over,
});

describe('response mapping', () => {
  it('joins text, uses the gateway id and public model, and reports usage', () => {
    const { completion, usage } = fromAnthropicResponse(message(), info);
    expect(completion).toMatchObject({
      id: 'chatcmpl-abc123',
      object: 'chat.completion',
      created: 1_750_000_000,
      model: 'anthropic/claude-3-5-sonnet',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 25, completion_tokens: 7, total_tokens: 32 },
    });
    expect(completion.choices[0]!.message).not.toHaveProperty('tool_calls');
    expect(usage).toEqual({ inputTokens: 25, outputTokens: 7, estimated: false });
  });

  it('counts cache writes and reads as input', () => {
    const { completion, usage } = fromAnthropicResponse(
      message({ usage: { input_tokens: 5, output_tokens: 3, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 } }),
      info,
    );
    expect(usage).toEqual({ inputTokens: 1105, outputTokens: 3, estimated: false });
    expect(completion.usage).toMatchObject({ prompt_tokens: 1105, total_tokens: 1108, prompt_tokens_details: { cached_tokens: 1000 } });
  });

  it('maps tool_use blocks to tool_calls with JSON-string arguments', () => {
    const { completion } = fromAnthropicResponse(
      message({
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
        ],
        stop_reason: 'tool_use',
      }),
      info,
    );
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
    });
  });

  it('leaves thinking blocks out of the text', () => {
    const { completion } = fromAnthropicResponse(message({ content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'Yes' }] }), info);
    expect(completion.choices[0]!.message.content).toBe('Yes');
  });

  const reasons: Array<[string | null, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ];
  it.each(reasons)('stop_reason %s → finish_reason %s', (stop, finish) => {
    expect(fromAnthropicResponse(message({ stop_reason: stop }), info).completion.choices[0]!.finish_reason).toBe(finish);
  });
});

// ---- streams ----

const ev = (data: Record<string, unknown>): SseEvent => ({ event: String(data.type), data: JSON.stringify(data) });
const start = (input = 25, output = 1, extra: Record<string, unknown> = {}) =>
  ev({ type: 'message_start', message: { id: 'msg_01', type: 'message', role: 'assistant', content: [], model: 'claude-3-5-sonnet-20241022', stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: output, ...extra } } });
const textStart = (index = 0) => ev({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
const textDelta = (text: string, index = 0) => ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const blockStop = (index = 0) => ev({ type: 'content_block_stop', index });
const messageDelta = (stop: string | null, output: number) => ev({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: output } });
const stop = ev({ type: 'message_stop' });
const ping = ev({ type: 'ping' });

function run(events: SseEvent[], includeUsage = false) {
  const t = anthropic({ apiKey: 'k' }).streamTranslator(info, includeUsage);
  const chunks = events.flatMap((e) => t.push(e)).concat(t.end()).map((c) => JSON.parse(c) as Record<string, any>);
  return { t, chunks };
}

describe('stream mapping', () => {
  const textStream = [start(), textStart(), ping, textDelta('Hello'), textDelta(', world'), blockStop(), messageDelta('end_turn', 15), stop];

  it('turns a text stream into role, content and finish chunks, and ends complete', () => {
    const { t, chunks } = run(textStream);
    expect(chunks.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'Hello' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: ', world' }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
    for (const c of chunks) expect(c).toMatchObject({ id: 'chatcmpl-abc123', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'anthropic/claude-3-5-sonnet' });
    expect(t.completed()).toBe(true);
    expect(t.usage()).toEqual({ inputTokens: 25, outputTokens: 15, estimated: false });
    expect(t.outputBytes()).toBe(Buffer.byteLength('Hello, world'));
  });

  it('adds a usage-only chunk at the end when the client asked for it', () => {
    const { chunks } = run(textStream, true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 } });
    expect(chunks.filter((c) => c.usage !== undefined)).toHaveLength(1);
  });

  it('assigns cumulative output from each message_delta instead of adding', () => {
    const { t } = run([start(10, 1), textStart(), textDelta('a'), messageDelta(null, 4), messageDelta('max_tokens', 9), stop]);
    expect(t.usage()).toEqual({ inputTokens: 10, outputTokens: 9, estimated: false });
  });

  it('counts cache tokens from message_start as input', () => {
    const { t, chunks } = run([start(3, 1, { cache_creation_input_tokens: 40, cache_read_input_tokens: 500 }), messageDelta('end_turn', 2), stop], true);
    expect(t.usage()).toEqual({ inputTokens: 543, outputTokens: 2, estimated: false });
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 543, prompt_tokens_details: { cached_tokens: 500 } });
  });

  it('maps max_tokens to a length finish', () => {
    const { chunks } = run([start(), textStart(), textDelta('x'), messageDelta('max_tokens', 1), stop]);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('length');
  });

  it('streams tool calls: id and name first, then argument fragments, each call with its own index', () => {
    const { chunks, t } = run([
      start(),
      textStart(0), textDelta('Let me check.', 0), blockStop(0),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
      blockStop(1),
      ev({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} } }),
      ev({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } }),
      blockStop(2),
      messageDelta('tool_use', 60),
      stop,
    ]);
    const deltas = chunks.map((c) => c.choices[0].delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Let me check.' },
      { tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
      {},
    ]);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
    expect(t.completed()).toBe(true);
  });

  it('raises an upstream error event as UpstreamStreamError with its message and type', () => {
    const t = anthropic({ apiKey: 'k' }).streamTranslator(info, false);
    t.push(start());
    t.push(textDelta('partial'));
    let err: unknown;
    try {
      t.push(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UpstreamStreamError);
    expect((err as UpstreamStreamError).message).toBe('Overloaded');
    expect((err as UpstreamStreamError).providerType).toBe('overloaded_error');
    expect(t.completed()).toBe(false);
  });

  it('a stream cut before message_stop is incomplete, with input known and output as far as reported', () => {
    const { t } = run([start(25, 1), textStart(), textDelta('Hello')]);
    expect(t.completed()).toBe(false);
    expect(t.usage()).toEqual({ inputTokens: 25, outputTokens: 1, estimated: false });
    expect(t.outputBytes()).toBe(5);
  });

  it('ignores ping, content_block_stop, thinking and unknown events, but counts thinking toward output bytes', () => {
    const { chunks, t } = run([
      start(), ping,
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'abc' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
      blockStop(0),
      ev({ type: 'some_future_event' }),
    ]);
    expect(chunks).toHaveLength(1);
    expect(t.outputBytes()).toBe(3);
  });
});
