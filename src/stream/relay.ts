// Relays an upstream stream to the client as OpenAI SSE frames, metering it as it passes; never buffers it whole.
import type { StreamTranslator } from '../providers/types.js';
import { UpstreamStreamError } from '../providers/types.js';
import type { Usage } from '../core/cost.js';
import { SSE_DONE, SseReader, sseData } from './sse.js';
import type { Cancellation } from '../transport/cancellation.js';
import { joinBytes } from '../transport/join-bytes.js';

/** How a relayed stream ended. */
export interface StreamOutcome {
  /** Usage the provider reported, or null when it reported none. */
  reported: Usage | null;
  /** Bytes of generated text seen, for estimating what was not reported. */
  outputBytes: number;
  /** True when the upstream ended normally. */
  completed: boolean;
  /** True when the client went away before the end. */
  clientLeft: boolean;
  /** Set when the stream failed after it started. */
  error: { message: string; code: string } | null;
  /** Epoch ms the first frame was handed to the client, or null. */
  firstByteAt: number | null;
}

export interface RelayOptions {
  /** Aborted when the client leaves; the relay then stops reading and the upstream request is cancelled. */
  signal: Cancellation;
  clock?: () => number;
}

/** Client frames ready to write: text, or the upstream's own bytes where the translator has a byte path. */
export type Frames = string | Uint8Array;

/**
 * Collects the client frames of the reads so far: through the translator's byte path when it has one (bytes,
 * joined once per read), else decoded to text and translated event by event.
 */
class FrameBuffer {
  private text = '';
  private readonly bytes: Uint8Array[] = [];
  /** The text path's decoder, made on first use: a translator with a byte path never needs one. */
  private textReader: SseReader | null = null;
  constructor(private readonly translator: StreamTranslator) {}

  private get reader(): SseReader {
    return (this.textReader ??= new SseReader());
  }

  push(read: Uint8Array): void {
    const t = this.translator;
    if (t.pushBytes !== undefined) t.pushBytes(read, this.bytes);
    else for (const ev of this.reader.push(read)) for (const chunk of t.push(ev)) this.text += sseData(chunk);
  }

  /** Flushes an event the upstream left without its final blank line, and the translator's last chunks; returns those as text. */
  end(): string {
    const t = this.translator;
    let tail = '';
    if (t.pushBytes !== undefined) t.pushBytes(null, this.bytes);
    else for (const ev of this.reader.end()) for (const chunk of t.push(ev)) tail += sseData(chunk);
    for (const chunk of t.end()) tail += sseData(chunk);
    return tail;
  }

  /** What is ready, or null; clears it. */
  take(): Frames | null {
    if (this.bytes.length > 0) {
      const ready = this.bytes.length === 1 ? this.bytes[0]! : joinBytes(this.bytes);
      this.bytes.length = 0;
      return ready;
    }
    if (this.text === '') return null;
    const ready = this.text;
    this.text = '';
    return ready;
  }

  /** What is ready followed by `last`, in one write. */
  takeWith(last: string): Frames {
    const ready = this.take();
    if (ready === null) return last;
    if (typeof ready === 'string') return ready + last;
    return Buffer.concat([ready, Buffer.from(last)]);
  }
}

/** The SSE error frame a stream ends with when it fails after it started. */
export function sseErrorFrame(message: string, code: string): string {
  return sseData(JSON.stringify({ error: { message, type: 'upstream_error', param: null, code } }));
}

/**
 * Turns upstream bytes into client frames. `frames` yields strings ready to write; `outcome`
 * resolves exactly once when the relay ends for any reason (end, upstream error, client gone).
 */
export function relayStream(
  upstream: AsyncIterable<Uint8Array>,
  translator: StreamTranslator,
  { signal, clock = Date.now }: RelayOptions,
): { frames: AsyncGenerator<Frames, void, undefined>; outcome: Promise<StreamOutcome> } {
  let resolve!: (o: StreamOutcome) => void;
  const outcome = new Promise<StreamOutcome>((r) => (resolve = r));
  let firstByteAt: number | null = null;
  let error: StreamOutcome['error'] = null;
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    resolve({
      reported: translator.usage(),
      outputBytes: translator.outputBytes(),
      completed: translator.completed() && error === null,
      clientLeft: signal.aborted,
      error,
      firstByteAt,
    });
  };

  async function* frames(): AsyncGenerator<Frames, void, undefined> {
    const out = new FrameBuffer(translator);
    try {
      try {
        for await (const bytes of upstream) {
          out.push(bytes);
          const ready = out.take();
          if (ready !== null) {
            firstByteAt ??= clock();
            yield ready;
          }
        }
        let tail = out.end();
        if (!translator.completed()) {
          error = { message: 'The provider ended the stream before it was complete.', code: 'stream_incomplete' };
          tail += sseErrorFrame(error.message, error.code);
        } else {
          tail += SSE_DONE;
        }
        firstByteAt ??= clock();
        yield out.takeWith(tail);
      } catch (err) {
        if (signal.aborted) return; // the client left: nobody to tell
        error =
          err instanceof UpstreamStreamError
            ? { message: err.message, code: 'upstream_error' }
            : err instanceof SyntaxError
              ? { message: 'The provider sent a malformed stream event.', code: 'upstream_error' }
              : { message: 'The provider stream failed mid-way.', code: 'stream_interrupted' };
        firstByteAt ??= clock();
        // What was translated before the failure still goes out, ahead of the error frame.
        yield out.takeWith(sseErrorFrame(error.message, error.code));
      }
    } finally {
      finish();
    }
  }

  const gen = frames();
  // If the consumer never starts or drops the generator, the outcome must still resolve.
  signal.once('abort', () => queueMicrotask(finish));
  return { frames: gen, outcome };
}
