// Key authentication with an in-process LRU in front of the key store, and key creation for the admin API.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { bearerSecret, generateKeySecret, hashKeySecret, hashesEqual } from '../core/keys.js';
import { invalidApiKey } from '../core/errors.js';
import type { Micros } from '../core/money.js';
import type { KeyPatch, KeyRecord, KeySettings, KeyStore } from '../ports/keys.js';

export interface KeyServiceOptions {
  store: KeyStore;
  ttlMs: number;
  size: number;
  clock: () => number;
}

/** A created key: the record and the secret, which exists only in this value. */
export interface CreatedKey {
  record: KeyRecord;
  secret: string;
}

export class KeyService {
  private readonly store: KeyStore;
  private readonly cache: LRUCache<string, KeyRecord> | null;
  private readonly clock: () => number;

  constructor({ store, ttlMs, size, clock }: KeyServiceOptions) {
    this.store = store;
    this.clock = clock;
    this.cache = ttlMs > 0 ? new LRUCache<string, KeyRecord>({ max: size, ttl: ttlMs }) : null;
  }

  /** The active key named by an Authorization header; throws 401 otherwise. */
  async authenticate(authorization: string | undefined): Promise<KeyRecord> {
    const secret = bearerSecret(authorization);
    if (secret === null) throw invalidApiKey();
    const hash = hashKeySecret(secret);
    let record = this.cache?.get(hash);
    if (record === undefined) {
      const found = await this.store.findByHash(hash);
      // The store looked the hash up by index; confirm it in constant time before trusting the match.
      // A cached record needs no second look: the cache is keyed by this very hash.
      if (found === null || !hashesEqual(found.hash, hash)) throw invalidApiKey();
      record = found;
      this.cache?.set(hash, record);
    }
    if (record.revokedAt !== null) throw invalidApiKey('This API key has been revoked.');
    if (record.disabled) throw invalidApiKey('This API key is disabled.');
    return record;
  }

  async create(input: { name: string; monthlyLimit: Micros | null; allowedModels: string[] | null; settings?: KeySettings }): Promise<CreatedKey> {
    const secret = generateKeySecret();
    const record: KeyRecord = {
      id: `key_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      name: input.name,
      hash: hashKeySecret(secret),
      monthlyLimit: input.monthlyLimit,
      allowedModels: input.allowedModels,
      disabled: false,
      createdAt: new Date(this.clock()).toISOString(),
      revokedAt: null,
      settings: input.settings ?? {},
    };
    await this.store.create(record);
    return { record, secret };
  }

  async update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const r = await this.store.update(id, patch);
    if (r !== null) this.cache?.delete(r.hash);
    return r;
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.store.get(id);
    if (r === null) return false;
    const done = await this.store.revoke(id, new Date(this.clock()).toISOString());
    this.cache?.delete(r.hash);
    return done;
  }
}
