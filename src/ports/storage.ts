// The three stores a hub needs, possibly from different adapters (spend in Redis, the rest in PostgreSQL).
import type { KeyStore } from './keys.js';
import type { SpendStore } from './spend.js';
import type { UsageStore } from './usage.js';
import type { Awaitable } from './awaitable.js';

export interface Storage {
  keys: KeyStore;
  spend: SpendStore;
  usage: UsageStore;
  /** Releases connections and files the adapter opened itself (not those the host passed in). */
  close?(): Awaitable<void>;
}
