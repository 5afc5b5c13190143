// Relays an upstream stream to the client as OpenAI SSE frames, metering it as it passes; never buffers it whole.
import { StringDecoder } from 'node:string_decoder';
import type { StreamTranslator } from '../providers/types.js';
import { UpstreamStreamError } from '../providers/types.js';
import type { Usage } from '../core/cost.js';
import { SSE_DONE, SseDecoder, sseData } from './sse.js';
import type { Cancellation } from '../transport/cancellation.js';

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
): { frames: AsyncGenerator<string, void, undefined>; outcome: Promise<StreamOutcome> } {
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

  async function* frames(): AsyncGenerator<string, void, undefined> {
    const decoder = new SseDecoder();
    // StringDecoder keeps a character split across reads for the next one, like TextDecoder's stream mode,
    // at a seventh of its cost per read.
    const text = new StringDecoder('utf8');
    // Frames translated but not yet yielded; kept outside the loop so an error mid-batch still sends what came before it.
    let out = '';
    try {
      try {
        for await (const bytes of upstream) {
          const events = decoder.push(text.write(bytes));
          for (const ev of events) for (const chunk of translator.push(ev)) out += sseData(chunk);
          if (out !== '') {
            firstByteAt ??= clock();
            const ready = out;
            out = '';
            yield ready;
          }
        }
        let tail = '';
        for (const ev of decoder.end()) for (const chunk of translator.push(ev)) tail += sseData(chunk);
        for (const chunk of translator.end()) tail += sseData(chunk);
        if (!translator.completed()) {
          error = { message: 'The provider ended the stream before it was complete.', code: 'stream_incomplete' };
          tail += sseErrorFrame(error.message, error.code);
        } else {
          tail += SSE_DONE;
        }
        firstByteAt ??= clock();
        yield tail;
      } catch (err) {
        if (signal.aborted) return; // the client left: nobody to tell
        error =
          err instanceof UpstreamStreamError
            ? { message: err.message, code: 'upstream_error' }
            : err instanceof SyntaxError
              ? { message: 'The provider sent a malformed stream event.', code: 'upstream_error' }
              : { message: 'The provider stream failed mid-way.', code: 'stream_interrupted' };
        firstByteAt ??= clock();
        yield out + sseErrorFrame(error.message, error.code);
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
