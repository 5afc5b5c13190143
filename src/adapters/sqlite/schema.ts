// The SQLite schema and its migrations, versioned through PRAGMA user_version.
import type { Database } from 'better-sqlite3';

/**
 * Migration N (1-based) brings a database from user_version N-1 to N. Append only: a released
 * migration is never edited, because files in the field already ran it.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tokenhub_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    hash           TEXT NOT NULL,            -- hex SHA-256 of the secret; the secret is never stored
    monthly_limit  INTEGER,                  -- micro-USD; NULL = uncapped
    allowed_models TEXT,                     -- JSON array; NULL = every model
    disabled       INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at     TEXT NOT NULL,            -- ISO-8601, so text order is time order
    revoked_at     TEXT,
    settings       TEXT NOT NULL DEFAULT '{}' -- JSON document
  );
  CREATE UNIQUE INDEX tokenhub_keys_hash ON tokenhub_keys (hash);

  CREATE TABLE tokenhub_spend (
    key_id   TEXT NOT NULL,
    month    TEXT NOT NULL,                  -- YYYY-MM, UTC
    spent    INTEGER NOT NULL DEFAULT 0,     -- micro-USD settled
    reserved INTEGER NOT NULL DEFAULT 0,     -- micro-USD held by requests in flight
    PRIMARY KEY (key_id, month)
  ) WITHOUT ROWID;

  CREATE TABLE tokenhub_reservations (
    request_id TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    month      TEXT NOT NULL,                -- the month charged at settlement, whenever that happens
    amount     INTEGER NOT NULL,
    settled    INTEGER NOT NULL DEFAULT 0 CHECK (settled IN (0, 1)),
    actual     INTEGER,
    FOREIGN KEY (key_id, month) REFERENCES tokenhub_spend (key_id, month)
  ) WITHOUT ROWID;

  CREATE TABLE tokenhub_usage (
    id              TEXT PRIMARY KEY,
    time            INTEGER NOT NULL,        -- epoch ms
    key_id          TEXT NOT NULL,
    requested_model TEXT NOT NULL,
    model           TEXT,
    provider        TEXT,
    strategy        TEXT NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost            INTEGER NOT NULL,        -- micro-USD
    estimated       INTEGER NOT NULL,
    latency_ms      INTEGER NOT NULL,
    ttfb_ms         INTEGER,
    status          INTEGER NOT NULL,
    streamed        INTEGER NOT NULL,
    error_code      TEXT,
    attempts        INTEGER NOT NULL,
    providers_tried TEXT NOT NULL,           -- JSON array
    tier            TEXT,
    reason          TEXT,
    warning         TEXT,
    needs_tools     INTEGER NOT NULL,
    needs_images    INTEGER NOT NULL,
    needs_json      INTEGER NOT NULL,
    context_tokens  INTEGER NOT NULL
  );
  CREATE INDEX tokenhub_usage_time ON tokenhub_usage (time);
  CREATE INDEX tokenhub_usage_key_time ON tokenhub_usage (key_id, time);
  CREATE INDEX tokenhub_usage_model_time ON tokenhub_usage (model, time);
  CREATE INDEX tokenhub_usage_provider_time ON tokenhub_usage (provider, time);
  `,
  // Pruning finds settled reservations of old months without scanning open ones. Partial, so a reservation
  // enters it only when settled: reserving pays nothing for it.
  `
  CREATE INDEX tokenhub_reservations_settled_month ON tokenhub_reservations (month) WHERE settled = 1;
  `,
  // The partial index above made every settle write a second b-tree (about a fifth of a reserve and settle's
  // time, measured); pruning walks the primary key in slices instead, a few times a day.
  `
  DROP INDEX IF EXISTS tokenhub_reservations_settled_month;
  `,
];

/** The user_version a database has once every migration of this release ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const userVersion = (db: Database) => db.pragma('user_version', { simple: true }) as number;

/**
 * Brings the database to SCHEMA_VERSION. Idempotent and safe when several processes open the
 * file at once: the version is read again inside a write transaction before anything runs.
 * Refuses a database written by a newer release rather than guess at its tables.
 */
export function migrate(db: Database): void {
  const check = (v: number) => {
    if (v > SCHEMA_VERSION) {
      throw new Error(`sqlite: the database is at schema version ${v}, newer than this TokenHub understands (${SCHEMA_VERSION})`);
    }
  };
  const seen = userVersion(db);
  check(seen);
  if (seen === SCHEMA_VERSION) return;
  db.transaction(() => {
    const from = userVersion(db);
    check(from);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
