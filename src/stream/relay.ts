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

/** One relay's state, shared by its frames generator and its outcome. */
class RelayRun {
  firstByteAt: number | null = null;
  error: StreamOutcome['error'] = null;
  readonly outcome: Promise<StreamOutcome>;
  private resolve!: (o: StreamOutcome) => void;
  private settled = false;

  constructor(
    readonly translator: StreamTranslator,
    readonly signal: Cancellation,
    private readonly clock: () => number,
  ) {
    this.outcome = new Promise<StreamOutcome>((r) => (this.resolve = r));
  }

  /** Notes when the first frame went out. */
  firstByte(): void {
    this.firstByteAt ??= this.clock();
  }

  /** Resolves the outcome, once. */
  readonly finish = (): void => {
    if (this.settled) return;
    this.settled = true;
    const t = this.translator;
    this.resolve({
      reported: t.usage(),
      outputBytes: t.outputBytes(),
      completed: t.completed() && this.error === null,
      clientLeft: this.signal.aborted,
      error: this.error,
      firstByteAt: this.firstByteAt,
    });
  };
}

/**
 * The client frames of one relay. A module-level generator, not one declared inside `relayStream`: every closure of a
 * generator function is a new function with a prototype object of its own, so the generators of each stream would get
 * a hidden class of their own, made in the old generation. Those keep what the stream allocated alive through the
 * young-generation collections until the next full one: measured under the bench's streaming load, ~5 KB of every
 * stream promoted and the collector at 75–118 CPU µs per stream, where the proxy's takes 12 (bench/README.md, round 9).
 */
async function* relayFrames(run: RelayRun, upstream: AsyncIterable<Uint8Array>): AsyncGenerator<Frames, void, undefined> {
  const { translator } = run;
  const out = new FrameBuffer(translator);
  try {
    try {
      for await (const bytes of upstream) {
        out.push(bytes);
        const ready = out.take();
        if (ready !== null) {
          run.firstByte();
          yield ready;
        }
      }
      let tail = out.end();
      if (!translator.completed()) {
        run.error = { message: 'The provider ended the stream before it was complete.', code: 'stream_incomplete' };
        tail += sseErrorFrame(run.error.message, run.error.code);
      } else {
        tail += SSE_DONE;
      }
      run.firstByte();
      yield out.takeWith(tail);
    } catch (err) {
      if (run.signal.aborted) return; // the client left: nobody to tell
      const error =
        err instanceof UpstreamStreamError
          ? { message: err.message, code: 'upstream_error' }
          : err instanceof SyntaxError
            ? { message: 'The provider sent a malformed stream event.', code: 'upstream_error' }
            : { message: 'The provider stream failed mid-way.', code: 'stream_interrupted' };
      run.error = error;
      run.firstByte();
      // What was translated before the failure still goes out, ahead of the error frame.
      yield out.takeWith(sseErrorFrame(error.message, error.code));
    }
  } finally {
    run.finish();
  }
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
  const run = new RelayRun(translator, signal, clock);
  const frames = relayFrames(run, upstream);
  // If the consumer never starts or drops the generator, the outcome must still resolve.
  signal.once('abort', () => queueMicrotask(run.finish));
  return { frames, outcome: run.outcome };
}
