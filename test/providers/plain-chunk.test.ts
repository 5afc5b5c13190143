// plainChunk: which OpenAI stream events the relay may pass as bytes, and where their model, text and usage sit.
import { describe, expect, it } from 'vitest';
import { ChunkPrefix, plainChunk, USAGE_NULL_BYTES } from '../../src/providers/openai/plain-chunk.js';
import { openai } from '../../src/providers/openai/index.js';

const event = (json: string) => Buffer.from(`data: ${json}`);
const text = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" Hello"},"logprobs":null,"finish_reason":null}],"usage":null}';

describe('plainChunk', () => {
  it('finds the model, the text bytes and the trailing usage null of a text chunk', () => {
    const ev = event(text);
    const c = plainChunk(ev)!;
    expect(ev.subarray(c.modelFrom, c.modelTo).toString()).toBe('gpt-4o-mini-2024-07-18');
    expect(c.contentBytes).toBe(Buffer.byteLength(' Hello'));
    expect(ev.subarray(c.usageNullAt, c.usageNullAt + USAGE_NULL_BYTES).toString()).toBe(',"usage":null');
  });

  it('counts the text of content and refusal, not the role', () => {
    expect(plainChunk(event('{"model":"m","choices":[{"delta":{"role":"assistant","content":"ab","refusal":"cde"}}]}'))!.contentBytes).toBe(5);
  });

  it('counts the text as decoded when it has escapes or characters beyond ASCII', () => {
    const c = plainChunk(event('{"model":"m","choices":[{"delta":{"content":"é \\"q\\" \\u00e9\\n🎉"}}]}'))!;
    expect(c.contentBytes).toBe(Buffer.byteLength('é "q" é\n🎉'));
    expect(c.usageNullAt).toBe(-1);
  });

  it('reads the token counts of the usage chunk, the top-level ones only, and whether it has choices', () => {
    const usage = '{"prompt_tokens":120,"completion_tokens":16,"total_tokens":136,"prompt_tokens_details":{"cached_tokens":0,"prompt_tokens":9},"completion_tokens_details":{"reasoning_tokens":0}}';
    const c = plainChunk(event(`{"id":"c","model":"m","system_fingerprint":null,"choices":[],"usage":${usage},"obfuscation":"x"}`))!;
    expect(c.usage).toEqual({ promptTokens: 120, completionTokens: 16 });
    expect(c.hasChoices).toBe(false);
    expect(c.usageNullAt).toBe(-1);
    const withChoice = plainChunk(event('{"model":"m","choices":[{"index":0,"delta":{"content":"ab"}}],"usage":{"prompt_tokens":0}}'))!;
    expect(withChoice.usage).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect(withChoice.hasChoices).toBe(true);
    expect(withChoice.contentBytes).toBe(2);
    expect(plainChunk(event(text))!.usage).toBeNull();
  });

  const plain: Record<string, string> = {
    'a text chunk': text,
    'the last one (empty delta, a finish reason)': '{"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}',
    'usage null before a later field': '{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"a"}}],"usage":null,"obfuscation":"x"}',
    'no choices yet': '{"id":"c","model":"m","choices":[]}',
    'a key named like ours deeper down, and our names as values': '{"id":"c","model":"m","choices":[{"delta":{"content":"usage"},"x":{"error":"model","model":"y"}}]}',
    'a model key nested before the top-level one': '{"meta":{"model":"internal"},"model":"m","choices":[]}',
    'the first chunk (role, empty content, refusal null)': '{"id":"c","model":"m","choices":[{"delta":{"role":"assistant","content":"","refusal":null}}]}',
    'content null': '{"model":"m","choices":[{"delta":{"content":null}}]}',
    'the usage chunk': '{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}',
    'a usage object as the first member': '{"usage":{"prompt_tokens":1},"model":"m"}',
  };
  const notPlain: Record<string, string> = {
    'a delta key it does not read': '{"id":"c","model":"m","choices":[{"delta":{"audio":{"id":"a"}}}]}',
    'a number in the delta': '{"model":"m","choices":[{"delta":{"content":1}}]}',
    'a tool call': '{"id":"c","model":"m","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}',
    'an error': '{"error":{"message":"overloaded","type":"server_error"}}',
    'an error beside a model': '{"model":"m","error":"x","choices":[]}',
    'two choices': '{"model":"m","choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}',
    'spaces outside strings': '{"model": "m", "choices": []}',
    'no model': '{"id":"c","choices":[]}',
    'the model twice': '{"model":"m","choices":[],"model":"n"}',
    'an escaped model': '{"model":"m\\"x","choices":[]}',
    'a model that is not a string': '{"model":7,"choices":[]}',
    'usage as the first member': '{"usage":null,"model":"m","choices":[]}',
    'usage twice': '{"model":"m","choices":[],"usage":null,"usage":null}',
    'usage null, then a usage object': '{"model":"m","choices":[],"usage":null,"usage":{"prompt_tokens":1}}',
    'usage without prompt_tokens': '{"model":"m","choices":[],"usage":{"completion_tokens":2}}',
    'prompt_tokens twice': '{"model":"m","choices":[],"usage":{"prompt_tokens":1,"prompt_tokens":2}}',
    'prompt_tokens as a string': '{"model":"m","choices":[],"usage":{"prompt_tokens":"1"}}',
    'prompt_tokens null': '{"model":"m","choices":[],"usage":{"prompt_tokens":null}}',
    'prompt_tokens with a fraction': '{"model":"m","choices":[],"usage":{"prompt_tokens":1.5}}',
    'prompt_tokens with an exponent': '{"model":"m","choices":[],"usage":{"prompt_tokens":1e3}}',
    'prompt_tokens negative': '{"model":"m","choices":[],"usage":{"prompt_tokens":-1}}',
    'prompt_tokens with a leading zero': '{"model":"m","choices":[],"usage":{"prompt_tokens":012}}',
    'prompt_tokens beyond a safe integer': '{"model":"m","choices":[],"usage":{"prompt_tokens":9007199254740993}}',
    'completion_tokens null': '{"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":null}}',
    'usage as an array': '{"model":"m","choices":[],"usage":[1]}',
    'usage as a number': '{"model":"m","choices":[],"usage":1}',
    'something after the object': '{"model":"m","choices":[]}}',
    'an unfinished string': '{"model":"m","choices":[{"delta":{"content":"ab',
    'two data lines': '{"model":"m",\ndata: "choices":[]}',
  };
  for (const [name, json] of Object.entries(plain)) it(`plain: ${name}`, () => expect(plainChunk(event(json))).not.toBeNull());
  for (const [name, json] of Object.entries(notPlain)) it(`not plain: ${name}`, () => expect(plainChunk(event(json))).toBeNull());
  it('not plain: [DONE], comments, other fields', () => {
    for (const raw of ['data: [DONE]', ': keep-alive', 'event: message']) expect(plainChunk(Buffer.from(raw))).toBeNull();
  });

  describe('chunks of one stream, resuming where the chunk before reached its delta', () => {
    const head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{';

    it('remembers the bytes up to the delta of a plain chunk, and nothing from other events', () => {
      const prefix = new ChunkPrefix();
      plainChunk(event('{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":1}}'), prefix);
      expect(prefix.bytes).toBeNull();
      plainChunk(event(`${head}"role":"assistant","content":""}}]}`), prefix);
      expect(prefix.bytes?.toString()).toBe(`data: ${head}`);
    });

    // Whatever came before, each event's answer is the one a scan of it alone gives: a resumed scan checks the rest
    // as a fresh one would, and an event that does not start with the remembered bytes is scanned from its start.
    const heads = [
      head,
      head.replace('gpt-4o-mini-2024-07-18', 'other'),
      head.replace('fp_1', 'fp_2'),
      head.replace('"model"', '"usage":null,"model"'),
      '{"id":"c","usage":{"prompt_tokens":5,"completion_tokens":6},"model":"m","choices":[{"index":0,"delta":{',
      '{"id":"c","model":"m\\"x","choices":[{"delta":{',
    ];
    const deltas = ['"role":"assistant","content":"","refusal":null', '"content":" \\"quoted\\" é"', '"content":null', '', '"tool_calls":[]', '"content":1', '"content":"a"}},{"delta":{"content":"b"'];
    const tails = ['},"logprobs":null,"finish_reason":"stop"}],"usage":null}', '}}]}', '}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}', '}}],"usage":null,"usage":null}', '}}]}}', '}}]} '];
    const events = heads.flatMap((h) => deltas.flatMap((d) => tails.map((t) => event(`${h}${d}${t}`))));
    const others = [...Object.values(plain), ...Object.values(notPlain), `${head}"content":"unfinished`, head].map(event);

    it('gives every event the answer it gets scanned alone, in order, in reverse and among other events', () => {
      const shorter = events.map((ev) => ev.subarray(0, ev.length - 1));
      for (const order of [events, [...events].reverse(), events.flatMap((ev, i) => [ev, others[i % others.length]!, shorter[i]!])]) {
        const prefix = new ChunkPrefix();
        for (const ev of order) expect(plainChunk(ev, prefix)).toEqual(plainChunk(ev));
      }
    });
  });

  it('the byte path sends a plain chunk as the upstream wrote it, only the model changed and an unasked-for usage null cut', () => {
    const info = { id: 'chatcmpl-x', created: 1, model: 'openai/gpt-4o-mini' };
    const wire = Buffer.from(`data: ${text}\n\n`);
    const send = (includeUsage: boolean) => {
      const out: Uint8Array[] = [];
      openai({ apiKey: 'sk-test' }).streamTranslator(info, includeUsage).pushBytes!(wire, out);
      return Buffer.concat(out).toString();
    };
    const withPublicModel = text.replace('"model":"gpt-4o-mini-2024-07-18"', '"model":"openai/gpt-4o-mini"');
    expect(send(true)).toBe(`data: ${withPublicModel}\n\n`);
    expect(send(false)).toBe(`data: ${withPublicModel.replace(',"usage":null', '')}\n\n`);
  });
});
