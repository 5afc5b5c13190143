// PostgreSQL storage: keys, spend ledger and usage records shared by many gateway instances.
import type { KeyStore } from '../../ports/keys.js';
import type { Storage } from '../../ports/storage.js';
import type { UsageStore } from '../../ports/usage.js';
import type { Pool } from 'pg';
import { pgKeyStore } from './keys.js';
import { pgContext, type PgContext, type PostgresConnection, type PostgresOptions } from './schema.js';
import { pgSpendStore, type PostgresSpendStore } from './spend.js';
import { pgUsageStore } from './usage.js';

export { SCHEMA_VERSION, type PostgresConnection, type PostgresOptions } from './schema.js';
export type { PostgresSpendStore } from './spend.js';

/** What every PostgreSQL store adds to its port: the schema step and the pool's lifetime. */
export interface PostgresHandle {
  /** The pool in use: the host's, or the one opened from `connectionString`. */
  readonly pool: Pool;
  /**
   * Creates or upgrades the tables (versioned; safe when several instances start at once). Every method runs it
   * on first use, so calling it is optional; call it at start-up to fail fast on a wrong URL or missing rights.
   */
  migrate(): Promise<void>;
  /** Stops pruning, and ends the pool if the adapter opened it; a host's pool is left alone. */
  close(): Promise<void>;
}

export type PostgresStorage = Storage & PostgresHandle & { spend: PostgresSpendStore };

function handle(c: PgContext, spend?: PostgresSpendStore): PostgresHandle {
  let closing: Promise<void> | undefined;
  return {
    pool: c.pool,
    migrate: () => c.ready(),
    async close() {
      await spend?.close();
      if (c.owned) await (closing ??= c.pool.end());
    },
  };
}

/**
 * Keys, spend and usage in PostgreSQL over one pool. Defaults: schema `'public'`, table prefix `'tokenhub_'`.
 * Tables are created on first use; pass `{ pool }` to share the host's pool, or `{ connectionString }` to open one.
 * Settled spend reservations of months before the previous one (UTC) are pruned at once (which is a first use)
 * and then every `pruneIntervalMs` (default 6 h; 0 never).
 */
export function postgresStorage(connection: PostgresConnection, options: PostgresOptions = {}): PostgresStorage {
  const c = pgContext(connection, options);
  const spend = pgSpendStore(c, options);
  return { keys: pgKeyStore(c), spend, usage: pgUsageStore(c), ...handle(c, spend) };
}

/** Only the key store, e.g. beside a Redis spend store. Same options and defaults as `postgresStorage`. */
export function postgresKeyStore(connection: PostgresConnection, options: PostgresOptions = {}): KeyStore & PostgresHandle {
  const c = pgContext(connection, options);
  return { ...pgKeyStore(c), ...handle(c) };
}

/**
 * Only the spend store. A reservation or settlement is one SQL statement, atomic across instances.
 * Same options and defaults as `postgresStorage`, pruning included.
 */
export function postgresSpendStore(connection: PostgresConnection, options: PostgresOptions = {}): PostgresSpendStore & PostgresHandle {
  const c = pgContext(connection, options);
  const spend = pgSpendStore(c, options);
  return { ...spend, ...handle(c, spend) };
}

/** Only the usage store; aggregation runs in SQL. Same options and defaults as `postgresStorage`. */
export function postgresUsageStore(connection: PostgresConnection, options: PostgresOptions = {}): UsageStore & PostgresHandle {
  const c = pgContext(connection, options);
  return { ...pgUsageStore(c), ...handle(c) };
}
