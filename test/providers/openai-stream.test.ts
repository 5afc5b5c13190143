// The OpenAI-compatible stream translator: what the client receives for each upstream chunk, whatever shape it comes in.
import { describe, expect, it } from 'vitest';
import { openai } from '../../src/providers/openai/index.js';
import { UpstreamStreamError } from '../../src/providers/types.js';
import { MAX_SSE_EVENT_BYTES } from '../../src/stream/sse.js';

const info = { id: 'chatcmpl-x', created: 1, model: 'openai/gpt-4o-mini' };
const translator = (includeUsage: boolean) => openai({ apiKey: 'sk-test' }).streamTranslator(info, includeUsage);

/** What the client must see: the upstream chunk with the public model, and usage only when it asked. */
function expected(raw: string, includeUsage: boolean): Record<string, unknown> {
  const chunk: Record<string, unknown> = { ...(JSON.parse(raw) as Record<string, unknown>), model: info.model };
  if (!includeUsage) delete chunk.usage;
  return chunk;
}

const chunks = {
  plain: '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" Hello"},"logprobs":null,"finish_reason":null}],"usage":null}',
  noUsageKey: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"é \\"q\\" model"},"finish_reason":null}]}',
  spaced: '{ "id": "c", "model": "gpt-4o-mini", "choices": [{"index":0,"delta":{"content":"x"}}], "usage": null }',
  nestedFirst: '{"meta":{"model":"internal"},"model":"gpt-4o-mini","choices":[],"usage":null}',
  nestedAfter: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"x"}}],"x_vendor":{"model":"other"},"usage":null}',
  escapedModel: '{"id":"c","model":"gpt\\"4o","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}',
  usageMidway: '{"id":"c","model":"gpt-4o-mini","usage":null,"choices":[{"index":0,"delta":{"content":"x"}}]}',
  duplicateModel: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"x"}}],"model":"gpt-4o-mini"}',
  noModel: '{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}',
  contentWithModelKey: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"{\\"model\\":\\"gpt-4o-mini\\"}"}}],"usage":null}',
  // As OpenAI sends them today: usage null before a trailing obfuscation field.
  obfuscated: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":" a"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x1"}',
  firstWithRole: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}',
  emptyDelta: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}',
  toolCall: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]}}],"usage":null}',
  twoChoices: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}],"usage":null}',
  usageFirst: '{"usage":null,"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"x"}}]}',
  contentNull: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":null}}],"usage":null}',
  refusal: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"refusal":"I can\'t help with ☃"}}],"usage":null}',
  keyNamedLikeOurs: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"usage"},"x":{"error":"model"}}],"usage":null}',
};

/**
 * What the client gets when the event comes through the byte path (`pushBytes`), as the relay uses it: the events
 * `push` would send, as SSE frames.
 */
function viaBytes(includeUsage: boolean, raws: string[]) {
  const t = translator(includeUsage);
  const out: Uint8Array[] = [];
  t.pushBytes!(Buffer.from(raws.map((r) => `data: ${r}\n\n`).join('')), out);
  t.pushBytes!(null, out);
  const text = Buffer.concat(out).toString('utf8');
  const frames = text === '' ? [] : text.slice(0, -2).split('\n\n');
  for (const f of frames) expect(f.startsWith('data: ')).toBe(true);
  return { t, sent: frames.map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>) };
}

describe('OpenAI-compatible stream translator', () => {
  for (const includeUsage of [true, false]) {
    for (const [name, raw] of Object.entries(chunks)) {
      it(`${name}, usage ${includeUsage ? 'asked for' : 'not asked for'}: the upstream chunk with the public model`, () => {
        const out = translator(includeUsage).push({ event: undefined, data: raw });
        expect(out).toHaveLength(1);
        const sent = JSON.parse(out[0]!) as Record<string, unknown>;
        // toEqual on the parsed text: a duplicate key left with the upstream's model, or a nested one
        // renamed instead of the top-level one, would show here.
        expect(sent).toEqual(expected(raw, includeUsage));
      });
    }
  }

  for (const includeUsage of [true, false]) {
    it(`byte path, usage ${includeUsage ? 'asked for' : 'not asked for'}: every shape gives what push gives, and counts the same bytes`, () => {
      for (const [name, raw] of Object.entries(chunks)) {
        const { t, sent } = viaBytes(includeUsage, [raw]);
        expect(sent, name).toEqual([expected(raw, includeUsage)]);
        const viaPush = translator(includeUsage);
        viaPush.push({ event: undefined, data: raw });
        expect(t.outputBytes(), name).toBe(viaPush.outputBytes());
      }
    });
  }

  const usageChunks = {
    bench: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":16,"total_tokens":136}}',
    openai: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"q"}',
    noChoicesKey: '{"id":"c","model":"gpt-4o-mini","usage":{"prompt_tokens":5,"completion_tokens":1}}',
    noCompletion: '{"id":"c","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5}}',
    withChoice: '{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"end"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}',
    fraction: '{"id":"c","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":7.0,"completion_tokens":3}}',
    promptMissing: '{"id":"c","model":"gpt-4o-mini","choices":[],"usage":{"completion_tokens":3}}',
  };
  for (const includeUsage of [true, false]) {
    it(`byte path, usage ${includeUsage ? 'asked for' : 'not asked for'}: a usage chunk is billed and sent (or dropped) as push does`, () => {
      for (const [name, raw] of Object.entries(usageChunks)) {
        const { t, sent } = viaBytes(includeUsage, [raw]);
        const viaPush = translator(includeUsage);
        const pushed = viaPush.push({ event: undefined, data: raw }).map((f) => JSON.parse(f) as unknown);
        expect(sent, name).toEqual(pushed);
        expect(t.usage(), name).toEqual(viaPush.usage());
        expect(t.outputBytes(), name).toBe(viaPush.outputBytes());
      }
      expect(viaBytes(includeUsage, [usageChunks.openai]).t.usage()).toEqual({ inputTokens: 19, outputTokens: 10, estimated: false });
      expect(viaBytes(includeUsage, [usageChunks.openai]).sent).toHaveLength(includeUsage ? 1 : 0);
    });
  }

  it('byte path: an event goes out with the read that completes it, its blank line split across two reads included', () => {
    const t = translator(true);
    const out: Uint8Array[] = [];
    t.pushBytes!(Buffer.from(`data: ${chunks.plain}\n`), out);
    expect(out).toHaveLength(0);
    t.pushBytes!(Buffer.from('\ndata: {"id":"c",'), out);
    const sent = Buffer.concat(out).toString('utf8');
    expect(JSON.parse(sent.slice(6, -2))).toEqual(expected(chunks.plain, true));
  });

  it('byte path: the exact bytes of a mixed read — plain events rewritten in place, one re-serialised, one dropped, a blank line too many left out — in order', () => {
    const t = translator(false);
    const out: Uint8Array[] = [];
    const wire = [chunks.firstWithRole, chunks.plain, chunks.spaced, usageChunks.bench, chunks.obfuscated].map((r) => `data: ${r}\n\n`);
    t.pushBytes!(Buffer.from(`${wire[0]}\n\n${wire.slice(1).join('')}data: [DONE]\n\n`), out);
    const model = (raw: string) => raw.replace(/"model":"[^"]*"/, `"model":"${info.model}"`);
    const spaced = translator(false).push({ event: undefined, data: chunks.spaced })[0]!;
    expect(Buffer.concat(out).toString('utf8')).toBe(
      `data: ${model(chunks.firstWithRole).replace(',"usage":null', '')}\n\n` +
        `data: ${model(chunks.plain).replace(',"usage":null', '')}\n\n` +
        `data: ${spaced}\n\n` +
        `data: ${model(chunks.obfuscated).replace(',"usage":null', '')}\n\n`,
    );
    expect(t.usage()).toEqual({ inputTokens: 120, outputTokens: 16, estimated: false });
    expect(t.completed()).toBe(true);
  });

  it('byte path: an event spread over hundreds of reads goes out whole, in time that grows with its length, not its square', () => {
    const t = translator(true);
    const out: Uint8Array[] = [];
    const content = 'y'.repeat(12 * 1024 * 1024);
    const wire = Buffer.from(`data: ${JSON.stringify({ id: 'c', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content } }], usage: null })}\n\n`);
    const started = performance.now();
    for (let at = 0; at < wire.length; at += 16 * 1024) t.pushBytes!(wire.subarray(at, at + 16 * 1024), out);
    // Joining the kept part with every read copied ~4.8 GB here (seconds); once, 12 MiB (milliseconds).
    expect(performance.now() - started).toBeLessThan(1_000);
    const sent = JSON.parse(Buffer.concat(out).toString('utf8').slice(6, -2)) as { model: string; choices: Array<{ delta: { content: string } }> };
    expect(sent.model).toBe(info.model);
    expect(sent.choices[0]!.delta.content.length).toBe(content.length);
    expect(t.outputBytes()).toBe(content.length);
  });

  it('byte path: an event past MAX_SSE_EVENT_BYTES fails the stream instead of growing without end', () => {
    const t = translator(true);
    const out: Uint8Array[] = [];
    const read = Buffer.alloc(1024 * 1024, 'z');
    t.pushBytes!(Buffer.from(`data: ${chunks.plain}\n\ndata: {"id":"c","choices":[{"delta":{"content":"`), out);
    expect(() => {
      for (let i = 0; i <= MAX_SSE_EVENT_BYTES / read.length; i++) t.pushBytes!(read, out);
    }).toThrow(/larger than 16 MiB/);
    expect(JSON.parse(Buffer.concat(out).toString('utf8').slice(6, -2))).toEqual(expected(chunks.plain, true)); // what came before still went out
  });

  it('byte path: a stream cut at every byte (a blank line split across reads included), CR line ends, comments and a last event without its blank line come out as push gives them', () => {
    const raws = [chunks.firstWithRole, chunks.plain, chunks.noUsageKey, chunks.obfuscated, chunks.emptyDelta];
    const wire = `: keep-alive\n\n${raws.map((r) => `data: ${r}\n\n`).join('')}data: [DONE]`;
    const want = raws.map((r) => expected(r, false));
    const run = (reads: string[]) => {
      const t = translator(false);
      const out: Uint8Array[] = [];
      for (const r of reads) t.pushBytes!(Buffer.from(r), out);
      t.pushBytes!(null, out);
      const frames = Buffer.concat(out).toString('utf8').split('\n\n').filter((f) => f !== '');
      return { t, sent: frames.map((f) => JSON.parse(f.slice(6)) as unknown) };
    };
    for (let cut = 1; cut < wire.length; cut++) {
      const { t, sent } = run([wire.slice(0, cut), wire.slice(cut)]);
      expect(sent).toEqual(want);
      expect(t.completed()).toBe(true);
    }
    const crlf = run([wire.replaceAll('\n', '\r\n')]);
    expect(crlf.sent).toEqual(want);
    expect(crlf.t.completed()).toBe(true);
  });

  it('byte path: the usage chunk is metered, an error event throws, a malformed event that is not plain throws', () => {
    const raw = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}';
    const hidden = viaBytes(false, [chunks.plain, raw]);
    expect(hidden.sent).toEqual([expected(chunks.plain, false)]);
    expect(hidden.t.usage()).toEqual({ inputTokens: 12, outputTokens: 9, estimated: false });
    expect(viaBytes(true, [raw]).sent).toEqual([expected(raw, true)]);

    const out: Uint8Array[] = [];
    const failing = translator(true);
    expect(() => failing.pushBytes!(Buffer.from(`data: ${chunks.plain}\n\ndata: {"error":{"message":"overloaded","type":"server_error"}}\n\n`), out)).toThrow(UpstreamStreamError);
    // What came before the error is kept for the client.
    expect(JSON.parse(Buffer.concat(out).toString('utf8').slice(6, -2))).toEqual(expected(chunks.plain, true));
    expect(() => translator(true).pushBytes!(Buffer.from('data: {"id":"c","model":\n\n'), [])).toThrow(SyntaxError);
  });

  it('keeps the usage chunk when the client asked for it and drops it otherwise, metering it either way', () => {
    const raw = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}';
    const asked = translator(true);
    expect(asked.push({ event: undefined, data: raw }).map((t) => JSON.parse(t))).toEqual([expected(raw, true)]);
    expect(asked.usage()).toEqual({ inputTokens: 12, outputTokens: 9, estimated: false });
    const hidden = translator(false);
    expect(hidden.push({ event: undefined, data: raw })).toEqual([]);
    expect(hidden.usage()).toEqual({ inputTokens: 12, outputTokens: 9, estimated: false });
  });

  it('counts the generated bytes of every chunk and completes on [DONE]', () => {
    const t = translator(false);
    t.push({ event: undefined, data: chunks.plain });
    t.push({ event: undefined, data: chunks.noUsageKey });
    expect(t.outputBytes()).toBe(Buffer.byteLength(' Hello') + Buffer.byteLength('é "q" model'));
    expect(t.completed()).toBe(false);
    expect(t.push({ event: undefined, data: '[DONE]' })).toEqual([]);
    expect(t.completed()).toBe(true);
  });
});
