// The KeyStore contract: every key adapter runs this suite against an empty store per test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { Micros } from '../../src/core/money.js';
import type { KeyRecord, KeyStore } from '../../src/ports/keys.js';
import { attempt } from './support.js';

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex');

function keyRecord(id: string, over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    name: `name of ${id}`,
    hash: hashOf(`th-secret-of-${id}`),
    monthlyLimit: null,
    allowedModels: null,
    disabled: false,
    createdAt: '2026-01-10T08:00:00.000Z',
    revokedAt: null,
    settings: {},
    ...over,
  };
}

/** Every field set, nested settings included: what a round trip must keep exactly. */
const fullRecord = (id: string) =>
  keyRecord(id, {
    name: 'Team Ünïcode "quotes" 🚀',
    monthlyLimit: 25_000_000 as Micros,
    allowedModels: ['openai/gpt-4o-mini', 'economy'],
    disabled: true,
    createdAt: '2026-01-02T03:04:05.678Z',
    settings: { defaultStrategy: 'balanced', minTier: 'standard', taperAt: [0.8, 0.95], labels: { team: 'search', customer: 'c-42' } },
  });

/**
 * Runs the key store contract. `factory` must give an empty store; `close` runs after each test.
 */
export function keyStoreContract(name: string, factory: () => Promise<{ store: KeyStore; close(): Promise<void> }>): void {
  describe(name, () => {
    let store: KeyStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      close = () => made.close();
    });
    afterEach(async () => {
      await close();
    });

    describe('create, get, findByHash', () => {
      it('returns every field of a created key, by id and by hash', async () => {
        const full = fullRecord('key_full');
        const bare = keyRecord('key_bare');
        await store.create(full);
        await store.create(bare);
        expect(await store.get('key_full')).toEqual(full);
        expect(await store.findByHash(full.hash)).toEqual(full);
        expect(await store.get('key_bare')).toEqual(bare);
        expect(await store.findByHash(bare.hash)).toEqual(bare);
      });

      it('answers null for an unknown id or hash', async () => {
        await store.create(keyRecord('key_1'));
        expect(await store.get('key_2')).toBeNull();
        expect(await store.findByHash(hashOf('th-nobody'))).toBeNull();
      });

      it('rejects a second key with the same id or the same hash and keeps the first', async () => {
        const first = keyRecord('key_1');
        await store.create(first);
        await expect(attempt(() => store.create(keyRecord('key_1', { hash: hashOf('other') })))).rejects.toThrow();
        await expect(attempt(() => store.create(keyRecord('key_2', { hash: first.hash })))).rejects.toThrow();
        expect(await store.get('key_1')).toEqual(first);
        expect(await store.get('key_2')).toBeNull();
        expect(await store.findByHash(first.hash)).toEqual(first);
        expect(await store.list()).toEqual([first]);
      });
    });

    describe('list', () => {
      it('is empty for an empty store', async () => {
        expect(await store.list()).toEqual([]);
      });

      it('lists keys that are not revoked, oldest createdAt first', async () => {
        // Created out of order on purpose: the order is by createdAt, not by when create() ran.
        const b = keyRecord('key_b', { createdAt: '2026-01-02T00:00:00.000Z' });
        const c = keyRecord('key_c', { createdAt: '2026-01-03T00:00:00.000Z' });
        const a = keyRecord('key_a', { createdAt: '2026-01-01T00:00:00.000Z' });
        const gone = keyRecord('key_gone', { createdAt: '2025-12-31T00:00:00.000Z' });
        for (const r of [c, gone, a, b]) await store.create(r);
        expect(await store.revoke('key_gone', '2026-01-04T00:00:00.000Z')).toBe(true);
        expect(await store.list()).toEqual([a, b, c]);
      });

      it('lists a disabled key (disabled is not revoked)', async () => {
        const d = keyRecord('key_d', { disabled: true });
        await store.create(d);
        expect(await store.list()).toEqual([d]);
      });
    });

    describe('update', () => {
      it('changes only the fields in the patch and returns the new record', async () => {
        const r = fullRecord('key_1');
        await store.create(r);
        const updated = await store.update('key_1', { name: 'renamed' });
        expect(updated).toEqual({ ...r, name: 'renamed' });
        expect(await store.get('key_1')).toEqual({ ...r, name: 'renamed' });
        expect(await store.findByHash(r.hash)).toEqual({ ...r, name: 'renamed' });
      });

      it('sets and clears the limit, allowed models, disabled flag and settings', async () => {
        const r = keyRecord('key_1');
        await store.create(r);
        const settings = { defaultStrategy: 'cost', taperAt: [0.5], labels: { env: 'prod' } };
        const set = { monthlyLimit: 5_000_000 as Micros, allowedModels: ['google/gemini-flash'], disabled: true, settings };
        expect(await store.update('key_1', set)).toEqual({ ...r, ...set });
        expect(await store.get('key_1')).toEqual({ ...r, ...set });

        const cleared = { monthlyLimit: null, allowedModels: null, disabled: false, settings: {} };
        expect(await store.update('key_1', cleared)).toEqual({ ...r, ...cleared });
        expect(await store.get('key_1')).toEqual({ ...r, ...cleared });
      });

      it('keeps an empty allowed-models list distinct from null (no model versus every model)', async () => {
        await store.create(keyRecord('key_1'));
        expect((await store.update('key_1', { allowedModels: [] }))?.allowedModels).toEqual([]);
        expect((await store.get('key_1'))?.allowedModels).toEqual([]);
      });

      it('treats an empty patch, or fields given as undefined, as no change', async () => {
        const r = fullRecord('key_1');
        await store.create(r);
        expect(await store.update('key_1', {})).toEqual(r);
        expect(await store.update('key_1', { name: undefined, monthlyLimit: undefined, settings: undefined })).toEqual(r);
        expect(await store.get('key_1')).toEqual(r);
      });

      it('answers null for a missing key and for a revoked one, which stays unchanged', async () => {
        expect(await store.update('key_none', { name: 'x' })).toBeNull();
        expect(await store.get('key_none')).toBeNull();

        const r = keyRecord('key_1');
        await store.create(r);
        await store.revoke('key_1', '2026-02-01T00:00:00.000Z');
        expect(await store.update('key_1', { name: 'back from the dead', disabled: true })).toBeNull();
        expect(await store.get('key_1')).toEqual({ ...r, revokedAt: '2026-02-01T00:00:00.000Z' });
      });
    });

    describe('revoke', () => {
      it('is true once, then false; false for an unknown key', async () => {
        await store.create(keyRecord('key_1'));
        expect(await store.revoke('key_1', '2026-02-01T00:00:00.000Z')).toBe(true);
        expect(await store.revoke('key_1', '2026-02-02T00:00:00.000Z')).toBe(false);
        expect(await store.revoke('key_none', '2026-02-01T00:00:00.000Z')).toBe(false);
        // The second call did not move the revocation time.
        expect((await store.get('key_1'))?.revokedAt).toBe('2026-02-01T00:00:00.000Z');
      });

      it('is visible at once to findByHash, get and list, and leaves other keys alone', async () => {
        const r = keyRecord('key_1');
        const other = keyRecord('key_2');
        await store.create(r);
        await store.create(other);
        await store.revoke('key_1', '2026-02-01T00:00:00.000Z');
        expect(await store.findByHash(r.hash)).toEqual({ ...r, revokedAt: '2026-02-01T00:00:00.000Z' });
        expect(await store.get('key_1')).toEqual({ ...r, revokedAt: '2026-02-01T00:00:00.000Z' });
        expect(await store.list()).toEqual([other]);
        expect(await store.findByHash(other.hash)).toEqual(other);
      });
    });

    describe('copies, not aliases', () => {
      it('is not changed by mutating the record given to create', async () => {
        const r = fullRecord('key_1');
        const expected = structuredClone(r);
        await store.create(r);
        r.name = 'mutated';
        r.allowedModels!.push('openai/gpt-4o');
        r.settings.labels!.team = 'mutated';
        r.settings.taperAt!.push(0.99);
        expect(await store.get('key_1')).toEqual(expected);
      });

      it('is not changed by mutating what get, findByHash, list and update return', async () => {
        const expected = fullRecord('key_1');
        await store.create(fullRecord('key_1'));
        const scribble = (x: KeyRecord | null | undefined) => {
          x!.name = 'mutated';
          x!.allowedModels!.push('mutated');
          x!.settings.labels!.team = 'mutated';
        };
        scribble(await store.get('key_1'));
        scribble(await store.findByHash(expected.hash));
        scribble((await store.list())[0]);
        scribble(await store.update('key_1', {}));
        expect(await store.get('key_1')).toEqual(expected);
      });

      it('is not changed by mutating the patch after update', async () => {
        await store.create(keyRecord('key_1'));
        const patch = { allowedModels: ['economy'], settings: { labels: { team: 'a' } } };
        await store.update('key_1', patch);
        patch.allowedModels.push('openai/gpt-4o');
        patch.settings.labels.team = 'mutated';
        const got = await store.get('key_1');
        expect(got?.allowedModels).toEqual(['economy']);
        expect(got?.settings).toEqual({ labels: { team: 'a' } });
      });
    });
  });
}
