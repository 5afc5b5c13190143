// Keeps SQLite's checkpoints, and the disk syncs they wait for, off the event loop: a worker thread runs them.
import type { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { closeWorker, spawnWorker } from './spawn-worker.js';

/** What the checkpoint worker needs to open its own connection; sent as its workerData. */
export interface CheckpointerConfig {
  /** Absolute path of the database file. */
  path: string;
  busyTimeoutMs: number;
  /** Milliseconds between two checkpoints. */
  intervalMs: number;
}

/**
 * WAL pages after which the writer checkpoints by itself, on the event loop: a safety net for when the worker is
 * gone or cannot keep up (the WAL would otherwise grow without end). 10,000 pages are 40 MB at the default page size;
 * SQLite's own default is 1,000.
 */
export const FALLBACK_CHECKPOINT_PAGES = 10_000;

/** Default milliseconds between two checkpoints of the worker. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1_000;

export interface Checkpointer {
  /** The worker thread (tests end it to play a crash). */
  readonly worker: Worker;
  /** Ends the worker once its connection is closed; a checkpoint under way finishes first. */
  close(): Promise<void>;
}

/**
 * SQLite checkpoints the WAL on the connection whose COMMIT takes it past 1,000 pages: there, the copy into the
 * database file and its two fsyncs (0.3–0.9 ms each on this project's machine, far longer on a busy disk) stall every
 * request in flight, every few hundred requests. The writer `db` is given a ten times higher threshold
 * (`FALLBACK_CHECKPOINT_PAGES`) and a worker thread with its own connection runs a PASSIVE checkpoint every
 * `intervalMs`, which copies the pages. The WAL starts over from its beginning only when a write transaction begins
 * with every frame copied; under steady writes that rarely happens between the worker's copy and the next commit, so
 * the writer's own checkpoint at the threshold still runs, with little left to copy but its two syncs (and the sync of
 * the new WAL header, which SQLite needs against a power cut) on the event loop: ten times less often than SQLite's
 * default, for a WAL of up to 40 MB. The worker does not keep the process alive. When it dies, nothing is lost: the
 * writer's threshold takes over.
 */
export function walCheckpointer(db: Database, config: CheckpointerConfig): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
  const worker = spawnWorker('checkpoint-worker', config);
  worker.unref();
  const done = new Promise<void>((resolve) => {
    worker.on('message', (m: { closed?: true }) => m.closed === true && resolve());
    worker.once('exit', () => resolve());
  });
  // An error ends the worker (its 'exit' follows); the fallback threshold covers from then on.
  worker.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      return (closing ??= closeWorker(worker, done));
    },
  };
}
