// The relay: upstream bytes in, client frames out, metered; characters split across reads arrive whole.
import { Cancellation } from '../../src/transport/cancellation.js';
import { describe, expect, it } from 'vitest';
import { openai } from '../../src/providers/openai/index.js';
import { relayStream } from '../../src/stream/relay.js';
import { MAX_SSE_EVENT_BYTES } from '../../src/stream/sse.js';

const info = { id: 'chatcmpl-x', created: 1, model: 'openai/gpt-4o-mini' };
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const usage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n`;
const pieces = ['héllo ', '日本語 ', '🎉 done'];
const wire = Buffer.from(pieces.map(chunk).join('') + usage + 'data: [DONE]\n\n');

async function relay(reads: Uint8Array[]) {
  async function* upstream() {
    for (const r of reads) yield r;
  }
  const { frames, outcome } = relayStream(upstream(), openai({ apiKey: 'sk-test' }).streamTranslator(info, true), { signal: new Cancellation() });
  let text = '';
  for await (const f of frames) text += f;
  return { text, outcome: await outcome };
}

const contents = (text: string) =>
  text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
    .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''))
    .join('');

describe('relayStream', () => {
  it('passes multi-byte characters through whole wherever the reads split them', async () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const { text, outcome } = await relay([wire.subarray(0, cut), wire.subarray(cut)]);
      expect(contents(text)).toBe(pieces.join(''));
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(outcome.outputBytes).toBe(Buffer.byteLength(pieces.join('')));
      expect(outcome.completed).toBe(true);
    }
  });

  it('passes them through when every byte is its own read', async () => {
    const { text, outcome } = await relay([...wire].map((b) => Uint8Array.of(b)));
    expect(contents(text)).toBe(pieces.join(''));
    expect(outcome.reported).toEqual({ inputTokens: 5, outputTokens: 3, estimated: false });
  });

  it('ends with an SSE error frame when one event outgrows MAX_SSE_EVENT_BYTES, and stops reading the upstream', async () => {
    let reads = 0;
    let stopped = false;
    async function* endless() {
      try {
        yield Buffer.from(chunk('before') + 'data: {"id":"c","choices":[{"delta":{"content":"');
        const mib = Buffer.alloc(1024 * 1024, 'z');
        for (; reads < 64; reads++) yield mib;
      } finally {
        stopped = true;
      }
    }
    const { frames, outcome } = relayStream(endless(), openai({ apiKey: 'sk-test' }).streamTranslator(info, true), { signal: new Cancellation() });
    let text = '';
    for await (const f of frames) text += Buffer.from(f).toString();
    const o = await outcome;
    expect(contents(text.slice(0, text.lastIndexOf('data: {"error"')))).toBe('before');
    expect(text.trimEnd().split('\n\n').pop()).toMatch(/^data: \{"error":\{"message":"The provider sent a stream event larger than 16 MiB\."/);
    expect(o.completed).toBe(false);
    expect(o.error?.code).toBe('upstream_error');
    expect(stopped).toBe(true);
    expect(reads).toBeLessThanOrEqual(MAX_SSE_EVENT_BYTES / (1024 * 1024) + 1);
  });

  it('makes the frames of every stream with one generator function, so they share one prototype', async () => {
    // A generator function declared per stream gives each stream's generator a prototype and a hidden class of its own,
    // which kept every stream's allocations alive into the old generation (bench/README.md, round 9).
    const start = () => {
      async function* upstream() {
        yield wire;
      }
      return relayStream(upstream(), openai({ apiKey: 'sk-test' }).streamTranslator(info, true), { signal: new Cancellation() });
    };
    const [a, b] = [start(), start()];
    expect(Object.getPrototypeOf(a.frames)).toBe(Object.getPrototypeOf(b.frames));
    for (const r of [a, b]) {
      for await (const _ of r.frames);
      expect((await r.outcome).completed).toBe(true);
    }
  });
});
