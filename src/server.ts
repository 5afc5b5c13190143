// What `npm start` runs: the standalone gateway, stopped gracefully on SIGTERM/SIGINT.
import { startServer } from './server/index.js';

try {
  const running = await startServer(process.env);
  const stop = (signal: string) => {
    console.log(`[tokenhub] ${signal}: draining in-flight requests`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[tokenhub] shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  console.error(`[tokenhub] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
