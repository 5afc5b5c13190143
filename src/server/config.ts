// The standalone server's configuration, read from the environment once (SPEC §4) and validated.
import { z } from 'zod';
import { DURABILITY_MODES } from '../adapters/sqlite/wal-sync.js';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = (def: number) => z.coerce.number().int().positive().default(def);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Every environment variable the standalone server reads, with its default. */
export const serverEnvSchema = z.object({
  /** Port to listen on; 0 picks a free one (tests, the bench). Default 8787. */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  /** Interface to bind. Default 0.0.0.0 (all). */
  HOST: z.string().default('0.0.0.0'),
  /** SQLite file for keys, spend and usage. Default data/tokenhub.db. */
  TOKENHUB_DB: z.string().default('data/tokenhub.db'),
  /**
   * How SQLite commits reach the disk, never blocking the event loop: `background` (default) answers once a commit
   * is written (a process crash loses nothing) and syncs the WAL right after on the thread pool, so a power cut can
   * lose only the last sync's commits; `full` answers once that sync is done; `normal` syncs at checkpoints only.
   */
  TOKENHUB_SQLITE_SYNCHRONOUS: z.enum(DURABILITY_MODES).default('background'),
  /**
   * SQLite spend leases (default on): each busy key's requests are admitted in memory against a block of its month
   * held in the file. `0` reserves every request in its own row: exact when several servers share one file.
   */
  TOKENHUB_SPEND_LEASES: z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
    .optional()
    .transform((v) => !(v === '0' || v === 'false' || v === 'no')),
  /** Admin API token; generated and printed once when unset. */
  TOKENHUB_ADMIN_TOKEN: optionalString,
  OPENAI_API_KEY: optionalString,
  /** Includes /v1, as the official SDK takes it. Default https://api.openai.com/v1. */
  OPENAI_BASE_URL: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  /** A host; /v1/messages is added. Default https://api.anthropic.com. */
  ANTHROPIC_BASE_URL: optionalString,
  GEMINI_API_KEY: optionalString,
  /** A host; /v1beta/models/… is added. Default https://generativelanguage.googleapis.com. */
  GEMINI_BASE_URL: optionalString,
  /** Spend counters in Redis (shared by many instances). */
  REDIS_URL: optionalString,
  /** Keys, spend and usage in PostgreSQL (spend goes to Redis instead when REDIS_URL is set too). */
  DATABASE_URL: optionalString,
  /** Strategy for model "auto" without a header. Default: the hub's default. */
  TOKENHUB_DEFAULT_STRATEGY: optionalString,
  /** Largest request body, bytes. Default 10 MB. */
  TOKENHUB_MAX_BODY_BYTES: int(10 * 1024 * 1024),
  /** Admit requests when the spend store is unreachable (default: refuse with 503). */
  TOKENHUB_FAIL_OPEN: bool,
  /** Keep-alive sockets per upstream origin; each concurrent request or stream holds one. Default 256. */
  TOKENHUB_UPSTREAM_CONNECTIONS: int(256),
  /** Milliseconds to let in-flight requests finish on SIGTERM. Default 30,000. */
  TOKENHUB_SHUTDOWN_MS: int(30_000),
});

export type ServerEnv = z.output<typeof serverEnvSchema>;

/** Parses the environment; throws one readable line per bad variable. */
export function readServerEnv(env: NodeJS.ProcessEnv): ServerEnv {
  const r = serverEnvSchema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join('\n')}`);
}
