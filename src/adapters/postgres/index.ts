// PostgreSQL storage: keys, spend ledger and usage records shared by many gateway instances.
import type { KeyStore } from '../../ports/keys.js';
import type { SpendStore } from '../../ports/spend.js';
import type { Storage } from '../../ports/storage.js';
import type { UsageStore } from '../../ports/usage.js';
import type { Pool } from 'pg';
import { pgKeyStore } from './keys.js';
import { pgContext, type PgContext, type PostgresConnection, type PostgresOptions } from './schema.js';
import { pgSpendStore } from './spend.js';
import { pgUsageStore } from './usage.js';

export { SCHEMA_VERSION, type PostgresConnection, type PostgresOptions } from './schema.js';

/** What every PostgreSQL store adds to its port: the schema step and the pool's lifetime. */
export interface PostgresHandle {
  /** The pool in use: the host's, or the one opened from `connectionString`. */
  readonly pool: Pool;
  /**
   * Creates or upgrades the tables (versioned; safe when several instances start at once). Every method runs it
   * on first use, so calling it is optional; call it at start-up to fail fast on a wrong URL or missing rights.
   */
  migrate(): Promise<void>;
  /** Ends the pool if the adapter opened it; a host's pool is left alone. */
  close(): Promise<void>;
}

export type PostgresStorage = Storage & PostgresHandle;

function handle(c: PgContext): PostgresHandle {
  let closing: Promise<void> | undefined;
  return {
    pool: c.pool,
    migrate: () => c.ready(),
    close: () => (c.owned ? (closing ??= c.pool.end()) : Promise.resolve()),
  };
}

/**
 * Keys, spend and usage in PostgreSQL over one pool. Defaults: schema `'public'`, table prefix `'tokenhub_'`.
 * Tables are created on first use; pass `{ pool }` to share the host's pool, or `{ connectionString }` to open one.
 */
export function postgresStorage(connection: PostgresConnection, options: PostgresOptions = {}): PostgresStorage {
  const c = pgContext(connection, options);
  return { keys: pgKeyStore(c), spend: pgSpendStore(c), usage: pgUsageStore(c), ...handle(c) };
}

/** Only the key store, e.g. beside a Redis spend store. Same options and defaults as `postgresStorage`. */
export function postgresKeyStore(connection: PostgresConnection, options: PostgresOptions = {}): KeyStore & PostgresHandle {
  const c = pgContext(connection, options);
  return { ...pgKeyStore(c), ...handle(c) };
}

/**
 * Only the spend store. A reservation or settlement is one SQL statement, atomic across instances.
 * Same options and defaults as `postgresStorage`.
 */
export function postgresSpendStore(connection: PostgresConnection, options: PostgresOptions = {}): SpendStore & PostgresHandle {
  const c = pgContext(connection, options);
  return { ...pgSpendStore(c), ...handle(c) };
}

/** Only the usage store; aggregation runs in SQL. Same options and defaults as `postgresStorage`. */
export function postgresUsageStore(connection: PostgresConnection, options: PostgresOptions = {}): UsageStore & PostgresHandle {
  const c = pgContext(connection, options);
  return { ...pgUsageStore(c), ...handle(c) };
}
