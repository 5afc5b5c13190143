// The SSE decoder takes events apart exactly as the spec says, wherever the network splits them.
import { describe, expect, it } from 'vitest';
import { UpstreamStreamError } from '../../src/providers/types.js';
import { MAX_SSE_EVENT_BYTES, SseDecoder } from '../../src/stream/sse.js';

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

  it('takes lone \\r line ends apart wherever the chunks split them, and a last line ending in \\r', () => {
    const cr = stream.replace(/\n/g, '\r');
    for (let a = 1; a < cr.length; a++) expect(decodeIn(cr, [a])).toEqual(expected);
    expect(decodeIn(cr, Array(cr.length).fill(1))).toEqual(expected);
    expect(decodeIn('data: {"x":1}\r', [])).toEqual([{ event: undefined, data: '{"x":1}' }]);
  });

  it('decodes a line spread over hundreds of chunks whole, in time that grows with its length, not its square', () => {
    const d = new SseDecoder();
    const piece = 'x'.repeat(16 * 1024);
    const started = performance.now();
    expect(d.push('data: ')).toEqual([]);
    for (let i = 0; i < 768; i++) expect(d.push(piece)).toEqual([]); // 12 MiB
    const [event] = d.push('\n\n');
    // Joining the line on every chunk copied ~4.8 GB here (seconds); once, 12 MiB (milliseconds).
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(event!.data.length).toBe(768 * piece.length);
  });

  it('fails the stream on an event past MAX_SSE_EVENT_BYTES, in one line or in many data lines', () => {
    const mib = 'x'.repeat(1024 * 1024);
    const oneLine = new SseDecoder();
    oneLine.push('data: ');
    const pushLine = () => {
      for (let i = 0; i <= MAX_SSE_EVENT_BYTES / mib.length; i++) oneLine.push(mib);
    };
    expect(pushLine).toThrow(UpstreamStreamError);
    expect(pushLine).toThrow(/larger than 16 MiB/);
    const manyLines = new SseDecoder();
    expect(() => {
      for (let i = 0; i <= MAX_SSE_EVENT_BYTES / mib.length; i++) manyLines.push(`data: ${mib}\n`);
    }).toThrow(UpstreamStreamError);
  });
});
