// The dashboard's admin API over HTTP (supertest): usage filters and groupings, cost trend, heatmap, waste, keys vs caps, the page itself.
import Koa from 'koa';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenHub, memoryStorage, staticPricing, type HubOptions, type TokenHubInstance } from '../../src/index.js';
import type { Micros } from '../../src/core/money.js';
import type { UsageRecord } from '../../src/ports/usage.js';
import { usageRecord } from '../contracts/support.js';
import { HOUR, monthOfTraffic } from './support.js';

const TOKEN = 'dashboard-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const at = (iso: string) => Date.parse(iso);
const usd = (micros: number) => micros / 1_000_000;

function gateway(options: Partial<HubOptions> = {}) {
  const hub = createTokenHub({ storage: memoryStorage(), adminToken: TOKEN, logger: { info() {}, warn() {}, error() {} }, ...options });
  const app = new Koa();
  app.use(hub.adminRoutes());
  return { hub, agent: request(app.callback()) };
}
const insert = (hub: TokenHubInstance, records: UsageRecord[]) => hub.engine.storage.usage.insert(records);

/**
 * A week of hand-made traffic, 2026-06-01 (Monday) to 2026-06-07 (Sunday), UTC:
 *
 * | id | time (UTC)        | key   | model                       | in    | out | cost µ$ |
 * |----|-------------------|-------|-----------------------------|-------|-----|---------|
 * | w1 | Mon 06-01 09:10   | key_a | openai/gpt-4o               | 1,000 | 500 | 12,500  |
 * | w2 | Mon 06-01 09:40   | key_b | openai/gpt-4o-mini          | 2,000 | 100 | 360     |
 * | w3 | Tue 06-02 14:00   | key_a | anthropic/claude-3-5-sonnet | 3,000 | 200 | 12,000  |
 * | w4 | Wed 06-03 23:30   | key_b | google/gemini-flash         | 4,000 | 400 | 420     |
 * | w5 | Thu 06-04 00:30   | key_a | openai/gpt-4o               | 500   | 50  | 3,250   |
 * | w6 | Sun 06-07 22:15   | key_c | (failed: none)              | 40    | 0   | 0       |
 */
const WEEK: UsageRecord[] = [
  usageRecord({ id: 'w1', time: at('2026-06-01T09:10:00Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 1_000, outputTokens: 500, cost: 12_500 as Micros }),
  usageRecord({ id: 'w2', time: at('2026-06-01T09:40:00Z'), keyId: 'key_b', model: 'openai/gpt-4o-mini', provider: 'openai', inputTokens: 2_000, outputTokens: 100, cost: 360 as Micros }),
  usageRecord({ id: 'w3', time: at('2026-06-02T14:00:00Z'), keyId: 'key_a', model: 'anthropic/claude-3-5-sonnet', provider: 'anthropic', inputTokens: 3_000, outputTokens: 200, cost: 12_000 as Micros }),
  usageRecord({ id: 'w4', time: at('2026-06-03T23:30:00Z'), keyId: 'key_b', model: 'google/gemini-flash', provider: 'google', inputTokens: 4_000, outputTokens: 400, cost: 420 as Micros }),
  usageRecord({ id: 'w5', time: at('2026-06-04T00:30:00Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 500, outputTokens: 50, cost: 3_250 as Micros }),
  usageRecord({ id: 'w6', time: at('2026-06-07T22:15:00Z'), keyId: 'key_c', requestedModel: 'economy', model: null, provider: null, inputTokens: 40, outputTokens: 0, cost: 0 as Micros, status: 503 }),
];
const row = (group: string, requests: number, inputTokens: number, outputTokens: number, micros: number) =>
  ({ group, requests, inputTokens, outputTokens, costUsd: usd(micros) });

describe('GET /admin/usage on a hand-made week', () => {
  const { hub, agent } = gateway();
  beforeAll(async () => {
    await insert(hub, WEEK);
  });
  const get = (query: Record<string, string | number>) => agent.get('/admin/usage').query(query).set(auth);

  it('groups by model, most expensive first, with totals over every group', async () => {
    const res = await get({ groupBy: 'model' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      groupBy: 'model',
      tz: 'UTC',
      rows: [
        row('openai/gpt-4o', 2, 1_500, 550, 15_750),
        row('anthropic/claude-3-5-sonnet', 1, 3_000, 200, 12_000),
        row('google/gemini-flash', 1, 4_000, 400, 420),
        row('openai/gpt-4o-mini', 1, 2_000, 100, 360),
        row('economy', 1, 40, 0, 0),
      ],
      totals: { requests: 6, inputTokens: 10_540, outputTokens: 1_250, costUsd: usd(28_530) },
    });
  });

  it('sorts by requests and by tokens when asked', async () => {
    expect((await get({ groupBy: 'key', sort: 'requests_desc' })).body.rows.map((r: { group: string }) => r.group)).toEqual(['key_a', 'key_b', 'key_c']);
    // key_b: 6,500 tokens; key_a: 5,250; key_c: 40.
    expect((await get({ groupBy: 'key', sort: 'tokens_desc' })).body.rows.map((r: { group: string }) => r.group)).toEqual(['key_b', 'key_a', 'key_c']);
  });

  it('filters by model, provider and key, and by a time-of-day window that wraps past midnight', async () => {
    expect((await get({ model: 'openai/gpt-4o' })).body.totals).toEqual({ requests: 2, inputTokens: 1_500, outputTokens: 550, costUsd: usd(15_750) });
    expect((await get({ provider: 'openai', groupBy: 'key' })).body.rows).toEqual([row('key_a', 2, 1_500, 550, 15_750), row('key_b', 1, 2_000, 100, 360)]);
    // 22:00–00:59 UTC: w4 (23:30), w5 (00:30), w6 (22:15).
    expect((await get({ hourFrom: 22, hourTo: 0, groupBy: 'hourOfDay', sort: 'group_asc' })).body.rows).toEqual([
      row('0', 1, 500, 50, 3_250),
      row('22', 1, 40, 0, 0),
      row('23', 1, 4_000, 400, 420),
    ]);
  });

  it('buckets days and hours of day in the zone asked for', async () => {
    // Tokyo is UTC+9: w4 (Wed 23:30Z) and w5 (Thu 00:30Z) both fall on Thursday 06-04 there; w6 on Monday 06-08.
    expect((await get({ groupBy: 'day', sort: 'group_asc', tz: 'Asia/Tokyo' })).body.rows).toEqual([
      row('2026-06-01', 2, 3_000, 600, 12_860),
      row('2026-06-02', 1, 3_000, 200, 12_000),
      row('2026-06-04', 2, 4_500, 450, 3_670),
      row('2026-06-08', 1, 40, 0, 0),
    ]);
    // Office hours 09–17 in Tokyo are 00–08 UTC: only w5 (09:30 there).
    expect((await get({ tz: 'Asia/Tokyo', hourFrom: 9, hourTo: 17 })).body.totals.requests).toBe(1);
  });

  it('answers 400 with the offending parameter for bad filters', async () => {
    const bad = async (query: Record<string, string>, param: string) => {
      const res = await agent.get('/admin/usage').query(query).set(auth);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    };
    await bad({ hourFrom: '24' }, 'hourFrom');
    await bad({ hourTo: '-1' }, 'hourTo');
    await bad({ hourFrom: 'noon' }, 'hourFrom');
    await bad({ tz: 'Mars/Olympus_Mons' }, 'tz');
    await bad({ groupBy: 'week' }, 'groupBy');
    await bad({ from: 'yesterday' }, 'from');
    await bad({ from: '2026-06-05T00:00:00Z', to: '2026-06-01T00:00:00Z' }, 'from');
    await bad({ colour: 'blue' }, 'colour');
  });

  it('refuses every usage read without the admin token', async () => {
    for (const path of ['/admin/usage', '/admin/usage/series', '/admin/usage/heatmap', '/admin/usage/waste', '/admin/models']) {
      const res = await agent.get(path);
      expect(res.status, path).toBe(401);
      expect(res.body.error.code).toBe('invalid_admin_token');
    }
  });
});

describe('GET /admin/usage/series and /admin/usage/heatmap on the same week', () => {
  const { hub, agent } = gateway();
  beforeAll(async () => {
    await insert(hub, WEEK);
  });

  it('gives one value per day of the range, gaps as zeros, one series per model, the most expensive first', async () => {
    const res = await agent.get('/admin/usage/series').set(auth)
      .query({ from: '2026-06-01T00:00:00Z', to: '2026-06-08T00:00:00Z', bucket: 'day', splitBy: 'model' });
    expect(res.status).toBe(200);
    expect(res.body.buckets).toEqual(['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05', '2026-06-06', '2026-06-07']);
    expect(res.body.series.map((s: { name: string }) => s.name)).toEqual([
      'openai/gpt-4o', 'anthropic/claude-3-5-sonnet', 'google/gemini-flash', 'openai/gpt-4o-mini', 'none',
    ]);
    expect(res.body.series[0]).toMatchObject({
      name: 'openai/gpt-4o',
      costUsd: [usd(12_500), 0, 0, usd(3_250), 0, 0, 0],
      requests: [1, 0, 0, 1, 0, 0, 0],
      totalCostUsd: usd(15_750),
    });
    expect(res.body.totals.costUsd).toEqual([usd(12_860), usd(12_000), usd(420), usd(3_250), 0, 0, 0]);
    expect(res.body.totals.requests).toEqual([2, 1, 1, 1, 0, 0, 1]);
  });

  it('gives hourly buckets in a zone, split by provider', async () => {
    const res = await agent.get('/admin/usage/series').set(auth)
      .query({ from: '2026-06-03T00:00:00+09:00', to: '2026-06-05T00:00:00+09:00', bucket: 'hour', splitBy: 'provider', tz: 'Asia/Tokyo' });
    expect(res.status).toBe(200);
    expect(res.body.buckets).toHaveLength(48);
    expect(res.body.buckets[0]).toBe('2026-06-03T00');
    // w3 is Tue 14:00Z = Tue 23:00 in Tokyo, before the range; w4 08:30 and w5 09:30 on Thursday there.
    const google = res.body.series.find((s: { name: string }) => s.name === 'google');
    const openai = res.body.series.find((s: { name: string }) => s.name === 'openai');
    expect(google.costUsd.findIndex((v: number) => v > 0)).toBe(24 + 8);
    expect(openai.costUsd.findIndex((v: number) => v > 0)).toBe(24 + 9);
    expect(res.body.series.map((s: { name: string }) => s.name)).toEqual(['openai', 'google']);
  });

  it('refuses an hourly trend of more than 10,000 buckets and an unknown bucket', async () => {
    const long = await agent.get('/admin/usage/series').set(auth).query({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', bucket: 'hour' });
    expect(long.status).toBe(400);
    expect(long.body.error.param).toBe('bucket');
    const minute = await agent.get('/admin/usage/series').set(auth).query({ bucket: 'minute' });
    expect(minute.body.error.param).toBe('bucket');
  });

  it('lays requests and cost out as weekday rows (Monday first) × 24 hours', async () => {
    const res = await agent.get('/admin/usage/heatmap').set(auth).query({ from: '2026-06-01T00:00:00Z', to: '2026-06-08T00:00:00Z' });
    expect(res.status).toBe(200);
    const { weekdays, requests, costUsd, tokens } = res.body;
    expect(weekdays).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    expect(requests).toHaveLength(7);
    expect(requests.every((r: number[]) => r.length === 24)).toBe(true);
    expect(requests[0][9]).toBe(2);
    expect(costUsd[0][9]).toBe(usd(12_860));
    expect(tokens[0][9]).toBe(3_600);
    expect(requests[2][23]).toBe(1);
    expect(requests[3][0]).toBe(1);
    expect(requests[6][22]).toBe(1);
    expect(requests.flat().reduce((a: number, b: number) => a + b, 0)).toBe(6);
    // In New York (UTC−4 in June) Monday 09:10Z is Monday 05:10, and Wednesday 23:30Z is Wednesday 19:30.
    const ny = (await agent.get('/admin/usage/heatmap').set(auth).query({ tz: 'America/New_York' })).body;
    expect(ny.requests[0][5]).toBe(2);
    expect(ny.requests[2][19]).toBe(1);
    expect(ny.requests[2][20]).toBe(1);
  });
});

describe('GET /admin/usage/waste', () => {
  const NOW = at('2026-06-11T00:00:00Z');
  const FROM = '2026-06-01T00:00:00Z';
  const TO = '2026-06-11T00:00:00Z';
  const recs = (prefix: string, n: number, over: Partial<UsageRecord>) =>
    Array.from({ length: n }, (_, i) => usageRecord({ id: `${prefix}${i}`, time: at('2026-06-02T10:00:00Z') + i * HOUR, ...over }));

  it('prices each premium group on its cheapest lower-tier model that holds its context and supports its needs', async () => {
    const { hub, agent } = gateway({ clock: () => NOW });
    await insert(hub, [
      // A: 10 × gpt-4o, key_a, plain, 1,000 in / 500 out = 12,500 µ$ each.
      //    Cheapest lower tier for 10,000 in / 5,000 out: gemini-flash 750 + 1,500 = 2,250 (mini 4,500, haiku 8,750).
      ...recs('a', 10, { keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 1_000, outputTokens: 500, cost: 12_500 as Micros, contextTokens: 2_000 }),
      // B: 4 × claude-3-5-sonnet, key_b, JSON mode, 150,000 in / 1,000 out = 465,000 µ$ each; context 151,000.
      //    haiku has no JSON mode, gpt-4o-mini holds 128k: only gemini-flash, 600,000 × 0.075 + 4,000 × 0.30 = 46,200.
      ...recs('b', 4, { keyId: 'key_b', model: 'anthropic/claude-3-5-sonnet', provider: 'anthropic', inputTokens: 150_000, outputTokens: 1_000, cost: 465_000 as Micros, needsJson: true, contextTokens: 151_000 }),
      // C: 2 × gpt-4o, key_b, tools, 2,000 in / 100 out = 11,500 µ$ each → gemini-flash 4,000 × 0.075 + 200 × 0.30 = 360.
      ...recs('c', 2, { keyId: 'key_b', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 2_000, outputTokens: 100, cost: 11_500 as Micros, needsTools: true, contextTokens: 3_000 }),
      // Not premium, failed, or out of range: not part of the report.
      ...recs('d', 5, { keyId: 'key_a', model: 'openai/gpt-4o-mini', provider: 'openai', cost: 100 as Micros }),
      ...recs('e', 3, { keyId: 'key_a', model: null, provider: null, status: 502, cost: 0 as Micros }),
      usageRecord({ id: 'old', time: at('2026-05-20T00:00:00Z'), keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', cost: 99_999 as Micros }),
    ]);
    const res = await agent.get('/admin/usage/waste').set(auth).query({ from: FROM, to: TO });
    expect(res.status).toBe(200);
    const w = res.body;
    expect(w.premiumModels).toEqual(['openai/gpt-4o', 'anthropic/claude-3-5-sonnet']);
    expect(w.lines).toEqual([
      { model: 'anthropic/claude-3-5-sonnet', keyId: 'key_b', alternative: 'google/gemini-flash', requests: 4, inputTokens: 600_000, outputTokens: 4_000,
        costUsd: usd(1_860_000), alternativeCostUsd: usd(46_200), savingUsd: usd(1_813_800) },
      { model: 'openai/gpt-4o', keyId: 'key_a', alternative: 'google/gemini-flash', requests: 10, inputTokens: 10_000, outputTokens: 5_000,
        costUsd: usd(125_000), alternativeCostUsd: usd(2_250), savingUsd: usd(122_750) },
      { model: 'openai/gpt-4o', keyId: 'key_b', alternative: 'google/gemini-flash', requests: 2, inputTokens: 4_000, outputTokens: 200,
        costUsd: usd(23_000), alternativeCostUsd: usd(360), savingUsd: usd(22_640) },
    ]);
    expect(w.byModel).toEqual([
      { model: 'anthropic/claude-3-5-sonnet', requests: 4, costUsd: usd(1_860_000), savingUsd: usd(1_813_800) },
      { model: 'openai/gpt-4o', requests: 12, costUsd: usd(148_000), savingUsd: usd(145_390) },
    ]);
    expect(w.byKey).toEqual([
      { keyId: 'key_b', requests: 6, costUsd: usd(1_883_000), savingUsd: usd(1_836_440) },
      { keyId: 'key_a', requests: 10, costUsd: usd(125_000), savingUsd: usd(122_750) },
    ]);
    expect(w.totals).toEqual({
      premiumRequests: 16, premiumCostUsd: usd(2_008_000), wastedRequests: 16, wastedCostUsd: usd(2_008_000),
      alternativeCostUsd: usd(48_810), savingUsd: usd(1_959_190),
    });
    // Ten days of range: the saving × 30 / 10.
    expect(w.periodDays).toBe(10);
    expect(w.estimatedMonthlySavingUsd).toBe(usd(5_877_570));
  });

  it('leaves out groups no cheaper model can serve, and counts them as premium only', async () => {
    // Premium acme/big (500k, JSON); standard acme/mid (200k, no JSON); economy acme/small (32k, JSON).
    const pricing = staticPricing([
      { id: 'acme/big', inputUsdPerMTok: 10, outputUsdPerMTok: 30, contextWindow: 500_000, maxOutputTokens: 8_000, supportsJson: true, tier: 'premium' },
      { id: 'acme/mid', inputUsdPerMTok: 2, outputUsdPerMTok: 6, contextWindow: 200_000, maxOutputTokens: 8_000, supportsJson: false, tier: 'standard' },
      { id: 'acme/small', inputUsdPerMTok: 0.5, outputUsdPerMTok: 1, contextWindow: 32_000, maxOutputTokens: 8_000, supportsJson: true, tier: 'economy' },
    ]);
    const { hub, agent } = gateway({ pricing, clock: () => NOW });
    await insert(hub, [
      // JSON at 100k context: small cannot hold it, mid has no JSON mode → no alternative.
      ...recs('j', 3, { keyId: 'key_a', model: 'acme/big', provider: 'acme', inputTokens: 100_000, outputTokens: 1_000, cost: 1_030_000 as Micros, needsJson: true, contextTokens: 101_000 }),
      // Plain at 100k: mid holds it. 200,000 × 2 + 2,000 × 6 = 412,000 for two requests that cost 2,060,000.
      ...recs('p', 2, { keyId: 'key_a', model: 'acme/big', provider: 'acme', inputTokens: 100_000, outputTokens: 1_000, cost: 1_030_000 as Micros, contextTokens: 101_000 }),
      // One long request keeps its whole group off the small model: max context 40,000 > 32,000, so mid again.
      usageRecord({ id: 's1', time: at('2026-06-03T00:00:00Z'), keyId: 'key_b', model: 'acme/big', provider: 'acme', inputTokens: 1_000, outputTokens: 100, cost: 13_000 as Micros, contextTokens: 2_000 }),
      usageRecord({ id: 's2', time: at('2026-06-04T00:00:00Z'), keyId: 'key_b', model: 'acme/big', provider: 'acme', inputTokens: 39_000, outputTokens: 100, cost: 393_000 as Micros, contextTokens: 40_000 }),
    ]);
    const w = (await agent.get('/admin/usage/waste').set(auth).query({ from: FROM, to: TO })).body;
    expect(w.lines).toEqual([
      { model: 'acme/big', keyId: 'key_a', alternative: 'acme/mid', requests: 2, inputTokens: 200_000, outputTokens: 2_000,
        costUsd: usd(2_060_000), alternativeCostUsd: usd(412_000), savingUsd: usd(1_648_000) },
      // 40,000 × 2 + 200 × 6 = 81,200 against 406,000 paid.
      { model: 'acme/big', keyId: 'key_b', alternative: 'acme/mid', requests: 2, inputTokens: 40_000, outputTokens: 200,
        costUsd: usd(406_000), alternativeCostUsd: usd(81_200), savingUsd: usd(324_800) },
    ]);
    expect(w.totals).toMatchObject({ premiumRequests: 7, premiumCostUsd: usd(5_556_000), wastedRequests: 4, savingUsd: usd(1_972_800) });
    expect(w.byKey).toEqual([
      { keyId: 'key_a', requests: 5, costUsd: usd(5_150_000), savingUsd: usd(1_648_000) },
      { keyId: 'key_b', requests: 2, costUsd: usd(406_000), savingUsd: usd(324_800) },
    ]);
  });

  it('follows the filters, and answers zeros when nothing premium ran', async () => {
    const { hub, agent } = gateway({ clock: () => NOW });
    await insert(hub, recs('a', 4, { keyId: 'key_a', model: 'openai/gpt-4o', provider: 'openai', inputTokens: 1_000, outputTokens: 500, cost: 12_500 as Micros }));
    const other = (await agent.get('/admin/usage/waste').set(auth).query({ keyId: 'key_b' })).body;
    expect(other.lines).toEqual([]);
    expect(other.totals.premiumRequests).toBe(0);
    expect(other.estimatedMonthlySavingUsd).toBe(0);
    // recs() are hourly from 10:00: an 11–12 window keeps two of the four.
    const two = (await agent.get('/admin/usage/waste').set(auth).query({ hourFrom: 11, hourTo: 12, from: FROM, to: TO })).body;
    expect(two.lines[0]).toMatchObject({ requests: 2, costUsd: usd(25_000), alternativeCostUsd: usd(450), savingUsd: usd(24_550) });
  });
});

describe('keys: month spend against the cap', () => {
  it('lists each key with this month\'s settled spend and its limit', async () => {
    const NOW = at('2026-06-15T12:00:00Z');
    const { hub, agent } = gateway({ clock: () => NOW });
    const created = await agent.post('/admin/keys').set(auth).send({ name: 'capped', monthlyLimitUsd: 20 });
    expect(created.status).toBe(201);
    const { id } = created.body;
    const spend = hub.engine.storage.spend;
    await spend.reserve({ requestId: 'r1', keyId: id, month: '2026-06', amount: 9_000_000 as Micros }, 20_000_000 as Micros);
    await spend.settle({ requestId: 'r1', keyId: id, month: '2026-06', amount: 9_000_000 as Micros }, 7_250_000 as Micros);
    const list = (await agent.get('/admin/keys').set(auth)).body.data;
    expect(list).toEqual([expect.objectContaining({ id, name: 'capped', monthlyLimitUsd: 20, monthSpendUsd: 7.25, disabled: false })]);
    const cleared = await agent.patch(`/admin/keys/${id}`).set(auth).send({ monthlyLimitUsd: null });
    expect(cleared.body).toMatchObject({ monthlyLimitUsd: null, monthSpendUsd: 7.25 });
  });
});

describe('generated month of traffic', () => {
  // Thirty days, 06-01 to 06-30 (the last one up to 20:00); the gateway's clock reads the end of June.
  const records = monthOfTraffic({ end: at('2026-06-30T20:00:00Z'), days: 30 });
  const { hub, agent } = gateway({ clock: () => at('2026-07-01T00:00:00Z') });
  beforeAll(async () => {
    await insert(hub, records);
  });
  const sum = (rs: UsageRecord[]) => rs.reduce((s, r) => s + r.cost, 0);

  it('matches sums taken by hand over the records, per model and per provider, in cost order', async () => {
    for (const groupBy of ['model', 'provider', 'key'] as const) {
      const res = await agent.get('/admin/usage').set(auth).query({ groupBy });
      const expected = new Map<string, number>();
      for (const r of records) {
        const g = groupBy === 'model' ? r.model! : groupBy === 'provider' ? r.provider! : r.keyId;
        expected.set(g, (expected.get(g) ?? 0) + r.cost);
      }
      const want = [...expected].sort((a, b) => b[1] - a[1]).map(([g, c]) => [g, usd(c)]);
      expect(res.body.rows.map((r: { group: string; costUsd: number }) => [r.group, r.costUsd]), groupBy).toEqual(want);
    }
    const total = await agent.get('/admin/usage').set(auth);
    expect(total.body.totals.requests).toBe(records.length);
    expect(total.body.totals.costUsd).toBe(usd(sum(records)));
  });

  it('shows the runaway night as the busiest 03:00 cell, and the gpt-4o → gpt-4o-mini switch in the trend', async () => {
    const heat = (await agent.get('/admin/usage/heatmap').set(auth)).body;
    const night = records.filter((r) => new Date(r.time).getUTCHours() === 3);
    expect(heat.requests.reduce((s: number, row: number[]) => s + row[3]!, 0)).toBe(night.length);
    const series = (await agent.get('/admin/usage/series').set(auth).query({ splitBy: 'model', from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' })).body;
    expect(series.buckets).toHaveLength(30);
    const mini = series.series.find((s: { name: string }) => s.name === 'openai/gpt-4o-mini');
    const daysWithMini = (from: number, to: number) => mini.requests.slice(from, to).filter((n: number) => n > 0).length;
    expect(daysWithMini(15, 30)).toBe(15);
    const support4o = records.filter((r) => r.keyId === 'key_support' && r.model === 'openai/gpt-4o');
    expect(Math.max(...support4o.map((r) => r.time))).toBeLessThan(at('2026-06-16T00:00:00Z'));
    const waste = (await agent.get('/admin/usage/waste').set(auth).query({ from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' })).body;
    const savings = waste.byKey.map((k: { savingUsd: number }) => k.savingUsd);
    expect(waste.byKey.map((k: { keyId: string }) => k.keyId).sort()).toEqual(['key_reports', 'key_staging', 'key_support']);
    expect(savings).toEqual([...savings].sort((a, b) => b - a));
    expect(waste.totals.savingUsd).toBeGreaterThan(0);
    expect(waste.periodDays).toBe(30);
    expect(waste.estimatedMonthlySavingUsd).toBeCloseTo(waste.totals.savingUsd, 6);
  });
});

describe('GET /dashboard', () => {
  const { agent } = gateway();

  it('serves the page without auth, with a strict CSP and the API prefix it must call', async () => {
    const res = await agent.get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toContain('<meta name="tokenhub-api" content="/admin">');
    // Every script and stylesheet comes from the gateway itself.
    const srcs = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.filter((s) => !s.startsWith('#'))).toEqual(['data:,', '/dashboard/app.css', '/dashboard/chart.umd.min.js', '/dashboard/app.js']);
    expect(res.text).not.toMatch(/https?:\/\//);
  });

  it('serves Chart.js from the installed package, the script and the stylesheet, and 304 on a matching ETag', async () => {
    const chart = await agent.get('/dashboard/chart.umd.min.js');
    expect(chart.status).toBe(200);
    expect(chart.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(chart.text).toContain('Chart.js v4');
    expect(chart.text).not.toContain('sourceMappingURL');
    expect((await agent.get('/dashboard/app.js')).text).toContain('sessionStorage');
    expect((await agent.get('/dashboard/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const first = await agent.get('/dashboard/app.js');
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    expect((await agent.get('/dashboard/app.js').set('if-none-match', first.headers.etag!)).status).toBe(304);
    expect((await agent.get('/dashboard/nope.js')).status).toBe(404);
  });

  it('follows a custom admin prefix and page path, and can be turned off', async () => {
    const hub = createTokenHub({ storage: memoryStorage(), adminToken: TOKEN, logger: { info() {}, warn() {}, error() {} } });
    const app = new Koa();
    app.use(hub.adminRoutes({ prefix: '/ops/api', dashboard: '/ops' }));
    const page = await request(app.callback()).get('/ops');
    expect(page.text).toContain('content="/ops/api"');
    expect(page.text).toContain('src="/ops/app.js"');
    expect((await request(app.callback()).get('/ops/api/keys').set(auth)).status).toBe(200);
    const off = new Koa();
    off.use(hub.adminRoutes({ dashboard: false }));
    expect((await request(off.callback()).get('/dashboard')).status).toBe(404);
  });
});
