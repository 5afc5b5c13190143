// Writes relayed SSE frames to a Node response with backpressure; shared by every binding.
import type { ServerResponse } from 'node:http';
import type { Frames } from './relay.js';

/**
 * How long response headers that were written but not flushed wait for the first frame, ms. Usually
 * the upstream's first chunk comes with its headers and both leave in one write (one packet instead
 * of two); when a model thinks before its first token, the client still sees the stream start this soon.
 */
export const HEADERS_WAIT_MS = 20;

/**
 * Sends each frame as it comes and ends the response. Headers the binding wrote with `writeHead`
 * but did not flush go out with the first frame, or alone after HEADERS_WAIT_MS. Waits for `drain`
 * when the client reads slower than the upstream writes, so a slow client never makes the gateway
 * buffer a whole stream. When the client goes away the generator is returned, which ends the relay.
 */
export async function writeFrames(frames: AsyncGenerator<Frames, void, undefined>, res: ServerResponse): Promise<void> {
  // `headersSent` is already true after writeHead, so the timer is set either way; flushing headers
  // that already left writes nothing.
  let headersTimer: NodeJS.Timeout | null = setTimeout(() => {
    if (!res.destroyed && !res.writableEnded) res.flushHeaders();
  }, HEADERS_WAIT_MS);
  try {
    for await (const frame of frames) {
      if (headersTimer !== null) {
        clearTimeout(headersTimer);
        headersTimer = null;
      }
      if (res.destroyed) break;
      if (!res.write(frame)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
  } finally {
    if (headersTimer !== null) clearTimeout(headersTimer);
    await frames.return(undefined);
    if (!res.destroyed) res.end();
  }
}
