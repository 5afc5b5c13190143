// The key port: API key records, found by the SHA-256 hash of their secret.
import type { Micros } from '../core/money.js';
import type { Awaitable } from './awaitable.js';

/** A stored API key. The secret itself is never stored, only its hash. */
export interface KeyRecord {
  id: string;
  name: string;
  /** Hex SHA-256 of the secret `th-…`. */
  hash: string;
  /** Monthly cap in micro-USD; null means uncapped. */
  monthlyLimit: Micros | null;
  /** Model ids or aliases this key may use; null means all. */
  allowedModels: string[] | null;
  disabled: boolean;
  /** ISO-8601 instant. */
  createdAt: string;
  /** ISO-8601 instant of revocation; a revoked key never authenticates again. */
  revokedAt: string | null;
  /** Per-key routing settings; stored as one JSON document. Default `{}`. */
  settings: KeySettings;
}

/** Routing settings of one key. Every field is optional; absent means the gateway default. */
export interface KeySettings {
  /** Strategy for `model: "auto"` with this key. */
  defaultStrategy?: string;
  /** Lowest tier `auto` may route this key to. */
  minTier?: 'economy' | 'standard' | 'premium';
  /** Spend-aware tapering: fractions of the cap (e.g. [0.8, 0.95]) past which `auto` moves down a tier. */
  taperAt?: number[];
  /** Free-form labels a host attaches (customer id, team); never secrets. */
  labels?: Record<string, string>;
}

/** Fields an admin may change. */
export type KeyPatch = Partial<Pick<KeyRecord, 'name' | 'monthlyLimit' | 'allowedModels' | 'disabled' | 'settings'>>;

/** Key records. Every method is atomic; a change is visible to the next call on any instance. */
export interface KeyStore {
  create(record: KeyRecord): Awaitable<void>;
  /** The record whose hash matches, revoked or not; null when none. */
  findByHash(hash: string): Awaitable<KeyRecord | null>;
  get(id: string): Awaitable<KeyRecord | null>;
  /** Every key that is not revoked, oldest first. */
  list(): Awaitable<KeyRecord[]>;
  /** Applies the patch; null when the key does not exist or is revoked. */
  update(id: string, patch: KeyPatch): Awaitable<KeyRecord | null>;
  /** Marks the key revoked at `at`; false when it did not exist or was already revoked. */
  revoke(id: string, at: string): Awaitable<boolean>;
}
