// Storage of the standalone server: SQLite by default; PostgreSQL for keys/spend/usage and Redis for spend when their URLs are set.
import type { Storage } from '../ports/storage.js';
import type { ServerEnv } from './config.js';

export interface ServerStorage {
  storage: Storage;
  /** What was chosen, for the start-up line; never a credential. */
  describe: string;
  close(): Promise<void>;
}

/** The host part of a URL without user or password, for logs. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * DATABASE_URL → keys, spend and usage in PostgreSQL (migrated now, so a wrong URL fails at start-up);
 * REDIS_URL → spend counters in Redis (with PostgreSQL or SQLite for the rest); neither → SQLite at TOKENHUB_DB.
 * Adapters are imported lazily so a SQLite-only server never loads pg or ioredis.
 */
export async function buildStorage(env: ServerEnv): Promise<ServerStorage> {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  let base: Storage;
  let describe: string;
  if (env.DATABASE_URL !== undefined) {
    const { postgresStorage } = await import('../adapters/postgres/index.js');
    const pg = postgresStorage({ connectionString: env.DATABASE_URL });
    closers.push(() => pg.close());
    await pg.migrate();
    base = pg;
    describe = `postgres:${where(env.DATABASE_URL)}`;
  } else {
    const { sqliteStorage } = await import('../adapters/sqlite/index.js');
    const sqlite = sqliteStorage({ path: env.TOKENHUB_DB, synchronous: env.TOKENHUB_SQLITE_SYNCHRONOUS, spendLeases: env.TOKENHUB_SPEND_LEASES });
    closers.push(() => sqlite.close?.());
    base = sqlite;
    describe = `sqlite:${env.TOKENHUB_DB}`;
  }
  let storage: Storage = { keys: base.keys, spend: base.spend, usage: base.usage };
  if (env.REDIS_URL !== undefined) {
    const { redisSpendStore } = await import('../adapters/redis/index.js');
    const spend = redisSpendStore({ url: env.REDIS_URL });
    closers.unshift(() => spend.close());
    storage = { ...storage, spend };
    describe += ` + redis spend:${where(env.REDIS_URL)}`;
  }
  return {
    storage,
    describe,
    async close() {
      for (const c of closers) await c();
    },
  };
}
