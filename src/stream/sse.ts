// Server-sent events: an incremental decoder for upstream streams and the encoder for the client's.
import { StringDecoder } from 'node:string_decoder';

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
  /** The event's data so far; null until its first `data` line (most events have exactly one). */
  private data: string | null = null;

  push(text: string): SseEvent[] {
    const buf = (this.buffer += text);
    const out: SseEvent[] = [];
    let start = 0;
    // Where the next `\r` is, found once and reused: most streams have none, and scanning the whole
    // rest of the buffer again for every line made decoding quadratic in the size of a read.
    let cr = buf.indexOf('\r');
    for (;;) {
      if (cr !== -1 && cr < start) cr = buf.indexOf('\r', start);
      const lf = buf.indexOf('\n', start);
      const nl = cr === -1 ? lf : lf === -1 ? cr : Math.min(lf, cr);
      if (nl === -1) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (nl === cr && nl + 1 === buf.length) break;
      const line = buf.slice(start, nl);
      start = nl + (nl === cr && buf.charCodeAt(nl + 1) === 10 ? 2 : 1);
      this.line(line, out);
    }
    this.buffer = start === 0 ? buf : buf.slice(start);
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

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data !== null) out.push({ event: this.event, data: this.data });
      this.event = undefined;
      this.data = null;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // `:` comment, e.g. keep-alive
    // The common line, `data: {…}`, without splitting it into field and value first.
    if (line.startsWith('data: ')) {
      this.addData(line.slice(6));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.addData(value);
    else if (field === 'event') this.event = value;
  }

  private addData(value: string): void {
    this.data = this.data === null ? value : `${this.data}\n${value}`;
  }
}

/**
 * Upstream bytes in, whole events out: UTF-8 decoding that keeps a character split across reads for the next one
 * (StringDecoder: TextDecoder's stream mode at a seventh of its cost per read), then `SseDecoder`.
 */
export class SseReader {
  private readonly chars = new StringDecoder('utf8');
  private readonly events = new SseDecoder();

  push(bytes: Uint8Array): SseEvent[] {
    return this.events.push(this.chars.write(bytes as Buffer));
  }

  /** The upstream ended: what is left, including an event without its final blank line. */
  end(): SseEvent[] {
    const last = this.events.push(this.chars.end());
    return last.length === 0 ? this.events.end() : [...last, ...this.events.end()];
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
