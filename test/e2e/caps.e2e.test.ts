// Spend caps end to end: the boundary, the 429 the SDKs do not retry, concurrency, revocation; in memory and over a
// SQLite file with its spend leases (the standalone server's default storage).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { defaultPricing, memoryStorage, parseChatRequest, requestFeatures, sqliteStorage, worstCaseCost, type Storage } from '../../src/index.js';
import { useOpenAIGateway } from '../support/gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'tokenhub-caps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const body = {
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'user' as const, content: 'Is this review positive or negative? "Great product."' }],
  max_tokens: 20,
};
/** The reservation this exact request holds: worst-case input bound + max_tokens on gpt-4o-mini. */
const reservation = worstCaseCost(defaultPricing().get('openai/gpt-4o-mini')!, requestFeatures(parseChatRequest(body)));
/** What the stand-in's answer costs: 12 in, 9 out on gpt-4o-mini, rounded up. */
const actual = 8;

for (const [name, storage] of [
  ['in memory', () => memoryStorage()],
  ['over SQLite with spend leases', () => sqliteStorage({ path: join(dir, 'caps.db') })],
] as Array<[string, () => Storage]>) describe(`spend caps, ${name}`, () => {
  const made = storage();
  // Registered before the gateway's own: after-hooks run last-registered first, so the hub is closed before its storage.
  afterAll(async () => made.close?.());
  const fixture = useOpenAIGateway({ storage: made });
  it('admits a request whose worst case exactly fills the cap, then refuses the next with the SPEC 429 and no upstream call', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: reservation / 1e6 });
    const client = fixture.gw.client(key);
    const first = await client.chat.completions.create(body).withResponse();
    expect(first.response.headers.get('x-inferoute-spend-remaining-usd')).toBe(((reservation - actual) / 1e6).toFixed(6));
    expect(fixture.upstream.state.requests).toHaveLength(1);

    const res = await fetch(`${fixture.gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const err = (await res.json()) as { error: Record<string, unknown> };
    expect(err.error).toMatchObject({ type: 'insufficient_quota', code: 'spend_limit_exceeded', param: null });
    expect(String(err.error.message)).toMatch(/Monthly spend limit/);
    expect(fixture.upstream.state.requests).toHaveLength(1);

    const keys = await fixture.gw.admin('GET', '/admin/keys');
    const row = keys.body.data.find((k: { id: string }) => k.id === id);
    expect(row).toMatchObject({ monthlyLimitUsd: reservation / 1e6, monthSpendUsd: actual / 1e6, disabled: false });
    expect(JSON.stringify(keys.body)).not.toContain(key);
  });

  it('is not retried by the official SDK (x-should-retry: false) and raises RateLimitError once', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: 0 });
    const client = fixture.gw.client(key, { maxRetries: 3 });
    const err = await client.chat.completions.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('spend_limit_exceeded');
    const usage = await fixture.gw.admin('GET', `/admin/usage?keyId=${id}`);
    expect(usage.body.totals.requests).toBe(1); // one attempt reached the gateway, not four
    expect(fixture.upstream.state.requests).toHaveLength(0);
  });

  it('never settles above the cap under 60 concurrent requests', async () => {
    const limit = reservation * 10 + Math.floor(reservation / 2);
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: limit / 1e6 });
    fixture.upstream.state.delayMs = 30;
    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        fetch(`${fixture.gw.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, text: await r.text() })),
      ),
    );
    const admitted = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429).length;
    expect(admitted + refused).toBe(60);
    // At most 10 worst cases fit at once, so at least 10 are admitted and many are refused.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(refused).toBeGreaterThan(0);
    expect(fixture.upstream.state.requests).toHaveLength(admitted);
    const ledger = await fixture.gw.hub.engine.storage.spend.ledger(id, new Date().toISOString().slice(0, 7));
    expect(ledger).toEqual({ spent: admitted * actual, reserved: 0 });
    expect(ledger.spent).toBeLessThanOrEqual(limit);
    const usage = await fixture.gw.admin('GET', `/admin/usage?keyId=${id}&groupBy=model`);
    expect(usage.body.totals.requests).toBe(60);
    expect(usage.body.rows[0]).toMatchObject({ group: 'openai/gpt-4o-mini', requests: 60, costUsd: (admitted * actual) / 1e6 });
  });

  it('refuses a revoked key at once, and a disabled one until it is enabled again', async () => {
    const { id, key } = await fixture.gw.createKey();
    const client = fixture.gw.client(key);
    await client.chat.completions.create(body); // warms the key cache
    expect((await fixture.gw.admin('PATCH', `/admin/keys/${id}`, { disabled: true })).status).toBe(200);
    await expect(client.chat.completions.create(body)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fixture.gw.admin('PATCH', `/admin/keys/${id}`, { disabled: false })).status).toBe(200);
    await client.chat.completions.create(body);
    expect((await fixture.gw.admin('DELETE', `/admin/keys/${id}`)).status).toBe(200);
    const err = await client.chat.completions.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    expect((await fixture.gw.admin('GET', `/admin/keys/${id}`)).status).toBe(404);
  });

  it('raises and clears a cap through the admin API and shows it in the headers', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: 0 });
    const client = fixture.gw.client(key);
    await expect(client.chat.completions.create(body)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await fixture.gw.admin('PATCH', `/admin/keys/${id}`, { monthlyLimitUsd: 2.5 });
    const ok = await client.chat.completions.create(body).withResponse();
    expect(ok.response.headers.get('x-inferoute-spend-limit-usd')).toBe('2.500000');
    await fixture.gw.admin('PATCH', `/admin/keys/${id}`, { monthlyLimitUsd: null });
    const uncapped = await client.chat.completions.create(body).withResponse();
    expect(uncapped.response.headers.get('x-inferoute-spend-limit-usd')).toBeNull();
  });
});
