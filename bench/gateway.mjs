// The TokenHub standalone server as `npm start` builds it (dist/), in its own process so its CPU and RSS are its own.
import { startServer } from '../dist/server/index.js';

// Operational warnings and errors still show; the start-up line would only clutter the table.
const logger = {
  info() {},
  warn: (m, f) => console.error(`[gateway] warn: ${m}`, f ?? ''),
  error: (m, f) => console.error(`[gateway] error: ${m}`, f ?? ''),
};

const running = await startServer(process.env, logger);
process.send?.({ type: 'ready', port: running.port });

let stopping = false;
process.on('message', (m) => {
  if (m?.type === 'gc') {
    globalThis.gc?.();
    process.send?.({ type: 'gc-done' });
  } else if (m?.type === 'stop' && !stopping) {
    stopping = true;
    // A clean exit, so --cpu-prof writes its profile and usage is flushed as on SIGTERM.
    running.close().then(() => process.exit(0), () => process.exit(1));
  }
});
process.on('disconnect', () => {
  if (!stopping) running.close().finally(() => process.exit(0));
});
