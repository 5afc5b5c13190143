// SQLite durability modes: when a caller hears back relative to the WAL's fdatasync, and how syncs are shared.
import { readdirSync, readlinkSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../support/temp-files.js';
import { sqliteStorage } from '../../src/adapters/sqlite/index.js';
import { BACKGROUND_SYNC_MS } from '../../src/adapters/sqlite/wal-sync.js';
import type { Micros } from '../../src/core/money.js';
import type { Reservation } from '../../src/ports/spend.js';
import { usageRecord } from '../contracts/support.js';

// The real fdatasync, counted: started when asked for, finished when the thread pool reports back.
const syncs = vi.hoisted(() => ({ started: 0, finished: 0, files: [] as string[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    syncs.started += 1;
    syncs.files.push(readlinkSync(`/proc/self/fd/${fd}`));
    fs.fdatasync(fd, (err) => {
      syncs.finished += 1;
      cb(err);
    });
  };
  return { ...fs, default: { ...fs, fdatasync }, fdatasync };
});

let seq = 0;
const freshPath = tempFiles('tokenhub-wal-sync').fresh;
const hold = (): Reservation => ({ requestId: `w-${++seq}`, keyId: 'key_w', month: '2026-01', amount: 5 as Micros });
const walDescriptors = (path: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `${path}-wal`;
    } catch {
      return false; // the descriptor readdir itself used, already closed
    }
  });

beforeEach(() => {
  syncs.started = syncs.finished = 0;
  syncs.files = [];
});

describe.runIf(process.platform === 'linux')('sqlite durability (synchronous option)', () => {
  it('full: a reserve is answered only after an fdatasync of the WAL that started after its commit has finished', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, synchronous: 'full', pruneIntervalMs: 0, spendLeases: false });
    for (let i = 0; i < 5; i++) {
      const finishedBefore = syncs.finished;
      expect(await storage.spend.reserve(hold(), 1_000 as Micros)).toMatchObject({ ok: true });
      expect(syncs.finished).toBeGreaterThan(finishedBefore);
    }
    expect(new Set(syncs.files)).toEqual(new Set([`${path}-wal`]));
    await storage.close();
  });

  it('background (the default): a reserve is answered once committed; one sync within 10 ms covers a run of commits', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect(await storage.spend.reserve(hold(), 1_000 as Micros)).toMatchObject({ ok: true });
    const elapsed = Date.now() - started;
    // Answered without waiting for any sync: within the window none has even started. The one that covers them follows.
    if (elapsed < BACKGROUND_SYNC_MS) expect(syncs.started).toBe(0);
    await vi.waitFor(() => expect(syncs.finished).toBeGreaterThanOrEqual(1), { timeout: 1_000, interval: 2 });
    if (elapsed < BACKGROUND_SYNC_MS) expect(syncs.started).toBe(1);
    expect(syncs.started).toBeLessThan(20);
    await storage.close();
  });

  it('shares syncs: reserves, a usage batch and a key written together in full mode cost at most two', async () => {
    const storage = sqliteStorage({ path: freshPath(), synchronous: 'full', pruneIntervalMs: 0 });
    await storage.spend.reserve(hold(), null); // schema and ledger row in place
    syncs.started = 0;
    await Promise.all([
      ...Array.from({ length: 50 }, () => storage.spend.reserve(hold(), null)),
      storage.usage.insert([usageRecord({ id: 'u1' }), usageRecord({ id: 'u2' })]),
      storage.keys.create({
        id: 'key_x', name: 'x', hash: 'h'.repeat(64), monthlyLimit: null, allowedModels: null, disabled: false,
        createdAt: new Date(0).toISOString(), revokedAt: null, settings: {},
      }),
    ]);
    // One for the writes made before the first sync started, one after it for the others.
    expect(syncs.started).toBeGreaterThanOrEqual(1);
    expect(syncs.started).toBeLessThanOrEqual(2);
    expect(await storage.spend.ledger('key_w', '2026-01')).toMatchObject({ reserved: 255 });
    await storage.close();
  });

  it('normal: commits are never synced by the adapter (SQLite syncs at checkpoints)', async () => {
    const storage = sqliteStorage({ path: freshPath(), synchronous: 'normal', pruneIntervalMs: 0 });
    await storage.spend.reserve(hold(), null);
    await storage.usage.insert([usageRecord({ id: 'n1' })]);
    expect(syncs.started).toBe(0);
    await storage.close();
  });

  it('close() syncs what is still pending, lets go of the WAL, and keeps what was committed', async () => {
    const path = freshPath();
    const storage = sqliteStorage({ path, pruneIntervalMs: 0 });
    await storage.spend.reserve(hold(), null);
    await vi.waitFor(() => expect(syncs.finished).toBe(1), { timeout: 1_000, interval: 2 });
    expect(walDescriptors(path)).toHaveLength(2); // SQLite's own and the one the syncs use
    await storage.spend.reserve(hold(), null); // its sync is still waiting for the window to end
    await storage.close();
    expect(walDescriptors(path)).toHaveLength(0);

    const again = sqliteStorage({ path, pruneIntervalMs: 0 });
    expect(await again.spend.ledger('key_w', '2026-01')).toEqual({ spent: 0, reserved: 10 });
    await again.close();
  });
});
