// PostgreSQL schema: table names from the options, and versioned migrations applied once under an advisory lock.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';

/**
 * Where the adapter finds PostgreSQL: the host's pool, or a connection string it opens a pool for itself
 * (pg defaults, except `connectionTimeoutMillis: 5000`, so an unreachable server fails a request instead of
 * hanging it; `poolOptions` overrides any of them).
 */
export type PostgresConnection = { pool: Pool } | { connectionString: string; poolOptions?: PoolConfig };

export interface PostgresOptions {
  /** Schema holding the tables; created when missing. Default `'public'`. */
  schema?: string;
  /** Prepended to every table name, so several apps can share a schema. Default `'tokenhub_'`. */
  tablePrefix?: string;
  /**
   * Milliseconds between two prunes of settled spend reservations of months before the previous one (one also
   * starts when the spend store is built); 0 never prunes. Default 6 hours. The timer is unref'd.
   */
  pruneIntervalMs?: number;
}

/** Quoted, schema-qualified table names. */
export interface Tables {
  keys: string;
  ledger: string;
  reservations: string;
  usage: string;
  migrations: string;
}

/** What every store of one adapter shares: the pool, its table names, and the one-time migration. */
export interface PgContext {
  pool: Pool;
  /** True when the adapter opened the pool and must end it. */
  owned: boolean;
  t: Tables;
  /** Resolves once the schema is at the newest version; retried on the next call after a failure. */
  ready(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Time buckets of usage rows: whole days and hours since the epoch, and the UTC hour of day. floor() of a float8
 * quotient is exact for epoch milliseconds. Shared with the aggregation SQL, because the planner only uses the
 * statistics of migration 2 for a GROUP BY written exactly like them.
 */
export const DAY_BUCKET = 'floor(time / 86400000::float8)::bigint';
export const HOUR_BUCKET = 'floor(time / 3600000::float8)::bigint';
export const HOUR_OF_DAY_BUCKET = `mod(mod(${HOUR_BUCKET}, 24) + 24, 24)`;

/** One migration: statements run in the same transaction as its row in the migrations table. */
interface Migration {
  version: number;
  name: string;
  /** `name(n)` qualifies an object name with the schema and table prefix (statistics, unlike indexes, need it). */
  sql: (t: Tables, name: (n: string) => string) => string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'keys, spend ledger, reservations, usage',
    sql: (t, name) => `
      CREATE TABLE ${t.keys} (
        seq bigserial NOT NULL,
        id text PRIMARY KEY,
        name text NOT NULL,
        hash text NOT NULL UNIQUE,
        monthly_limit bigint,
        allowed_models jsonb,
        disabled boolean NOT NULL DEFAULT false,
        created_at text NOT NULL,
        revoked_at text,
        settings jsonb NOT NULL DEFAULT '{}'
      );
      CREATE TABLE ${t.ledger} (
        key_id text NOT NULL,
        month text NOT NULL,
        spent bigint NOT NULL DEFAULT 0,
        reserved bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, month)
      );
      CREATE TABLE ${t.reservations} (
        request_id text PRIMARY KEY,
        key_id text NOT NULL,
        month text NOT NULL,
        amount bigint NOT NULL,
        settled boolean NOT NULL DEFAULT false,
        actual bigint,
        reserved_at timestamptz NOT NULL DEFAULT now(),
        settled_at timestamptz
      );
      CREATE TABLE ${t.usage} (
        id text PRIMARY KEY,
        time bigint NOT NULL,
        key_id text NOT NULL,
        requested_model text NOT NULL,
        model text,
        provider text,
        strategy text NOT NULL,
        input_tokens integer NOT NULL,
        output_tokens integer NOT NULL,
        cost bigint NOT NULL,
        estimated boolean NOT NULL,
        latency_ms integer NOT NULL,
        ttfb_ms integer,
        status integer NOT NULL,
        streamed boolean NOT NULL,
        error_code text,
        attempts integer NOT NULL,
        providers_tried jsonb NOT NULL,
        tier text,
        reason text,
        warning text,
        needs_tools boolean NOT NULL,
        needs_images boolean NOT NULL,
        needs_json boolean NOT NULL,
        context_tokens integer NOT NULL
      );
      CREATE INDEX ON ${t.usage} (time);
      CREATE INDEX ON ${t.usage} (key_id, time);
      CREATE INDEX ON ${t.usage} (model, time);
      CREATE INDEX ON ${t.usage} (provider, time);
    `,
  },
  {
    version: 2,
    name: 'statistics on usage time buckets',
    // Without them the planner guesses a group per row for GROUP BY day/hour, and plans a serial, partitioned
    // aggregate; with them (after ANALYZE, which autovacuum runs) it scans in parallel: about twice as fast.
    sql: (t, name) => `
      CREATE STATISTICS ${name('usage_day')} ON (${DAY_BUCKET}) FROM ${t.usage};
      CREATE STATISTICS ${name('usage_hour')} ON (${HOUR_BUCKET}) FROM ${t.usage};
      CREATE STATISTICS ${name('usage_hour_of_day')} ON (${HOUR_OF_DAY_BUCKET}) FROM ${t.usage};
    `,
  },
  {
    version: 3,
    name: 'index on settled reservation months, for pruning',
    // Partial: a reservation enters it only when settled, so reserving pays nothing for it, and pruning reads
    // the old settled months without walking the open reservations.
    sql: (t) => `
      CREATE INDEX ON ${t.reservations} (month) WHERE settled;
    `,
  },
];

/** Newest schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

// One migration promise per pool and table set, so the three stores of one adapter migrate once.
const migrations = new WeakMap<Pool, Map<string, Promise<void>>>();

/** Checks names and opens (or takes) the pool; names are validated here, once, because they go into SQL text. */
export function pgContext(connection: PostgresConnection, { schema = 'public', tablePrefix = 'tokenhub_' }: PostgresOptions = {}): PgContext {
  if (!IDENT.test(schema)) throw new TypeError(`schema must be a plain SQL identifier, got ${JSON.stringify(schema)}`);
  if (tablePrefix !== '' && !IDENT.test(tablePrefix)) throw new TypeError(`tablePrefix must be a plain SQL identifier, got ${JSON.stringify(tablePrefix)}`);
  const owned = !('pool' in connection);
  const pool = 'pool' in connection
    ? connection.pool
    : new pg.Pool({ connectionTimeoutMillis: 5_000, ...connection.poolOptions, connectionString: connection.connectionString });
  // An idle client's error (server restart) is emitted on the pool and would crash the process without a listener;
  // the next query gets a fresh connection or a rejected promise.
  if (owned) pool.on('error', () => {});
  const name = (n: string) => `"${schema}"."${tablePrefix}${n}"`;
  const t: Tables = { keys: name('keys'), ledger: name('spend_ledger'), reservations: name('spend_reservations'), usage: name('usage'), migrations: name('migrations') };
  const id = `${schema}.${tablePrefix}`;
  return {
    pool,
    owned,
    t,
    ready() {
      let perPool = migrations.get(pool);
      if (perPool === undefined) migrations.set(pool, (perPool = new Map()));
      let p = perPool.get(id);
      if (p === undefined) {
        p = migrate(pool, schema, tablePrefix, t);
        perPool.set(id, p);
        p.catch(() => perPool.delete(id));
      }
      return p;
    },
  };
}

async function migrate(pool: Pool, schema: string, tablePrefix: string, t: Tables): Promise<void> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // Two instances starting together: the second waits here, then finds the work done. The lock ends with the transaction.
    const lock = createHash('sha256').update(`tokenhub:${schema}.${tablePrefix}`).digest().readBigInt64BE(0);
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lock.toString()]);
    // CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, which a host's app role may lack.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.migrations} (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await client.query<{ version: number }>(`SELECT version FROM ${t.migrations}`);
    const applied = new Set(done.rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql(t, (n) => `"${schema}"."${tablePrefix}${n}"`));
      await client.query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Rejects an amount that is not a whole, non-negative number of micro-USD before it reaches a counter. */
export function checkMicros(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer of micro-USD, got ${n}`);
  return n;
}
