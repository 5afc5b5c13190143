// Server-sent events: an incremental decoder for upstream streams and the encoder for the client's.
import { StringDecoder } from 'node:string_decoder';
import { UpstreamStreamError } from '../providers/types.js';

/** One decoded event. `data` joins multi-line data with `\n`, per the SSE spec. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * The most an upstream stream event may hold: 16 MiB (on the text path, characters). A provider's events are a few
 * hundred bytes to a few kilobytes; one that grows past this without ending is a broken or hostile upstream, and the
 * stream fails with an `UpstreamStreamError` rather than the gateway's memory.
 */
export const MAX_SSE_EVENT_BYTES = 16 * 1024 * 1024;

/** The error a stream fails with when one event outgrows MAX_SSE_EVENT_BYTES. */
export function eventTooLarge(): UpstreamStreamError {
  const mib = MAX_SSE_EVENT_BYTES / 1024 / 1024;
  return new UpstreamStreamError(`The provider sent a stream event larger than ${mib} MiB.`);
}

/**
 * Decodes SSE text as it arrives, across chunk boundaries, with `\n`, `\r\n` or `\r` line ends
 * (Gemini separates events with `\r\n\r\n`). Feed it decoded text; it returns whole events only.
 * Text without a line end is kept as pieces and joined once its line ends, and only new text is searched, so a
 * line spread over many reads costs its length once, not once per read.
 */
export class SseDecoder {
  /** The unfinished line: its pieces, and their length. */
  private readonly pieces: string[] = [];
  private held = 0;
  /** The kept part ends with `\r`: a line end whatever comes next, so the next text is always read. */
  private keptCR = false;
  private event: string | undefined = undefined;
  /** The event's data so far; null until its first `data` line (most events have exactly one). */
  private data: string | null = null;

  push(text: string): SseEvent[] {
    const kept = this.held;
    // A line end in the new text, or the new text completing a `\r\n` the kept part ended with; else keep it.
    if (kept > 0 && !this.keptCR && text.indexOf('\n') === -1 && text.indexOf('\r') === -1) {
      this.keep(text);
      return [];
    }
    const buf = kept === 0 ? text : this.pieces.join('') + text;
    this.pieces.length = 0;
    this.held = 0;
    this.keptCR = false;
    const out: SseEvent[] = [];
    let start = 0;
    // The kept part has no line end but maybe a `\r` as its last character (the first half of `\r\n`).
    const from = Math.max(0, kept - 1);
    // Where the next `\r` is, found once and reused: most streams have none, and scanning the whole
    // rest of the buffer again for every line made decoding quadratic in the size of a read.
    let cr = buf.indexOf('\r', from);
    for (;;) {
      if (cr !== -1 && cr < start) cr = buf.indexOf('\r', start);
      const lf = buf.indexOf('\n', Math.max(start, from));
      const nl = cr === -1 ? lf : lf === -1 ? cr : Math.min(lf, cr);
      if (nl === -1) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (nl === cr && nl + 1 === buf.length) break;
      const line = buf.slice(start, nl);
      start = nl + (nl === cr && buf.charCodeAt(nl + 1) === 10 ? 2 : 1);
      this.line(line, out);
    }
    if (start < buf.length) this.keep(start === 0 ? buf : buf.slice(start));
    return out;
  }

  private keep(text: string): void {
    this.pieces.push(text);
    this.held += text.length;
    this.keptCR = text.charCodeAt(text.length - 1) === 13;
    if (this.held + (this.data?.length ?? 0) > MAX_SSE_EVENT_BYTES) throw eventTooLarge();
  }

  /** Flushes an event the upstream left without its final blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.held > 0) {
      const last = this.pieces.join('');
      this.line(this.keptCR ? last.slice(0, -1) : last, out);
    }
    this.pieces.length = 0;
    this.held = 0;
    this.keptCR = false;
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
    if (this.data.length > MAX_SSE_EVENT_BYTES) throw eventTooLarge();
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
