// Group commit: the writes asked for during one event-loop turn run in one SQLite transaction.
import type { Database } from 'better-sqlite3';
import { noWalSync, type WalSync } from './wal-sync.js';

/** Queues synchronous write steps and commits them together; see `groupCommit`. */
export interface GroupCommit {
  /**
   * Queues `step` for the next batch; resolves to its result once the batch committed, rejects with what it threw
   * (its own changes undone, the batch's others kept) or with the error that kept the whole batch from committing.
   */
  run<T>(step: () => T): Promise<T>;
  /**
   * As `run`, for a step nobody is waiting on: it joins the next batch a `run` starts, or commits within
   * `LINGER_MS` on its own. At one request at a time, a settle thus shares the next request's reserve transaction.
   */
  later<T>(step: () => T): Promise<T>;
  /** Runs the queued steps now (when the store closes, before its Database does). */
  flush(): void;
}

/**
 * What the steps' owner learns of each transaction the group commit runs, inside it: `begin` before the first step
 * (`isolated` when each step runs in its own savepoint), `end` after the last one, before COMMIT (throwing there fails
 * the batch for every caller), and, outside it, `rolledBack` when the transaction was undone as a whole (a step threw
 * in a plain run, or BEGIN or COMMIT failed). Lets steps share work across a batch, e.g. read a row once and write it
 * back once, and keep state in memory that mirrors what they wrote: undone with the transaction.
 */
export interface BatchHooks {
  begin(isolated: boolean): void;
  end(): void;
  rolledBack?(): void;
}

const noHooks: BatchHooks = { begin() {}, end() {} };

interface Queued {
  step: () => unknown;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** How long a step queued with `later` waits at most for a batch to join, ms. */
export const LINGER_MS = 5;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * A transaction costs more than the few statements of a reserve or a settle (BEGIN IMMEDIATE takes the file lock,
 * COMMIT writes the WAL, and with `synchronous = FULL` would wait for an fsync on the event loop). Steps queued during
 * one turn of the event loop therefore share one `BEGIN IMMEDIATE … COMMIT`, flushed by `setImmediate`: after the poll phase, so every request whose bytes arrived in
 * that phase joins (a microtask would flush after the first request's promise chain, before the others were even
 * parsed), and a lone request waits one turn, microseconds. Steps run one after another inside the transaction, so each
 * sees the ones before it. A step that throws undoes only its own changes: the batch is first run plainly, and only
 * when a step throws is it rolled back and run again with each step in its own savepoint (a SAVEPOINT and a RELEASE
 * per step cost as much as the step's own statements, for a throw that almost never comes). Callers hear
 * back only after COMMIT and once `sync` says the batch is as durable as promised (one WAL sync for the batch):
 * a result is never reported for a change that was not made, and when BEGIN or COMMIT fails (the lock held past the
 * busy timeout, a disk error) every caller of the batch gets that error.
 */
export function groupCommit(db: Database, sync: WalSync = noWalSync, hooks: BatchHooks = noHooks): GroupCommit {
  let queue: Queued[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let lingering: NodeJS.Timeout | undefined;

  // Set when a step, not BEGIN or COMMIT, made the plain run fail: only then is running the batch again any use.
  let stepThrew = false;
  /** One transaction over the batch, each step run by `runStep`, with the owner's hooks around them. */
  const batchOf = (isolated: boolean, runStep: (q: Queued) => Outcome) =>
    db.transaction((steps: readonly Queued[]): Outcome[] => {
      hooks.begin(isolated);
      const outcomes = steps.map(runStep);
      hooks.end();
      return outcomes;
    });
  const plain = batchOf(false, ({ step }) => {
    try {
      return { ok: true, value: step() };
    } catch (error) {
      stepThrew = true;
      throw error;
    }
  });
  // Nested inside `isolated`, better-sqlite3 runs a transaction function as SAVEPOINT … RELEASE (ROLLBACK TO on a throw).
  const inSavepoint = db.transaction((step: () => unknown) => step());
  const isolated = batchOf(true, ({ step }) => {
    try {
      return { ok: true, value: inSavepoint(step) };
    } catch (error) {
      // Some faults (SQLITE_FULL, SQLITE_IOERR, …) make SQLite roll the whole transaction back: what the earlier
      // steps did is gone, so none of them may be reported done. Throwing fails the batch for all.
      if (!db.inTransaction) throw error;
      return { ok: false, error };
    }
  });

  const answer = (steps: readonly Queued[], outcomes: readonly Outcome[]) =>
    steps.forEach((s, i) => {
      const o = outcomes[i]!;
      if (o.ok) s.resolve(o.value);
      else s.reject(o.error);
    });

  function flush(): void {
    if (scheduled !== undefined) clearImmediate(scheduled);
    if (lingering !== undefined) clearTimeout(lingering);
    scheduled = lingering = undefined;
    const steps = queue;
    queue = [];
    if (steps.length === 0) return;
    let outcomes: Outcome[];
    stepThrew = false;
    try {
      try {
        outcomes = plain.immediate(steps);
      } catch (error) {
        hooks.rolledBack?.();
        if (!stepThrew) throw error;
        // Rolled back: nothing of the plain run is left. The steps hold their own inputs, so running again is the same.
        try {
          outcomes = isolated.immediate(steps);
        } catch (again) {
          hooks.rolledBack?.();
          throw again;
        }
      }
    } catch (error) {
      for (const s of steps) s.reject(error);
      return;
    }
    const durable = sync.durable(outcomes);
    // A failed sync (a failing disk) fails the batch's callers although the commit stands: a settle retried is then a
    // no-op, a reserve reported failed leaves its hold in place (the key over-held, never under).
    if (durable instanceof Promise) durable.then((o) => answer(steps, o), (error) => steps.forEach((s) => s.reject(error)));
    else answer(steps, durable);
  }

  const enqueue = <T>(step: () => T) =>
    new Promise<T>((resolve, reject) => queue.push({ step, resolve: resolve as (v: unknown) => void, reject }));

  return {
    run<T>(step: () => T): Promise<T> {
      const queued = enqueue(step);
      scheduled ??= setImmediate(flush);
      return queued;
    },
    later<T>(step: () => T): Promise<T> {
      const queued = enqueue(step);
      if (scheduled === undefined) lingering ??= setTimeout(flush, LINGER_MS);
      return queued;
    },
    flush,
  };
}
