// SQLite key store: one row per key, found by the SHA-256 hash of its secret through a unique index.
import type { Database } from 'better-sqlite3';
import type { Micros } from '../../core/money.js';
import type { KeyPatch, KeyRecord, KeySettings, KeyStore } from '../../ports/keys.js';
import { migrate } from './schema.js';
import { noWalSync, type WalSync } from './wal-sync.js';

interface KeyRow {
  id: string;
  name: string;
  hash: string;
  monthly_limit: number | null;
  allowed_models: string | null;
  disabled: number;
  created_at: string;
  revoked_at: string | null;
  settings: string;
}

const COLUMNS = 'id, name, hash, monthly_limit, allowed_models, disabled, created_at, revoked_at, settings';

// Every answer is parsed fresh from its row, so callers never hold an alias of stored state.
const toRecord = (r: KeyRow): KeyRecord => ({
  id: r.id,
  name: r.name,
  hash: r.hash,
  monthlyLimit: r.monthly_limit as Micros | null,
  allowedModels: r.allowed_models === null ? null : (JSON.parse(r.allowed_models) as string[]),
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  settings: JSON.parse(r.settings) as KeySettings,
});

const json = (v: unknown) => (v === null ? null : JSON.stringify(v));

/**
 * Keys in the `tokenhub_keys` table of a better-sqlite3 Database the caller owns (and closes).
 * Creates or migrates the schema on construction. `sync` (given by `sqliteStorage`) makes each change durable.
 */
export function sqliteKeyStore(db: Database, sync: WalSync = noWalSync): KeyStore {
  migrate(db);
  const insert = db.prepare(
    `INSERT INTO tokenhub_keys (${COLUMNS})
     VALUES (@id, @name, @hash, @monthlyLimit, @allowedModels, @disabled, @createdAt, @revokedAt, @settings)`,
  );
  const byHash = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM tokenhub_keys WHERE hash = ?`);
  const byId = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM tokenhub_keys WHERE id = ?`);
  // rowid breaks createdAt ties in creation order.
  const active = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM tokenhub_keys WHERE revoked_at IS NULL ORDER BY created_at, rowid`);
  // One statement, so the revoked check and the change are atomic; each field has a "given" flag
  // because a patch may set a field to null, which COALESCE could not tell from "not given".
  const patchRow = db.prepare<Record<string, unknown>, KeyRow>(
    `UPDATE tokenhub_keys SET
       name           = CASE WHEN @hasName     THEN @name          ELSE name           END,
       monthly_limit  = CASE WHEN @hasLimit    THEN @monthlyLimit  ELSE monthly_limit  END,
       allowed_models = CASE WHEN @hasModels   THEN @allowedModels ELSE allowed_models END,
       disabled       = CASE WHEN @hasDisabled THEN @disabled      ELSE disabled       END,
       settings       = CASE WHEN @hasSettings THEN @settings      ELSE settings       END
     WHERE id = @id AND revoked_at IS NULL
     RETURNING ${COLUMNS}`,
  );
  const revokeRow = db.prepare<[string, string]>(`UPDATE tokenhub_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);

  return {
    create(r) {
      insert.run({
        id: r.id,
        name: r.name,
        hash: r.hash,
        monthlyLimit: r.monthlyLimit,
        allowedModels: json(r.allowedModels),
        disabled: r.disabled ? 1 : 0,
        createdAt: r.createdAt,
        revokedAt: r.revokedAt,
        settings: JSON.stringify(r.settings),
      });
      return sync.durable(undefined);
    },
    findByHash(hash) {
      const row = byHash.get(hash);
      return row === undefined ? null : toRecord(row);
    },
    get(id) {
      const row = byId.get(id);
      return row === undefined ? null : toRecord(row);
    },
    list: () => active.all().map(toRecord),
    update(id, p: KeyPatch) {
      const given = (v: unknown) => (v === undefined ? 0 : 1);
      const row = patchRow.get({
        id,
        hasName: given(p.name),
        name: p.name ?? null,
        hasLimit: given(p.monthlyLimit),
        monthlyLimit: p.monthlyLimit ?? null,
        hasModels: given(p.allowedModels),
        allowedModels: p.allowedModels === undefined ? null : json(p.allowedModels),
        hasDisabled: given(p.disabled),
        disabled: p.disabled ? 1 : 0,
        hasSettings: given(p.settings),
        settings: p.settings === undefined ? null : JSON.stringify(p.settings),
      });
      return sync.durable(row === undefined ? null : toRecord(row));
    },
    revoke: (id, at) => sync.durable(revokeRow.run(at, id).changes === 1),
  };
}
