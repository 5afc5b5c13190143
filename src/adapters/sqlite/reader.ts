// Where the usage store's read-only analytics SQL runs: on the calling thread, or on a worker thread with its own connection.
import type { Worker } from 'node:worker_threads';
import type { Database, Statement } from 'better-sqlite3';
import type { Awaitable } from '../../ports/awaitable.js';
import { closeWorker, spawnWorker } from './spawn-worker.js';

/** Runs read-only statements for the usage store; the SQL is built by the caller, so both kinds answer alike. */
export interface SqlReader {
  /** Every row of one read-only statement, with named parameters. */
  all<T>(sql: string, params: Record<string, unknown>): Awaitable<T[]>;
  /** Releases what the reader opened; calls after it fail. */
  close(): Awaitable<void>;
}

/** Most distinct read statements kept prepared per connection; beyond it the oldest is dropped (zoned queries inline their offsets). */
const STATEMENT_CACHE = 256;

/**
 * A statement per distinct SQL text, prepared on first use and reused after. Only the filters a query uses go
 * into its SQL, so the planner can pick the matching index; the cache keeps that from costing a prepare per call.
 */
export function statements(db: Database): (sql: string) => Statement<Record<string, unknown>, unknown> {
  const prepared = new Map<string, Statement<Record<string, unknown>, unknown>>();
  return (sql) => {
    let stmt = prepared.get(sql);
    if (stmt === undefined) {
      if (prepared.size >= STATEMENT_CACHE) prepared.delete(prepared.keys().next().value!);
      stmt = db.prepare<Record<string, unknown>, unknown>(sql);
      prepared.set(sql, stmt);
    }
    return stmt;
  };
}

/** Reads on the caller's connection and thread: a long aggregate blocks the event loop while it runs. */
export function inThreadReader(db: Database): SqlReader {
  const prepare = statements(db);
  return {
    all: <T>(sql: string, params: Record<string, unknown>) => prepare(sql).all(params) as T[],
    close() {},
  };
}

/** What the worker needs to open its own connection; sent as its workerData. */
export interface ReaderConfig {
  /** Absolute path of the database file. */
  path: string;
  busyTimeoutMs: number;
  /** Pragmas run on the read connection after it opens, e.g. `mmap_size = 1073741824`. */
  pragmas: readonly string[];
}

/** Messages to the worker: a statement to run, or the request to close its connection and end. */
export type ReaderRequest = { id: number; sql: string; params: Record<string, unknown> } | { close: true };
/** The worker's answer to one statement, or word that its connection is closed (it ends right after). */
export type ReaderReply =
  | { id: number; rows: unknown[] }
  | { id: number; error: { name: string; message: string; code?: string } }
  | { closed: true };

/** A SqlReader whose statements run on a worker thread; `worker` is the live one, if any (tests end it to play a crash). */
export interface WorkerReader extends SqlReader {
  readonly worker: Worker | undefined;
}

interface Live {
  worker: Worker;
  pending: Map<number, { resolve(rows: unknown[]): void; reject(err: Error): void }>;
  /** Resolves once the worker's connection is closed, or the worker is gone. */
  done: Promise<void>;
}

const fromReply = (e: { name: string; message: string; code?: string }) => Object.assign(new Error(e.message), e);

/**
 * Reads on a worker thread that opens its own read-only connection to the file (WAL lets it read beside the
 * writer, and every statement sees what was committed before it started). The worker starts on the first call;
 * while calls are pending it keeps the process alive, when idle it does not. If it dies, its pending calls
 * reject and the next call starts a new one. `close()` lets queued statements finish, then ends it.
 */
export function workerReader(config: ReaderConfig): WorkerReader {
  let live: Live | undefined;
  let closed = false;
  let ids = 0;

  const start = (): Live => {
    const worker = spawnWorker('read-worker', config);
    worker.unref();
    const pending: Live['pending'] = new Map();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const fail = (err: Error) => {
      if (live?.worker === worker) live = undefined;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    worker.on('message', (m: ReaderReply) => {
      // Not waiting for the thread itself to wind down spares close() tens of milliseconds.
      if ('closed' in m) return finished();
      const p = pending.get(m.id);
      if (p === undefined) return;
      pending.delete(m.id);
      // Idle again; but a closing worker (no longer live) stays held until its connection is closed.
      if (pending.size === 0 && live?.worker === worker) worker.unref();
      if ('error' in m) p.reject(fromReply(m.error));
      else p.resolve(m.rows);
    });
    worker.on('error', (err) => fail(new Error(`sqlite analytics worker failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => {
      fail(new Error(`sqlite analytics worker exited with code ${code}`));
      finished();
    });
    return { worker, pending, done };
  };

  return {
    get worker() {
      return live?.worker;
    },
    all<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
      if (closed) return Promise.reject(new TypeError('The database connection is not open'));
      const l = (live ??= start());
      const id = ++ids;
      return new Promise<T[]>((resolve, reject) => {
        if (l.pending.size === 0) l.worker.ref();
        l.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
        l.worker.postMessage({ id, sql, params } satisfies ReaderRequest);
      });
    },
    close() {
      closed = true;
      const l = live;
      live = undefined;
      // Nothing to wait for when no worker ever started: closing stays synchronous, as it was before analytics moved.
      if (l === undefined) return;
      return closeWorker(l.worker, l.done);
    },
  };
}
