// The SSE decoder takes events apart exactly as the spec says, wherever the network splits them.
import { describe, expect, it } from 'vitest';
import { SseDecoder } from '../../src/stream/sse.js';

const decodeIn = (text: string, sizes: number[]) => {
  const d = new SseDecoder();
  const out = [];
  let i = 0;
  for (const n of sizes) {
    out.push(...d.push(text.slice(i, i + n)));
    i += n;
  }
  out.push(...d.push(text.slice(i)), ...d.end());
  return out;
};

describe('SseDecoder', () => {
  const stream = 'event: message_start\ndata: {"a":1}\n\n: keep-alive\n\ndata: line1\ndata: line2\n\ndata:{"b":2}\n\ndata: [DONE]\n\n';
  const expected = [
    { event: 'message_start', data: '{"a":1}' },
    { event: undefined, data: 'line1\nline2' },
    { event: undefined, data: '{"b":2}' },
    { event: undefined, data: '[DONE]' },
  ];

  it('decodes events, joins multi-line data, skips comments', () => {
    expect(decodeIn(stream, [])).toEqual(expected);
  });

  it('gives the same events whatever the chunk boundaries (every split of every byte)', () => {
    for (let a = 1; a < stream.length; a++) expect(decodeIn(stream, [a])).toEqual(expected);
    expect(decodeIn(stream, Array(stream.length).fill(1))).toEqual(expected);
  });

  it('accepts \\r\\n and \\r line ends (Gemini separates events with \\r\\n\\r\\n), even split between \\r and \\n', () => {
    const crlf = stream.replace(/\n/g, '\r\n');
    expect(decodeIn(crlf, [])).toEqual(expected);
    for (let a = 1; a < crlf.length; a++) expect(decodeIn(crlf, [a])).toEqual(expected);
    expect(decodeIn(stream.replace(/\n/g, '\r'), [])).toEqual(expected);
  });

  it('flushes a last event that lacks its blank line at the end', () => {
    expect(decodeIn('data: {"x":1}', [])).toEqual([{ event: undefined, data: '{"x":1}' }]);
  });
});
