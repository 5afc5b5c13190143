// An upstream answer's body as undici's dispatch callbacks deliver it: chunks queue here until the reader takes them.
import type { Dispatcher } from 'undici';
import { joinBytes } from './join-bytes.js';

/** Unread bytes a body holds before it pauses the socket; a read resumes it. undici's own Readable uses 64 KiB. */
export const BODY_HIGH_WATER_BYTES = 64 * 1024;
/** Bytes `dump()` reads and drops to keep the connection; past them it closes it instead (as undici does). */
export const DUMP_LIMIT_BYTES = 128 * 1024;
/**
 * The most a body read whole (`text()`, `json()`) may hold: 64 MiB. A chat completion is kilobytes, a few MB with many
 * choices; a provider that sends more is broken or hostile, and the read fails (the request cancelled) rather than the
 * gateway's memory. Streams are read piece by piece and bounded per event instead (`MAX_SSE_EVENT_BYTES`).
 */
export const WHOLE_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Read once: by iterating it (each step hands over everything that came since the last one), whole with
 * `text()`/`json()` (up to WHOLE_BODY_LIMIT_BYTES), or dropped with `dump()`. No stream object sits between the
 * socket and the reader: the handler pushes, the reader pulls, and the socket is paused while BODY_HIGH_WATER_BYTES
 * wait unread. A reader that stops early (`return()` on the iterator) cancels the upstream request, so its connection
 * is not left half-read.
 */
export class UpstreamBody implements AsyncIterable<Uint8Array> {
  private readonly chunks: Buffer[] = [];
  private held = 0;
  private ended = false;
  private failure: Error | null = null;
  /** The reader waiting for the next chunk, the end or a failure. */
  private wake: (() => void) | null = null;
  /** How the body is being read, once a reader claimed it. */
  private reading: 'unread' | 'chunks' | 'whole' | 'dump' = 'unread';
  /** Bytes `dump()` still drops before it gives up on the connection. */
  private dumpLeft = 0;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  // ---- the handler's side --------------------------------------------------------------------

  /** A chunk from the socket; pauses the socket when the reader is too far behind. */
  push(chunk: Buffer): void {
    if (this.reading === 'dump') {
      this.dumpLeft -= chunk.length;
      if (this.dumpLeft < 0) this.controller.abort(new Error('body too large to drop; connection closed'));
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.reading === 'whole') {
      // Read whole, the body is wanted to its end anyway: no pause, which would only wait for a reader that is not
      // coming, but a bound. The abort ends the request; its error reaches `text()` through `fail`.
      if (this.held > WHOLE_BODY_LIMIT_BYTES) this.tooLarge();
    } else if (this.held >= BODY_HIGH_WATER_BYTES) {
      this.controller.pause();
    }
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(err: Error): void {
    this.failure = err;
    this.ended = true;
    this.notify();
  }

  // ---- the reader's side ---------------------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.claim('chunks');
    return {
      next: () => this.next(),
      return: () => {
        this.cancel();
        return Promise.resolve(DONE);
      },
    };
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    this.claim('whole');
    this.controller.resume();
    while (!this.ended) await this.waitForMore();
    if (this.failure !== null) throw this.failure;
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.held);
    this.chunks.length = 0;
    this.held = 0;
    return bytes.toString('utf8');
  }

  /** The whole body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** Reads the rest and drops it, so the connection can serve another request (closes it past DUMP_LIMIT_BYTES). */
  async dump(): Promise<void> {
    this.claim('dump');
    this.dumpLeft = DUMP_LIMIT_BYTES - this.held;
    this.chunks.length = 0;
    this.held = 0;
    if (this.dumpLeft < 0) this.controller.abort(new Error('body too large to drop; connection closed'));
    else this.controller.resume();
    while (!this.ended) await this.waitForMore();
  }

  private claim(how: 'chunks' | 'whole' | 'dump'): void {
    if (this.reading !== 'unread') throw new TypeError('The upstream body was read already.');
    this.reading = how;
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    const n = this.chunks.length;
    if (n > 0) {
      // Everything that came since the last read, in one piece, as a Readable's read() hands it over: one socket read
      // of a chunked body is one callback per HTTP chunk (a provider's 18 SSE events, say), and the reader's work per
      // piece costs more than joining them.
      const bytes = n === 1 ? this.chunks[0]! : joinBytes(this.chunks);
      this.chunks.length = 0;
      this.held = 0;
      this.controller.resume();
      return Promise.resolve({ done: false, value: bytes });
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(DONE);
    return this.waitForMore().then(() => this.next());
  }

  private waitForMore(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private tooLarge(): void {
    this.chunks.length = 0;
    this.held = 0;
    this.controller.abort(new Error(`The provider's answer is larger than ${WHOLE_BODY_LIMIT_BYTES / 1024 / 1024} MiB.`));
  }

  /** The reader stopped before the end: nobody will read the rest, so the request is cancelled. */
  private cancel(): void {
    this.chunks.length = 0;
    this.held = 0;
    if (!this.ended) this.controller.abort(new Error('upstream body no longer read'));
  }
}
