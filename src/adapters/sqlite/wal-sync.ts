// Makes commits durable without holding the event loop: the WAL is fdatasync'ed on libuv's thread pool.
import { close, closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/**
 * How a commit reaches the disk (the adapter's `synchronous` option):
 * - `full`: the commit is written (SQLite `synchronous = NORMAL`, so COMMIT does not wait for the disk) and the
 *   caller hears back once an fdatasync of the WAL that started after it has finished — what SQLite's own `FULL`
 *   guarantees, but the wait happens on the thread pool, so other requests run meanwhile, and one sync covers every
 *   commit made before it started.
 * - `background` (default): the caller hears back as soon as the commit is written — it survives a crash of the
 *   process at once — and an fdatasync follows within `BACKGROUND_SYNC_MS` (10 ms), shared by every commit of that
 *   window: a power cut can lose at most the commits of the last 10 ms (PostgreSQL's `synchronous_commit = off`
 *   allows 600 ms), when the requests they belong to die with it too.
 * - `normal`: SQLite's `NORMAL`; the WAL reaches the disk at checkpoints only.
 */
export const DURABILITY_MODES = ['full', 'background', 'normal'] as const;
export type Durability = (typeof DURABILITY_MODES)[number];

/** Hands back `value` when the commits made so far are as durable as the mode promises. */
export interface WalSync {
  durable<T>(value: T): T | Promise<T>;
  /** Syncs what is left, synchronously, and lets go of the file (before the Database closes). */
  close(): void;
}

/** How long a commit in `background` mode waits at most for its fdatasync to start. */
export const BACKGROUND_SYNC_MS = 10;

/** Nothing to do: the commit already is as durable as it will be (`normal`, `:memory:`, a host's Database). */
export const noWalSync: WalSync = { durable: (value) => value, close() {} };

/**
 * Syncs `walPath` (the database file's path + `-wal`) after commits, coalesced: while one fdatasync runs, every commit
 * that asks joins a single next one, which starts when the running one ends (it may have started before their writes).
 */
export function walSync(walPath: string, mode: 'full' | 'background'): WalSync {
  let fd: number | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;

  const syncOnce = () =>
    new Promise<void>((resolve, reject) => {
      if (closed) return resolve(); // close() synced everything already
      // Opened on first use: the WAL exists once the schema was written. Linux syncs the file, whichever descriptor.
      fd ??= openSync(walPath, 'r');
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  const start = (): Promise<void> => {
    const sync = syncOnce().finally(() => {
      if (running === sync) running = null;
    });
    return (running = sync);
  };
  const request = (): Promise<void> => {
    if (running === null) return start();
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = null;
        return start();
      });
    return queued;
  };

  // In the background a failed sync has nobody to tell: SQLite syncs the WAL again before every checkpoint and
  // reports a failing disk there.
  const background = () => {
    timer = null;
    request().catch(() => {});
  };

  return {
    durable<T>(value: T): T | Promise<T> {
      if (mode === 'full') return request().then(() => value);
      // One sync per window rather than per commit: at a thousand commits a second, a sync each would cost the
      // disk's time and the CPU's, with no caller waiting for it.
      timer ??= setTimeout(background, BACKGROUND_SYNC_MS).unref();
      return value;
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== null) clearTimeout(timer);
      if (fd === null) return;
      fdatasyncSync(fd);
      const own = fd;
      fd = null;
      // A sync still on the thread pool keeps using the descriptor until it returns; close it after.
      if (running === null) closeSync(own);
      else void running.catch(() => {}).finally(() => close(own, () => {}));
    },
  };
}
