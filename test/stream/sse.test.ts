// The SSE decoder: whole events out whatever the line ends and wherever the upstream's reads split the text.
import { describe, expect, it } from 'vitest';
import { SseDecoder, type SseEvent } from '../../src/stream/sse.js';

const decodeIn = (pieces: string[]): SseEvent[] => {
  const d = new SseDecoder();
  const out = pieces.flatMap((p) => d.push(p));
  return [...out, ...d.end()];
};

const stream = [
  ': keep-alive',
  'data: {"a":1}',
  '',
  'event: message_start',
  'data: {"b":"x:y"}',
  '',
  'data: first line',
  'data:second line',
  'data:  two spaces',
  '',
  'id: 7',
  'data:',
  '',
  'data: [DONE]',
  '',
];
const expected: SseEvent[] = [
  { event: undefined, data: '{"a":1}' },
  { event: 'message_start', data: '{"b":"x:y"}' },
  { event: undefined, data: 'first line\nsecond line\n two spaces' },
  { event: undefined, data: '' },
  { event: undefined, data: '[DONE]' },
];

describe('SseDecoder', () => {
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
    const text = stream.join(eol) + eol;
    it(`decodes ${name} line ends in one read`, () => {
      expect(decodeIn([text])).toEqual(expected);
    });
    it(`decodes ${name} line ends split at every possible point`, () => {
      for (let i = 1; i < text.length; i++) expect(decodeIn([text.slice(0, i), text.slice(i)])).toEqual(expected);
    });
    it(`decodes ${name} line ends fed one character at a time`, () => {
      expect(decodeIn([...text])).toEqual(expected);
    });
  }

  it('flushes a last event the upstream left without its blank line', () => {
    expect(decodeIn(['data: {"a":1}\n\ndata: tail'])).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: 'tail' },
    ]);
  });

  it('returns only whole events, keeping the rest for the next read', () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a":')).toEqual([]);
    expect(d.push('1}\n')).toEqual([]);
    expect(d.push('\ndata: {"b"')).toEqual([{ event: undefined, data: '{"a":1}' }]);
    expect(d.push(':2}\r\n\r\n')).toEqual([{ event: undefined, data: '{"b":2}' }]);
  });
});
