// Writes relayed SSE frames to a Node response with backpressure; shared by every binding.
import type { ServerResponse } from 'node:http';

/**
 * Sends each frame as it comes and ends the response. Waits for `drain` when the client reads
 * slower than the upstream writes, so a slow client never makes the gateway buffer a whole stream.
 * When the client goes away the generator is returned, which ends the relay.
 */
export async function writeFrames(frames: AsyncGenerator<string, void, undefined>, res: ServerResponse): Promise<void> {
  try {
    for await (const frame of frames) {
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
    await frames.return(undefined);
    if (!res.destroyed) res.end();
  }
}
