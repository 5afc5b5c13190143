// Server-sent events: an incremental decoder for upstream streams and the encoder for the client's.

/** One decoded event. `data` joins multi-line data with `\n`, per the SSE spec. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Decodes SSE text as it arrives, across chunk boundaries, with `\n`, `\r\n` or `\r` line ends
 * (Gemini separates events with `\r\n\r\n`). Feed it decoded text; it returns whole events only.
 */
export class SseDecoder {
  private buffer = '';
  private event: string | undefined = undefined;
  private data: string[] = [];

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = this.nextLineEnd(start);
      if (nl === -1) break;
      const line = this.buffer.slice(start, nl);
      // A lone `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (this.buffer.charCodeAt(nl) === 13 && nl + 1 === this.buffer.length) break;
      start = nl + (this.buffer.charCodeAt(nl) === 13 && this.buffer.charCodeAt(nl + 1) === 10 ? 2 : 1);
      this.line(line, out);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Flushes an event the upstream left without its final blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer !== '') this.line(this.buffer, out);
    this.buffer = '';
    this.line('', out);
    return out;
  }

  private nextLineEnd(from: number): number {
    const n = this.buffer.indexOf('\n', from);
    const r = this.buffer.indexOf('\r', from);
    if (r === -1) return n;
    if (n === -1) return r;
    return Math.min(n, r);
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') });
      this.event = undefined;
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58) return; // `:` comment, e.g. keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

/** One `data:` frame for the client. `payload` must not contain a newline (JSON.stringify never does). */
export function sseData(payload: string): string {
  return `data: ${payload}\n\n`;
}

/** The frame that ends every OpenAI-shaped stream. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** Response headers of an SSE answer; no-transform and x-accel-buffering keep proxies from buffering it. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
});
