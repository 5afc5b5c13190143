// Host auth: maps an identity the host already trusts (tenant, customer, user id) to a TokenHub key, created on first sight.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { invalidApiKey } from '../core/errors.js';
import { usdToMicros } from '../core/money.js';
import type { Awaitable } from '../ports/awaitable.js';
import type { KeyRecord, KeySettings } from '../ports/keys.js';
import { parseKeySettings } from './admin.js';
import type { TokenHub } from './index.js';

/** What a key created for a host identity starts with. */
export interface HostKeyDefaults {
  /** Monthly cap in USD; null is uncapped. Default null. */
  monthlyLimitUsd?: number | null;
  /** Models or aliases the identity may use; null allows all. Default null. */
  allowedModels?: string[] | null;
  /** Routing settings (validated like the admin API's); `labels.hostId` is always set to the identity. Default `{}`. */
  settings?: KeySettings;
}

export interface HostIdentityKeysOptions {
  /** Create the key the first time an identity is seen; when false, unknown identities resolve to null. Default true. */
  createIfMissing?: boolean;
  /** Defaults for created keys, or a function of the identity (e.g. its plan's cap). Default: uncapped, all models. */
  defaults?: HostKeyDefaults | ((identity: string) => Awaitable<HostKeyDefaults>);
  /**
   * How long a looked-up key is reused in-process, ms. Admin changes (cap, disable) are seen after at most
   * this long, as with bearer keys. Default: the hub's `keyCacheTtlMs` (5,000).
   */
  cacheTtlMs?: number;
}

/** Finds (or creates) the TokenHub key of a host identity; pass `keyFor` to `authKey({ resolve })`. */
export interface HostIdentityKeys {
  /**
   * The active key of `identity`; null when the identity is empty (so `authKey` falls back to the
   * bearer header) or unknown with `createIfMissing: false`. Throws 401 when the key is disabled or revoked.
   */
  keyFor(identity: string | null | undefined): Promise<KeyRecord | null>;
  /** The hash the identity's key is stored under (`sha256("host:" + identity)`); no bearer secret can ever match it. */
  hashOf(identity: string): string;
  /** Drops the cached record, e.g. right after changing the key through the admin API. */
  forget(identity: string): void;
}

/** Longest identity accepted; it becomes the key's name, which the admin API caps at 200 characters. */
const MAX_IDENTITY = 200;

/**
 * Keys for identities the host has already authenticated, so caps and usage apply per tenant without
 * TokenHub secrets. Each identity's key is an ordinary key record (visible and editable in the admin API),
 * named after the identity and labelled `hostId`, stored under a deterministic hash: found again by any
 * instance, created at most once (a concurrent creation elsewhere is picked up, not duplicated).
 */
export function hostIdentityKeys(hub: TokenHub | { engine: TokenHub }, options: HostIdentityKeysOptions = {}): HostIdentityKeys {
  const engine = 'engine' in hub ? hub.engine : hub;
  const { createIfMissing = true, defaults = {}, cacheTtlMs = engine.options.keyCacheTtlMs } = options;
  const store = engine.storage.keys;
  const cache = cacheTtlMs > 0 ? new LRUCache<string, KeyRecord>({ max: engine.options.keyCacheSize, ttl: cacheTtlMs }) : null;
  const pending = new Map<string, Promise<KeyRecord | null>>();
  // Static defaults are checked now, so a bad strategy name fails at start-up, not on a customer's first request.
  const staticDefaults = typeof defaults === 'function' ? null : checkDefaults(engine, defaults);

  const hashOf = (identity: string) => createHash('sha256').update(`host:${identity}`).digest('hex');

  async function lookUp(identity: string): Promise<KeyRecord | null> {
    const hash = hashOf(identity);
    const found = await store.findByHash(hash);
    if (found !== null || !createIfMissing) return found;
    const d = staticDefaults ?? checkDefaults(engine, await (defaults as (id: string) => Awaitable<HostKeyDefaults>)(identity));
    const record: KeyRecord = {
      id: `key_h${hash.slice(0, 19)}`,
      name: identity,
      hash,
      monthlyLimit: d.monthlyLimitUsd == null ? null : usdToMicros(d.monthlyLimitUsd),
      allowedModels: d.allowedModels ?? null,
      disabled: false,
      createdAt: new Date(engine.clock()).toISOString(),
      revokedAt: null,
      settings: { ...d.settings, labels: { ...d.settings?.labels, hostId: identity } },
    };
    try {
      await store.create(record);
      return record;
    } catch (err) {
      // Another instance (or request) created it first: the unique hash makes the store refuse ours.
      const raced = await store.findByHash(hash);
      if (raced === null) throw err;
      return raced;
    }
  }

  return {
    hashOf,
    forget: (identity) => void cache?.delete(identity),
    async keyFor(identity) {
      if (identity === null || identity === undefined || identity === '') return null;
      if (identity.length > MAX_IDENTITY) throw new TypeError(`hostIdentityKeys: identities are at most ${MAX_IDENTITY} characters`);
      let record = cache?.get(identity) ?? null;
      if (record === null) {
        let p = pending.get(identity);
        if (p === undefined) {
          p = lookUp(identity).finally(() => pending.delete(identity));
          pending.set(identity, p);
        }
        record = await p;
        if (record === null) return null;
        cache?.set(identity, record);
      }
      if (record.revokedAt !== null) throw invalidApiKey('The TokenHub key of this account has been revoked.');
      if (record.disabled) throw invalidApiKey('The TokenHub key of this account is disabled.');
      return record;
    },
  };
}

function checkDefaults(hub: TokenHub, d: HostKeyDefaults): HostKeyDefaults {
  const limit = d.monthlyLimitUsd;
  if (limit != null && !(Number.isFinite(limit) && limit >= 0)) throw new TypeError('hostIdentityKeys: monthlyLimitUsd must be a non-negative number or null');
  if (d.settings === undefined) return d;
  try {
    return { ...d, settings: parseKeySettings(hub, d.settings) };
  } catch (err) {
    throw new TypeError(`hostIdentityKeys: defaults.${(err as Error).message}`);
  }
}
