// The checkpoint worker: copies committed WAL frames into the database file on its own connection, off the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointerConfig } from './checkpointer.js';

const port = parentPort;
if (port === null) throw new Error('checkpoint-worker runs as a worker thread of the SQLite adapter');

const config = workerData as CheckpointerConfig;
const db = new BetterSqlite3(config.path, { fileMustExist: true, timeout: config.busyTimeoutMs });
// NORMAL in WAL mode: the WAL is synced before its frames are copied and the database file after, as SQLite's own
// checkpoints do; here those syncs wait on this thread.
db.pragma('synchronous = NORMAL');
// PASSIVE: copies what no reader still needs, never waits for a lock and never blocks a writer or a reader. When it
// copied everything, the writer's next transaction starts the WAL over from its beginning.
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch {
    // A busy or failing file: the next tick tries again, and the writer's own fallback checkpoint stays armed.
  }
}, config.intervalMs);

port.on('message', (m: { close: true }) => {
  if (!('close' in m)) return;
  clearInterval(timer);
  db.close();
  port.postMessage({ closed: true });
  port.close();
});
