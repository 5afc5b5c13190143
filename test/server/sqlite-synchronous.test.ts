// TOKENHUB_SQLITE_SYNCHRONOUS and TOKENHUB_SPEND_LEASES: read from the environment, validated at start-up, and handed
// to the SQLite adapter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as sqlite from '../../src/adapters/sqlite/index.js';
import { readServerEnv } from '../../src/server/config.js';
import { buildStorage } from '../../src/server/storage.js';

// The server imports the adapter lazily; the spy sees the options it opens the file with.
vi.mock('../../src/adapters/sqlite/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/adapters/sqlite/index.js')>();
  return { ...actual, sqliteStorage: vi.fn(actual.sqliteStorage) };
});

const dir = mkdtempSync(join(tmpdir(), 'tokenhub-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TOKENHUB_SQLITE_SYNCHRONOUS', () => {
  it('defaults to background, accepts full and normal, and refuses anything else at start-up', () => {
    expect(readServerEnv({}).TOKENHUB_SQLITE_SYNCHRONOUS).toBe('background');
    expect(readServerEnv({ TOKENHUB_SQLITE_SYNCHRONOUS: 'full' }).TOKENHUB_SQLITE_SYNCHRONOUS).toBe('full');
    expect(readServerEnv({ TOKENHUB_SQLITE_SYNCHRONOUS: 'normal' }).TOKENHUB_SQLITE_SYNCHRONOUS).toBe('normal');
    expect(() => readServerEnv({ TOKENHUB_SQLITE_SYNCHRONOUS: 'off' })).toThrow(/TOKENHUB_SQLITE_SYNCHRONOUS/);
  });

  it.each(['full', 'background', 'normal'] as const)('opens the SQLite file with synchronous = %s', async (mode) => {
    const path = join(dir, `${mode}.db`);
    const built = await buildStorage(readServerEnv({ TOKENHUB_DB: path, TOKENHUB_SQLITE_SYNCHRONOUS: mode }));
    try {
      expect(vi.mocked(sqlite.sqliteStorage)).toHaveBeenLastCalledWith({ path, synchronous: mode, spendLeases: true });
      expect(await built.storage.spend.reserve({ requestId: 'r', keyId: 'k', month: '2026-01', amount: 5 as never }, null)).toMatchObject({ ok: true });
    } finally {
      await built.close();
    }
  });
});

describe('TOKENHUB_SPEND_LEASES', () => {
  it('is on unless set to 0, false or no, and refuses anything else at start-up', () => {
    expect(readServerEnv({}).TOKENHUB_SPEND_LEASES).toBe(true);
    for (const on of ['1', 'true', 'yes', '']) expect(readServerEnv({ TOKENHUB_SPEND_LEASES: on }).TOKENHUB_SPEND_LEASES).toBe(true);
    for (const off of ['0', 'false', 'no']) expect(readServerEnv({ TOKENHUB_SPEND_LEASES: off }).TOKENHUB_SPEND_LEASES).toBe(false);
    expect(() => readServerEnv({ TOKENHUB_SPEND_LEASES: 'off' })).toThrow(/TOKENHUB_SPEND_LEASES/);
  });

  it('opens the SQLite file without leases when set to 0', async () => {
    const path = join(dir, 'exact.db');
    const built = await buildStorage(readServerEnv({ TOKENHUB_DB: path, TOKENHUB_SPEND_LEASES: '0' }));
    try {
      expect(vi.mocked(sqlite.sqliteStorage)).toHaveBeenLastCalledWith({ path, synchronous: 'background', spendLeases: false });
      expect(await built.storage.spend.reserve({ requestId: 'r1', keyId: 'k', month: '2026-01', amount: 5 as never }, null)).toMatchObject({ ok: true });
    } finally {
      await built.close();
    }
  });
});
