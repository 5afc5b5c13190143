// The relay: upstream bytes in, client frames out, metered; characters split across reads arrive whole.
import { Cancellation } from '../../src/transport/cancellation.js';
import { describe, expect, it } from 'vitest';
import { openai } from '../../src/providers/openai/index.js';
import { relayStream } from '../../src/stream/relay.js';

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
});
