// Gemini generateContent mapping, both ways and streamed: pure functions, no sockets.
import { describe, expect, it } from 'vitest';
import { defaultPricing } from '../../src/core/pricing.js';
import { HubError } from '../../src/core/errors.js';
import { parseChatRequest } from '../../src/core/request.js';
import { google, googleErrorStatus } from '../../src/providers/google/index.js';
import { toGeminiRequest } from '../../src/providers/google/request.js';
import { fromGeminiResponse, type GeminiResponse, type GeminiResponsePart } from '../../src/providers/google/response.js';
import { parametersOf, responseSchemaOf } from '../../src/providers/google/schema.js';
import { UpstreamStreamError, type ExchangeInfo } from '../../src/providers/types.js';
import type { SseEvent } from '../../src/stream/sse.js';

const flash = defaultPricing().get('google/gemini-flash')!;
const info: ExchangeInfo = { id: 'chatcmpl-req7', created: 1_750_000_000, model: 'google/gemini-flash' };
const user = (content: unknown) => ({ role: 'user', content });
const map = (body: Record<string, unknown>) =>
  toGeminiRequest(parseChatRequest({ model: 'google/gemini-flash', messages: [user('Hi')], ...body }), flash);

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather by city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'], additionalProperties: false },
  },
};

describe('request mapping', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['a user message becomes a user content with a text part', {}, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }],
    ['system and developer messages become systemInstruction', {
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'developer', content: [{ type: 'text', text: 'In French.' }] }, user('Hi')],
    }, { systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'In French.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }],
    ['assistant turns are model turns; same-role turns merge', {
      messages: [user('a'), user('b'), { role: 'assistant', content: 'c' }, { role: 'assistant', content: 'd' }, user('e')],
    }, {
      contents: [
        { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
        { role: 'model', parts: [{ text: 'c' }, { text: 'd' }] },
        { role: 'user', parts: [{ text: 'e' }] },
      ],
    }],
    ['max_tokens → maxOutputTokens', { max_tokens: 256 }, { generationConfig: { maxOutputTokens: 256 } }],
    ['max_completion_tokens wins', { max_tokens: 256, max_completion_tokens: 100 }, { generationConfig: { maxOutputTokens: 100 } }],
    ['temperature and top_p', { temperature: 1.5, top_p: 0.8 }, { generationConfig: { temperature: 1.5, topP: 0.8 } }],
    ['stop string → stopSequences', { stop: 'END' }, { generationConfig: { stopSequences: ['END'] } }],
    ['stop array → stopSequences', { stop: ['x', 'y'] }, { generationConfig: { stopSequences: ['x', 'y'] } }],
    ['n → candidateCount', { n: 3 }, { generationConfig: { candidateCount: 3 } }],
    ['seed and penalties', { seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 }, { generationConfig: { seed: 7, presencePenalty: 0.5, frequencyPenalty: -0.5 } }],
    ['json_object → responseMimeType', { response_format: { type: 'json_object' } }, { generationConfig: { responseMimeType: 'application/json' } }],
    ['json_schema → responseMimeType and responseSchema', {
      response_format: { type: 'json_schema', json_schema: { name: 'r', strict: true, schema: { type: 'object', properties: { label: { type: 'string', enum: ['spam', 'ham'] }, score: { type: ['number', 'null'] }, tags: { type: 'array', items: { type: 'string' }, minItems: 1 } }, required: ['label'], additionalProperties: false } } },
    }, {
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: { type: 'OBJECT', properties: { label: { type: 'STRING', enum: ['spam', 'ham'] }, score: { type: 'NUMBER', nullable: true }, tags: { type: 'ARRAY', items: { type: 'STRING' }, minItems: '1' } }, required: ['label'] },
      },
    }],
    ['a data: URL image → inlineData', { messages: [user([{ type: 'text', text: 'What?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }])] }, {
      contents: [{ role: 'user', parts: [{ text: 'What?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }] }],
    }],
    ['an https image → fileData with a MIME type from the extension', { messages: [user([{ type: 'image_url', image_url: { url: 'https://example.com/a/cat.PNG?x=1' } }])] }, {
      contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png', fileUri: 'https://example.com/a/cat.PNG?x=1' } }] }],
    }],
    ['tools → functionDeclarations with Gemini schema types', { tools: [weatherTool] }, {
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather by city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING', description: 'City name' } }, required: ['city'] } }] }],
    }],
    ['a tool without properties has no parameters', { tools: [{ type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } }] }, {
      tools: [{ functionDeclarations: [{ name: 'now' }] }],
    }],
    ['tool_choice auto → AUTO', { tools: [weatherTool], tool_choice: 'auto' }, { toolConfig: { functionCallingConfig: { mode: 'AUTO' } } }],
    ['tool_choice none → NONE', { tools: [weatherTool], tool_choice: 'none' }, { toolConfig: { functionCallingConfig: { mode: 'NONE' } } }],
    ['tool_choice required → ANY', { tools: [weatherTool], tool_choice: 'required' }, { toolConfig: { functionCallingConfig: { mode: 'ANY' } } }],
    ['tool_choice function → ANY with allowedFunctionNames', { tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, {
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    }],
    ['a system-only conversation is sent as the user turn', { messages: [{ role: 'system', content: 'Say hi.' }] }, { contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] }],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    expect(map(body)).toMatchObject(expected);
  });

  it('leaves out what the request did not set', () => {
    const out = map({});
    for (const k of ['systemInstruction', 'generationConfig', 'tools', 'toolConfig']) expect(out).not.toHaveProperty(k);
    expect(map({ n: 1 })).not.toHaveProperty('generationConfig');
  });

  it('replays a tool round trip: functionCall parts, then functionResponse parts named from the earlier calls', () => {
    const out = map({
      tools: [weatherTool],
      messages: [
        user('Paris and Rome?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: '"14:00"' },
        { role: 'tool', tool_call_id: 'call_a', content: '{"celsius":18}' },
        { role: 'tool', tool_call_id: 'call_a', content: 'sunny, then rain' },
        user('Thanks'),
      ],
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_time', response: { output: '14:00' } } },
          { functionResponse: { name: 'get_weather', response: { celsius: 18 } } },
          { functionResponse: { name: 'get_weather', response: { output: 'sunny, then rain' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
  });

  it('maps a legacy function message by its name', () => {
    const out = map({ messages: [user('x'), { role: 'function', name: 'f', content: '[1,2]' }] });
    expect(out.contents[0]!.parts[1]).toEqual({ functionResponse: { name: 'f', response: { output: [1, 2] } } });
  });

  const rejects: Array<[string, Record<string, unknown>, string]> = [
    ['a tool result for an unknown call', { messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: '1' }] }, 'messages[1].tool_call_id'],
    ['arguments that are not a JSON object', {
      messages: [user('x'), { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: 'not json' } }] }],
    }, 'messages[1].tool_calls[0].function.arguments'],
    ['an image that is neither http(s) nor base64', { messages: [user([{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }])] }, 'messages[0].content[0].image_url.url'],
    ['an audio part', { messages: [user([{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }])] }, 'messages[0].content[0].type'],
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

describe('schema conversion', () => {
  it('keeps JSON mode but drops a response schema Gemini cannot express', () => {
    expect(responseSchemaOf({ type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } })).toBeNull();
    expect(responseSchemaOf({ oneOf: [{ type: 'string' }, { type: 'number' }] })).toBeNull();
    expect(responseSchemaOf({ type: ['string', 'number'] })).toBeNull();
    const out = map({ response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { $ref: '#/x' } } } });
    expect(out.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it('converts anyOf, const and nullable enums', () => {
    expect(responseSchemaOf({ anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] })).toEqual({ anyOf: [{ type: 'STRING' }, { type: 'INTEGER', minimum: 0 }] });
    expect(responseSchemaOf({ const: 'x' })).toEqual({ enum: ['x'], type: 'STRING' });
    expect(responseSchemaOf({ type: ['string', 'null'], enum: ['a', null] })).toEqual({ type: 'STRING', nullable: true, enum: ['a'] });
  });

  it('is lenient with function parameters: unsupported keywords are dropped, not fatal', () => {
    expect(parametersOf({ type: 'object', properties: { a: { oneOf: [{ type: 'string' }], description: 'A' }, b: { type: ['string', 'integer'] } } })).toEqual({
      type: 'OBJECT',
      properties: { a: { description: 'A' }, b: {} },
    });
    expect(parametersOf(undefined)).toBeUndefined();
  });
});

describe('provider', () => {
  const req = parseChatRequest({ model: 'google/gemini-flash', messages: [user('Hi')] });

  it('posts generateContent with the key in x-goog-api-key, never in the URL', () => {
    const p = google({ apiKey: 'AIza-test', baseURL: 'http://127.0.0.1:9/' });
    const r = p.buildRequest(req, flash, false);
    expect(p.name).toBe('google');
    expect(r.url).toBe('http://127.0.0.1:9/v1beta/models/gemini-2.0-flash-lite:generateContent');
    expect(r.url).not.toContain('AIza');
    expect(r.headers).toMatchObject({ 'x-goog-api-key': 'AIza-test', 'content-type': 'application/json' });
  });

  it('streams with streamGenerateContent?alt=sse and the same body', () => {
    const p = google({ apiKey: 'k' });
    const r = p.buildRequest(req, flash, true);
    expect(r.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash-lite:streamGenerateContent?alt=sse');
    expect(r.body).toBe(p.buildRequest(req, flash, false).body);
  });

  const errors: Array<[number, string, string]> = [
    [429, '{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}', 'Resource has been exhausted (e.g. check quota).'],
    [400, '[{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}]', 'Invalid JSON payload received.'],
    [503, 'Service Unavailable', 'upstream answered HTTP 503'],
  ];
  it.each(errors)('errorMessage(%i) reads the error body', (status, body, message) => {
    expect(google({ apiKey: 'k' }).errorMessage(status, body)).toBe(message);
  });

  it('treats 400 API_KEY_INVALID as the gateway’s credential fault (401), other 400s as the client’s', () => {
    const badKey = JSON.stringify({
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] },
    });
    expect(googleErrorStatus(400, badKey)).toBe(401);
    expect(googleErrorStatus(400, '{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}')).toBe(400);
    expect(googleErrorStatus(503, badKey)).toBe(503);
  });
});

const candidate = (parts: GeminiResponsePart[], finishReason?: string, index = 0) => ({ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index });
const usageMeta = (prompt: number, candidates: number, thoughts?: number) => ({
  promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates + (thoughts ?? 0), ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
});

describe('response mapping', () => {
  it('maps text, finish and usage; thoughts count as output and show as reasoning tokens', () => {
    const body: GeminiResponse = {
      candidates: [candidate([{ text: 'plan…', thought: true }, { text: 'Hello' }, { text: ' there' }], 'STOP')],
      usageMetadata: usageMeta(11, 5, 20),
      modelVersion: 'gemini-1.5-flash-002',
      responseId: 'r1',
    };
    const { completion, usage } = fromGeminiResponse(body, info);
    expect(completion).toMatchObject({
      id: 'chatcmpl-req7', object: 'chat.completion', created: 1_750_000_000, model: 'google/gemini-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 11, completion_tokens: 25, total_tokens: 36, completion_tokens_details: { reasoning_tokens: 20 } },
    });
    expect(usage).toEqual({ inputTokens: 11, outputTokens: 25, estimated: false });
  });

  it('maps function calls to tool_calls with generated unique ids, or Gemini’s own', () => {
    const { completion } = fromGeminiResponse({
      candidates: [candidate([{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { id: 'g-1', name: 'now' } }], 'STOP')],
      usageMetadata: usageMeta(30, 8),
    }, info);
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          { id: 'call_req7_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'g-1', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
    });
  });

  it('maps several candidates to several choices', () => {
    const { completion } = fromGeminiResponse({ candidates: [candidate([{ text: 'A' }], 'STOP', 0), candidate([{ text: 'B' }], 'MAX_TOKENS', 1)], usageMetadata: usageMeta(5, 2) }, info);
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, 'A', 'stop'], [1, 'B', 'length']]);
  });

  it('maps a blocked prompt (no candidates) to an empty content_filter choice', () => {
    const { completion, usage } = fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } }, info);
    expect(completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: 'content_filter' }]);
    expect(usage).toEqual({ inputTokens: 9, outputTokens: 0, estimated: false });
  });

  it('reports no usage when usageMetadata is missing', () => {
    expect(fromGeminiResponse({ candidates: [candidate([{ text: 'x' }], 'STOP')] }, info).usage).toBeNull();
  });

  const reasons: Array<[string, string]> = [
    ['STOP', 'stop'], ['MAX_TOKENS', 'length'], ['SAFETY', 'content_filter'], ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'], ['PROHIBITED_CONTENT', 'content_filter'], ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'], ['OTHER', 'stop'], ['MALFORMED_FUNCTION_CALL', 'stop'],
  ];
  it.each(reasons)('finishReason %s → finish_reason %s', (reason, finish) => {
    expect(fromGeminiResponse({ candidates: [candidate([{ text: 'x' }], reason)] }, info).completion.choices[0]!.finish_reason).toBe(finish);
  });
});

// ---- streams ----

const ev = (body: unknown): SseEvent => ({ event: undefined, data: JSON.stringify(body) });
function run(events: SseEvent[], includeUsage = false) {
  const t = google({ apiKey: 'k' }).streamTranslator(info, includeUsage);
  const chunks = events.flatMap((e) => t.push(e)).concat(t.end()).map((c) => JSON.parse(c) as Record<string, any>);
  return { t, chunks };
}

describe('stream mapping', () => {
  const textStream = [
    ev({ candidates: [candidate([{ text: 'Hel' }])], usageMetadata: { promptTokenCount: 11, totalTokenCount: 11 } }),
    ev({ candidates: [candidate([{ text: 'lo th' }])], usageMetadata: usageMeta(11, 3) }),
    ev({ candidates: [candidate([{ text: 'ere' }], 'STOP')], usageMetadata: usageMeta(11, 4) }),
  ];

  it('turns chunks into role+content, content and finish chunks; the last usageMetadata counts', () => {
    const { t, chunks } = run(textStream);
    expect(chunks.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: 'Hel' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'lo th' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'ere' }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
    for (const c of chunks) expect(c).toMatchObject({ id: 'chatcmpl-req7', object: 'chat.completion.chunk', model: 'google/gemini-flash' });
    expect(t.completed()).toBe(true);
    expect(t.usage()).toEqual({ inputTokens: 11, outputTokens: 4, estimated: false });
    expect(t.outputBytes()).toBe(Buffer.byteLength('Hello there'));
  });

  it('takes usage from a usage-only chunk after the finish, and sends the usage chunk last when asked', () => {
    const { t, chunks } = run([...textStream, ev({ usageMetadata: usageMeta(11, 6, 2) })], true);
    expect(t.usage()).toEqual({ inputTokens: 11, outputTokens: 8, estimated: false });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 8, total_tokens: 19 } });
    expect(chunks.filter((c) => c.usage !== undefined)).toHaveLength(1);
  });

  it('streams function calls whole, with index, id, name and arguments, and finishes with tool_calls', () => {
    const { chunks } = run([
      ev({ candidates: [candidate([{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }])] }),
      ev({ candidates: [candidate([{ functionCall: { name: 'now', args: {} } }], 'STOP')], usageMetadata: usageMeta(40, 12) }),
    ]);
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: 'assistant', content: '', tool_calls: [{ index: 0, id: 'call_req7_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_req7_1', type: 'function', function: { name: 'now', arguments: '{}' } }] },
      {},
    ]);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
  });

  it('is complete only when every candidate finished', () => {
    const t = google({ apiKey: 'k' }).streamTranslator(info, false);
    t.push(ev({ candidates: [candidate([{ text: 'a' }], undefined, 0), candidate([{ text: 'b' }], undefined, 1)] }));
    t.push(ev({ candidates: [candidate([{ text: 'c' }], 'STOP', 0)] }));
    expect(t.completed()).toBe(false);
    const out = t.push(ev({ candidates: [candidate([], 'MAX_TOKENS', 1)] })).map((c) => JSON.parse(c));
    expect(out).toEqual([expect.objectContaining({ choices: [{ index: 1, delta: {}, logprobs: null, finish_reason: 'length' }] })]);
    expect(t.completed()).toBe(true);
  });

  it('a stream that stops without a finishReason is incomplete and sends no usage chunk', () => {
    const { t, chunks } = run(textStream.slice(0, 2), true);
    expect(t.completed()).toBe(false);
    expect(t.usage()).toEqual({ inputTokens: 11, outputTokens: 3, estimated: false });
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
  });

  it('raises an error object in the stream as UpstreamStreamError', () => {
    const t = google({ apiKey: 'k' }).streamTranslator(info, false);
    t.push(textStream[0]!);
    expect(() => t.push(ev({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }))).toThrow(UpstreamStreamError);
  });

  it('maps a blocked prompt to a content_filter finish', () => {
    const { t, chunks } = run([ev({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } })]);
    expect(chunks.map((c) => c.choices[0].finish_reason)).toEqual([null, 'content_filter']);
    expect(t.completed()).toBe(true);
  });

  it('keeps thoughts out of the text but counts them toward output bytes', () => {
    const { t, chunks } = run([ev({ candidates: [candidate([{ text: 'thinking', thought: true }, { text: 'Yes' }], 'STOP')] })]);
    expect(chunks[0]!.choices[0].delta).toEqual({ role: 'assistant', content: 'Yes' });
    expect(t.outputBytes()).toBe(Buffer.byteLength('thinkingYes'));
  });
});
