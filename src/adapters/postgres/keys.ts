// PostgreSQL key store: one row per key, found by the hash of its secret; every method is one statement.
import type { Micros } from '../../core/money.js';
import type { KeyPatch, KeyRecord, KeyStore } from '../../ports/keys.js';
import type { PgContext } from './schema.js';

interface KeyRow {
  id: string;
  name: string;
  hash: string;
  monthly_limit: string | null;
  allowed_models: string[] | null;
  disabled: boolean;
  created_at: string;
  revoked_at: string | null;
  settings: KeyRecord['settings'];
}

const COLUMNS = 'id, name, hash, monthly_limit, allowed_models, disabled, created_at, revoked_at, settings';

const toRecord = (r: KeyRow): KeyRecord => ({
  id: r.id,
  name: r.name,
  hash: r.hash,
  // bigint arrives as a string from pg.
  monthlyLimit: r.monthly_limit === null ? null : (Number(r.monthly_limit) as Micros),
  allowedModels: r.allowed_models,
  disabled: r.disabled,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  settings: r.settings,
});

const json = (v: unknown) => (v === null ? null : JSON.stringify(v));

/** Patch fields and how each is written; a field absent (or undefined) in the patch is left alone. */
const PATCHABLE: { [F in keyof Required<KeyPatch>]: [column: string, cast: string, encode: (v: KeyPatch[F]) => unknown] } = {
  name: ['name', 'text', (v) => v],
  monthlyLimit: ['monthly_limit', 'bigint', (v) => v],
  allowedModels: ['allowed_models', 'jsonb', json],
  disabled: ['disabled', 'boolean', (v) => v],
  settings: ['settings', 'jsonb', json],
};

export function pgKeyStore(c: PgContext): KeyStore {
  const { pool, t } = c;
  const one = async (sql: string, params: unknown[]): Promise<KeyRecord | null> => {
    await c.ready();
    const res = await pool.query<KeyRow>(sql, params);
    return res.rows[0] === undefined ? null : toRecord(res.rows[0]);
  };
  return {
    async create(k) {
      await c.ready();
      // A duplicate id or hash violates a unique constraint and rejects, as the port requires.
      await pool.query(
        `INSERT INTO ${t.keys} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::jsonb)`,
        [k.id, k.name, k.hash, k.monthlyLimit, json(k.allowedModels), k.disabled, k.createdAt, k.revokedAt, JSON.stringify(k.settings ?? {})],
      );
    },
    findByHash: (hash) => one(`SELECT ${COLUMNS} FROM ${t.keys} WHERE hash = $1`, [hash]),
    get: (id) => one(`SELECT ${COLUMNS} FROM ${t.keys} WHERE id = $1`, [id]),
    async list() {
      await c.ready();
      // Oldest first; keys created in the same millisecond keep their insertion order.
      const res = await pool.query<KeyRow>(`SELECT ${COLUMNS} FROM ${t.keys} WHERE revoked_at IS NULL ORDER BY created_at::timestamptz, seq`);
      return res.rows.map(toRecord);
    },
    update(id, patch) {
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const field of Object.keys(PATCHABLE) as (keyof KeyPatch)[]) {
        const value = patch[field];
        if (value === undefined) continue;
        const [column, cast, encode] = PATCHABLE[field] as [string, string, (v: unknown) => unknown];
        params.push(encode(value));
        sets.push(`${column} = $${params.length}::${cast}`);
      }
      if (sets.length === 0) return one(`SELECT ${COLUMNS} FROM ${t.keys} WHERE id = $1 AND revoked_at IS NULL`, params);
      return one(`UPDATE ${t.keys} SET ${sets.join(', ')} WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`, params);
    },
    async revoke(id, at) {
      await c.ready();
      const res = await pool.query(`UPDATE ${t.keys} SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [id, at]);
      return res.rowCount === 1;
    },
  };
}
