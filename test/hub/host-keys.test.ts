// hostIdentityKeys(): one key per host identity, created once however many requests or instances race for it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenHub, hostIdentityKeys, HubError, memoryStorage, type Storage } from '../../src/index.js';

const quiet = { info() {}, warn() {}, error() {} };
const hubOn = (storage: Storage = memoryStorage()) => createTokenHub({ storage, logger: quiet });

describe('hostIdentityKeys', () => {
  it('creates the key on first sight with the defaults, and finds the same record afterwards', async () => {
    const hub = hubOn();
    const tenants = hostIdentityKeys(hub, { defaults: { monthlyLimitUsd: 12.5, allowedModels: ['openai/gpt-4o-mini'], settings: { minTier: 'standard', labels: { plan: 'pro' } } } });
    const key = await tenants.keyFor('acme');
    expect(key).toMatchObject({
      name: 'acme',
      monthlyLimit: 12_500_000,
      allowedModels: ['openai/gpt-4o-mini'],
      settings: { minTier: 'standard', labels: { plan: 'pro', hostId: 'acme' } },
      hash: createHash('sha256').update('host:acme').digest('hex'),
    });
    expect(tenants.hashOf('acme')).toBe(key!.hash);
    expect((await tenants.keyFor('acme'))!.id).toBe(key!.id);
    expect(await hub.engine.storage.keys.list()).toHaveLength(1);
    await hub.close();
  });

  it('creates one key when many requests and two gateway instances see a new identity at once', async () => {
    const storage = memoryStorage();
    const [a, b] = [hubOn(storage), hubOn(storage)];
    const [ta, tb] = [hostIdentityKeys(a), hostIdentityKeys(b)];
    const keys = await Promise.all([...Array.from({ length: 10 }, () => ta.keyFor('globex')), ...Array.from({ length: 10 }, () => tb.keyFor('globex'))]);
    expect(new Set(keys.map((k) => k!.id)).size).toBe(1);
    expect(await storage.keys.list()).toHaveLength(1);
    await a.close();
    await b.close();
  });

  it('takes per-identity defaults from a function, and leaves unknown identities alone when createIfMissing is false', async () => {
    const hub = hubOn();
    const plans: Record<string, number> = { big: 100, small: 1 };
    const tenants = hostIdentityKeys(hub, { defaults: (id) => ({ monthlyLimitUsd: plans[id] ?? 0 }) });
    expect((await tenants.keyFor('big'))!.monthlyLimit).toBe(100_000_000);
    expect((await tenants.keyFor('small'))!.monthlyLimit).toBe(1_000_000);
    const lookupOnly = hostIdentityKeys(hub, { createIfMissing: false });
    expect(await lookupOnly.keyFor('nobody')).toBeNull();
    expect((await lookupOnly.keyFor('big'))!.name).toBe('big');
    expect(await tenants.keyFor(undefined)).toBeNull();
    expect(await tenants.keyFor('')).toBeNull();
    await hub.close();
  });

  it('refuses a disabled key with 401 once the cache lets go of it', async () => {
    const hub = hubOn();
    const tenants = hostIdentityKeys(hub, { cacheTtlMs: 60_000 });
    const key = (await tenants.keyFor('initech'))!;
    await hub.engine.keys.update(key.id, { disabled: true });
    expect((await tenants.keyFor('initech'))!.id).toBe(key.id); // cached for cacheTtlMs
    tenants.forget('initech');
    const err = await tenants.keyFor('initech').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
    await hub.close();
  });

  it('checks static defaults at start-up', async () => {
    const hub = hubOn();
    expect(() => hostIdentityKeys(hub, { defaults: { settings: { defaultStrategy: 'nope' } } })).toThrow(/defaults\.settings\.defaultStrategy: unknown strategy "nope"/);
    expect(() => hostIdentityKeys(hub, { defaults: { monthlyLimitUsd: -1 } })).toThrow(/monthlyLimitUsd/);
    expect(() => hostIdentityKeys(hub, { defaults: { settings: { defaultStrategy: 'cost' } } })).not.toThrow();
    await hub.close();
  });
});
