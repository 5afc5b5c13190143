// SQLite storage: the embedded, persistent default; keys, spend and usage in one better-sqlite3 file.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { z } from 'zod';
import type { Storage } from '../../ports/storage.js';
import { sqliteKeyStore } from './keys.js';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, walCheckpointer, type Checkpointer } from './checkpointer.js';
import { inThreadReader, workerReader, type SqlReader } from './reader.js';
import { DEFAULT_PRUNE_INTERVAL_MS, sqliteSpendStore, type SqliteSpendStore } from './spend.js';
import { usageStore } from './usage.js';
import { DURABILITY_MODES, noWalSync, walSync } from './wal-sync.js';

export { sqliteKeyStore } from './keys.js';
export { sqliteSpendStore, type SqliteSpendOptions, type SqliteSpendStore } from './spend.js';
export { sqliteUsageStore } from './usage.js';
export { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './schema.js';

/** Most of the file SQLite maps into memory for reads: 1 GiB. */
const MMAP_BYTES = 1 << 30;
/** Page cache of a connection the adapter opens, KiB: 64 MiB. */
const CACHE_KIB = 65_536;
/**
 * Run on every connection the adapter opens, the analytics worker's included. Aggregates over a million rows read
 * hundreds of MB: a memory map spares a read() per page (about 1.5x faster scans), and a 64 MiB page cache keeps
 * index pages hot for inserts.
 */
const READ_PRAGMAS: readonly string[] = [`mmap_size = ${MMAP_BYTES}`, `cache_size = -${CACHE_KIB}`];

// Duck-typed rather than instanceof: a host's own copy of better-sqlite3 is a different class.
const isDatabase = (v: unknown): v is Database =>
  typeof v === 'object' && v !== null && ['prepare', 'transaction', 'pragma', 'exec'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function');

/** How often settled reservations of old months are pruned, ms; 0 never. Default 6 hours. */
const pruneIntervalMs = z.number().int().nonnegative().default(DEFAULT_PRUNE_INTERVAL_MS);
/**
 * Admit requests against a block of each busy key's month held in the file, in memory (default true): no transaction
 * per request. Another process sharing the file may then be refused up to that block's unused part before the cap
 * (see `spendLeases`); false reserves each request in its own row, exactly, at a transaction per batch of requests.
 */
const spendLeases = z.boolean().default(true);

const pathOptions = z.strictObject({
    /** File to open or create; its folder is created if missing. `:memory:` for a throwaway database. */
    path: z.string().min(1, 'path must not be empty'),
    /** How long a write waits for another process's write lock before failing, ms. Default 5,000. */
    busyTimeoutMs: z.number().int().nonnegative().default(5_000),
    /**
     * How commits reach the disk (see `Durability`): `background` (default) answers once a commit is written and
     * syncs the WAL right after, off the event loop; `full` answers once that sync is done; `normal` syncs at
     * checkpoints only. No mode makes a commit wait for the disk on the event loop.
     */
    synchronous: z.enum(DURABILITY_MODES).default('background'),
    /**
     * Milliseconds between two checkpoints of the WAL, run by a worker thread (default 1,000). 0 leaves them to SQLite,
     * which runs them on the writer's thread, its disk syncs included, once the WAL passes 1,000 pages.
     */
    checkpointIntervalMs: z.number().int().nonnegative().default(DEFAULT_CHECKPOINT_INTERVAL_MS),
    pruneIntervalMs,
    spendLeases,
});
const databaseOptions = z.strictObject({
  /** A better-sqlite3 Database the host opened and will close; used with the host's own pragmas. */
  database: z.custom<Database>(isDatabase, { message: 'expected a better-sqlite3 Database' }),
  pruneIntervalMs,
  spendLeases,
});

/** Options of `sqliteStorage`: a file path (the adapter opens and closes it) or the host's Database. */
export type SqliteStorageOptions = z.input<typeof pathOptions> | { database: Database; pruneIntervalMs?: number; spendLeases?: boolean };

/** What `sqliteStorage` returns: the three stores (spend with its `prune`) and `close`. */
export interface SqliteStorage extends Storage {
  spend: SqliteSpendStore;
  /** Ends the analytics worker (after the reads it was given), stops pruning, and closes a file the adapter opened. */
  close(): void | Promise<void>;
}

/**
 * Keys, spend and usage in SQLite. With `{ path }` the adapter opens the file in WAL mode with a
 * busy timeout (default 5 s), foreign keys on, a 64 MiB page cache and reads through a memory map (up to 1 GiB),
 * commits made durable as `synchronous` says (default `background`: answered once written, the WAL synced right
 * after on the thread pool; see `Durability`), the WAL checkpointed by a worker thread every `checkpointIntervalMs`
 * (default 1 s; see `walCheckpointer`), and `close()` syncs and closes it;
 * with `{ database }` it uses the host's connection as configured and `close()` leaves it open.
 * The schema is created or migrated on open; the adapter owns the file's `PRAGMA user_version`.
 * Several processes may share one file: spend changes take the write lock before they read. With `spendLeases` (the
 * default) each process admits a busy key's requests against a block of its month held in the file, so a transaction
 * serves many requests, and near the cap another process may be refused up to that block's unused part early.
 *
 * Usage analytics (aggregate, series, heatmap, wasteGroups) over a file the adapter opened run on a worker thread
 * with its own read-only connection (same cache and memory map), started on the first such call, so an aggregate
 * over millions of rows never stalls the requests in flight; they see every write committed before they were
 * asked. Writes (keys, spend, usage inserts) stay on the calling thread. A `:memory:` database (no other
 * connection can see it) and a host's `Database` (its pragmas and journal mode are the host's) answer on the
 * calling thread, as every better-sqlite3 query does.
 *
 * Settled spend reservations of months before the previous one (UTC) are pruned on open and every
 * `pruneIntervalMs` (default 6 h; 0 never).
 */
export function sqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  // Picked by key rather than z.union, so a mistake is reported against the form the caller meant.
  const given = typeof options === 'object' && options !== null && 'database' in options ? databaseOptions : pathOptions;
  const parsed = given.safeParse(options);
  if (!parsed.success) throw new Error(`sqliteStorage: ${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  let db: Database;
  let reader: SqlReader;
  let owned = false;
  let sync = noWalSync;
  let checkpointer: Checkpointer | null = null;
  if ('path' in o) {
    if (o.path !== ':memory:') mkdirSync(dirname(resolve(o.path)), { recursive: true });
    db = new BetterSqlite3(o.path, { timeout: o.busyTimeoutMs });
    owned = true;
    try {
      db.pragma('journal_mode = WAL');
      // COMMIT itself never waits for the disk; `walSync` makes the wait (or not) off the event loop.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      for (const pragma of READ_PRAGMAS) db.pragma(pragma);
    } catch (err) {
      db.close();
      throw err;
    }
    reader = db.memory ? inThreadReader(db) : workerReader({ path: resolve(o.path), busyTimeoutMs: o.busyTimeoutMs, pragmas: READ_PRAGMAS });
    if (!db.memory && o.synchronous !== 'normal') sync = walSync(`${resolve(o.path)}-wal`, o.synchronous);
    if (!db.memory && o.checkpointIntervalMs > 0) {
      checkpointer = walCheckpointer(db, { path: resolve(o.path), busyTimeoutMs: o.busyTimeoutMs, intervalMs: o.checkpointIntervalMs });
    }
  } else {
    db = o.database;
    reader = inThreadReader(db);
  }
  let spend: SqliteSpendStore | undefined;
  try {
    const keys = sqliteKeyStore(db, sync);
    spend = sqliteSpendStore(db, { pruneIntervalMs: o.pruneIntervalMs, leases: o.spendLeases }, sync);
    const usage = usageStore(db, reader, sync);
    let closing: void | Promise<void> | undefined;
    let closed = false;
    const finish = () => {
      if (!owned || !db.open) return;
      sync.close();
      // Lets SQLite refresh its planner statistics where they went stale; cheap when nothing did.
      db.pragma('optimize');
      db.close();
    };
    return {
      keys,
      spend,
      usage,
      close() {
        if (closed) return closing;
        closed = true;
        spend!.close();
        // The workers' connections close first, so the writer's is the last one and checkpoints the WAL away.
        const stopping = reader.close();
        const workers = checkpointer === null ? stopping : Promise.all([stopping, checkpointer.close()]);
        return (closing = workers instanceof Promise ? workers.then(finish) : finish());
      },
    };
  } catch (err) {
    spend?.close();
    sync.close();
    void checkpointer?.close();
    if (owned) db.close();
    throw err;
  }
}
