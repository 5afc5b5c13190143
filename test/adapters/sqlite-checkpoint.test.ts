// SQLite checkpoints on a worker thread: the WAL reaches the database file without the writer's thread copying it.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../support/temp-files.js';
import { FALLBACK_CHECKPOINT_PAGES, walCheckpointer } from '../../src/adapters/sqlite/checkpointer.js';
import { sqliteStorage } from '../../src/adapters/sqlite/index.js';
import { usageRecord } from '../contracts/support.js';

const freshPath = tempFiles('tokenhub-sqlite-checkpoint').fresh;
const size = (path: string) => statSync(path).size;

/**
 * A storage with `checkpointIntervalMs`, its file's size when opened, and 1,000 usage rows written in ten commits
 * since: a few hundred WAL pages, below SQLite's own threshold of 1,000.
 */
async function filled(checkpointIntervalMs: number) {
  const path = freshPath();
  const storage = sqliteStorage({ path, pruneIntervalMs: 0, checkpointIntervalMs });
  const before = size(path);
  for (let b = 0; b < 10; b++) {
    await storage.usage.insert(Array.from({ length: 100 }, (_, i) => usageRecord({ id: `r-${b}-${i}`, time: Date.UTC(2026, 10, 1) + b * 100 + i })));
  }
  return { path, storage, before };
}

describe('sqlite WAL checkpoints', () => {
  it('copy committed pages into the database file from a worker thread, every checkpointIntervalMs', async () => {
    const { path, storage, before } = await filled(20);
    try {
      await vi.waitFor(() => expect(size(path)).toBeGreaterThan(before + 100_000), { timeout: 10_000, interval: 20 });
    } finally {
      await storage.close();
    }
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('with checkpointIntervalMs 0, leave them to SQLite on the writer: the same writes stay in the WAL', async () => {
    const { path, storage, before } = await filled(0);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(size(path)).toBe(before);
      expect(size(`${path}-wal`)).toBeGreaterThan(100_000);
    } finally {
      await storage.close();
    }
  });

  it('raise the writer\'s own threshold to the fallback, which still checkpoints once the worker is gone', async () => {
    const path = freshPath();
    sqliteStorage({ path, pruneIntervalMs: 0, checkpointIntervalMs: 0 }).close();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const checkpointer = walCheckpointer(db, { path, busyTimeoutMs: 1_000, intervalMs: 20 });
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_CHECKPOINT_PAGES);
      const insert = db.prepare(`INSERT INTO tokenhub_spend (key_id, month, spent) VALUES (?, '2026-11', ?)`);
      const before = size(path);
      db.transaction(() => {
        for (let i = 0; i < 5_000; i++) insert.run(`key-${i}`, i);
      })();
      await vi.waitFor(() => expect(size(path)).toBeGreaterThan(before), { timeout: 10_000, interval: 20 });

      await checkpointer.worker.terminate();
      await checkpointer.close(); // resolves although the worker is gone
      // Past the fallback threshold (a row of 4,000 bytes per page, in commits of 500): the writer checkpoints by
      // itself, so the WAL does not grow without end.
      const afterWorker = size(path);
      db.exec('CREATE TABLE filler (x BLOB)');
      const fill = db.prepare('INSERT INTO filler VALUES (zeroblob(4000))');
      const commit = db.transaction(() => {
        for (let i = 0; i < 500; i++) fill.run();
      });
      for (let c = 0; c < 24; c++) commit();
      expect(size(path) - afterWorker).toBeGreaterThan(FALLBACK_CHECKPOINT_PAGES * 4096 * 0.9);
    } finally {
      db.close();
    }
  });
});
