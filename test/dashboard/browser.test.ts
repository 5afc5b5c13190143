// The Usage dashboard in real Chromium (playwright-core + Debian's /usr/bin/chromium): sign in, filter, sort, keys, chart; saves docs/dashboard.png.
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenHub, memoryStorage, type TokenHubInstance } from '../../src/index.js';
import { hashKeySecret } from '../../src/core/keys.js';
import { defaultPricing } from '../../src/core/pricing.js';
import type { Micros } from '../../src/core/money.js';
import { monthOf } from '../../src/core/month.js';
import type { UsageRecord } from '../../src/ports/usage.js';
import { listen, type Listening } from '../support/http.js';
import { TRAFFIC_KEYS, monthOfTraffic } from './support.js';

const CHROMIUM = '/usr/bin/chromium';

/**
 * The browser globals the page.evaluate callbacks touch, typed here because the project compiles without the DOM
 * lib; the casts vanish when the callback is serialised into the page.
 */
interface Canvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
interface Page$ {
  sessionStorage: { getItem(key: string): string | null };
  navigator: { clipboard: { readText(): Promise<string> } };
  document: { querySelector(sel: string): Canvas | null; documentElement: { scrollWidth: number } };
  scrollTo(x: number, y: number): void;
  Chart: { getChart(c: Canvas): { data: { labels: unknown[]; datasets: unknown[] } } };
}
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const TOKEN = 'browser-admin-token-0123456789';
const SCREENSHOT = new URL('../../docs/dashboard.png', import.meta.url);
/** The page's and the gateway's clock: fixed, so the data, the page and so the committed screenshot are the same on every run. */
const NOW = Date.UTC(2026, 5, 30, 15, 0);

/** The dashboard's own dollar format, so texts read off the page can be compared exactly. */
const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

const title = HAVE_CHROMIUM
  ? 'dashboard in Chromium'
  : `dashboard in Chromium — SKIPPED: ${CHROMIUM} is missing (install it with: apt-get update && apt-get install -y chromium)`;

describe.skipIf(!HAVE_CHROMIUM)(title, () => {
  let hub: TokenHubInstance;
  let server: Listening;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let records: UsageRecord[];
  const foreign: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    hub = createTokenHub({ storage: memoryStorage(), adminToken: TOKEN, clock: () => NOW, logger: { info() {}, warn() {}, error() {} } });
    const app = new Koa();
    app.use(hub.adminRoutes());
    server = await listen(app.callback());

    // A month of traffic ending now, its three keys (two capped), and this month's spend settled on them.
    const now = NOW;
    records = monthOfTraffic({ end: now, days: 30 });
    await hub.engine.storage.usage.insert(records);
    const month = monthOf(now);
    const limits: Record<string, number | null> = { key_support: 60, key_reports: 120, key_staging: null };
    for (const k of TRAFFIC_KEYS) {
      await hub.engine.storage.keys.create({
        id: k.id, name: k.name, hash: hashKeySecret(`th-${randomBytes(32).toString('base64url')}`),
        monthlyLimit: limits[k.id] === null ? null : ((limits[k.id]! * 1_000_000) as Micros), allowedModels: null,
        disabled: false, createdAt: new Date(now - 40 * 86_400_000).toISOString(), revokedAt: null, settings: {},
      });
      const spent = records.filter((r) => r.keyId === k.id && monthOf(r.time) === month).reduce((s, r) => s + r.cost, 0);
      const reservation = { requestId: `seed-${k.id}`, keyId: k.id, month, amount: spent as Micros };
      await hub.engine.storage.spend.reserve(reservation, null);
      await hub.engine.storage.spend.settle(reservation, spent as Micros);
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC', locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    await page.clock.setFixedTime(NOW);
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) foreign.push(r.url());
    });
    page.on('console', (m) => {
      // Expected: the 401 of the wrong token and the 400s of the reversed range this test causes on purpose.
      if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await hub?.close(1_000);
  });

  const loaded = async () => {
    for (const sel of ['#trend .chart-box', '#breakdown .table-wrap', '#heat .heat-wrap', '#waste .table-wrap']) {
      await page.waitForSelector(`${sel}:not([data-state="loading"])`);
    }
  };

  it('asks for the admin token, refuses a wrong one, keeps the right one in sessionStorage only', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', 'not-the-token');
    await page.click('#login-submit');
    await expect.poll(() => page.textContent('#login-error')).toContain('refused');
    await page.fill('#token', TOKEN);
    await page.click('#login-submit');
    await page.waitForSelector('#app:not([hidden])');
    await loaded();
    expect(await page.evaluate(() => (globalThis as unknown as Page$).sessionStorage.getItem('tokenhub.adminToken'))).toBe(TOKEN);
    expect(await context.cookies()).toEqual([]);
  });

  it('shows the top model by cost first, then filters by model and sorts keys by cost', async () => {
    const byModel = new Map<string, number>();
    for (const r of records) byModel.set(r.model!, (byModel.get(r.model!) ?? 0) + r.cost);
    const [topModel, topCost] = [...byModel].sort((a, b) => b[1] - a[1])[0]!;
    const firstRow = () => page.$$eval('#usage-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent!.trim()));
    expect((await firstRow())[0]).toBe(`${topModel}${defaultPricing().get(topModel)!.tier}`);
    expect((await firstRow())[3]).toBe(usd2.format(topCost / 1e6));

    // The operator's question: which key spends most on gpt-4o?
    await page.selectOption('#f-model', 'openai/gpt-4o');
    await page.selectOption('#group-by', 'key');
    await loaded();
    await page.click('#usage-table th[data-sort="requests_desc"] button');
    await page.waitForSelector('#usage-table th[data-sort="requests_desc"][aria-sort="descending"]');
    await loaded();
    await page.click('#usage-table th[data-sort="cost"] button');
    await page.waitForSelector('#usage-table th[data-sort="cost"][aria-sort="descending"]');
    await loaded();
    const byKey = new Map<string, number>();
    for (const r of records.filter((x) => x.model === 'openai/gpt-4o')) byKey.set(r.keyId, (byKey.get(r.keyId) ?? 0) + r.cost);
    const ranked = [...byKey].sort((a, b) => b[1] - a[1]);
    const names = await page.$$eval('#usage-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent!.trim()));
    expect(names).toEqual(ranked.map(([id]) => TRAFFIC_KEYS.find((k) => k.id === id)!.name));
    const top = await firstRow();
    expect(top[3]).toBe(usd2.format(ranked[0]![1] / 1e6));
    const gpt4o = records.filter((x) => x.model === 'openai/gpt-4o').length.toLocaleString('en-US');
    await expect.poll(() => page.textContent('#s-requests')).toBe(gpt4o);
  });

  it('draws the cost trend on its canvas, the heatmap and the waste panel', async () => {
    await page.click('#f-reset');
    await page.selectOption('#group-by', 'model');
    await loaded();
    const chart = await page.evaluate(() => {
      const web = globalThis as unknown as Page$;
      const c = web.document.querySelector('#trend-chart')!;
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) inked++;
      const instance = web.Chart.getChart(c);
      return { width: c.width, height: c.height, inked, labels: instance.data.labels.length, datasets: instance.data.datasets.length };
    });
    expect(chart.width).toBeGreaterThan(600);
    expect(chart.inked).toBeGreaterThan(5_000);
    expect(chart.labels).toBe(30);
    expect(chart.datasets).toBe(5);
    expect(await page.$$eval('#heatmap .cell', (cells) => cells.length)).toBe(7 * 24);
    const monthly = await page.textContent('#w-monthly');
    expect(monthly).toMatch(/^\$[\d,]+\.\d\d$/);
    expect(await page.$$eval('#waste-table tbody tr', (trs) => trs.length)).toBeGreaterThan(0);
    expect(await page.textContent('#waste-table tbody tr:first-child td:first-child')).toContain('→ google/gemini-flash');
  });

  it('creates a key (secret shown once, copied), sets and clears its cap, disables and revokes it', async () => {
    await page.fill('#k-name', 'ci-bot');
    await page.click('#create-key button[type="submit"]');
    await page.waitForSelector('#secret:not([hidden])');
    const secret = (await page.textContent('#secret-value'))!;
    expect(secret).toMatch(/^th-[A-Za-z0-9_-]{43}$/);
    await page.click('#secret-copy');
    await expect.poll(() => page.textContent('#secret-copy')).toBe('Copied');
    expect(await page.evaluate(() => (globalThis as unknown as Page$).navigator.clipboard.readText())).toBe(secret);
    await page.click('#secret-done');
    expect(await page.isHidden('#secret')).toBe(true);

    const row = page.locator('#keys-table tbody tr', { hasText: 'ci-bot' });
    await row.locator('input').fill('25');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#caps-list li', { hasText: 'ci-bot' }).textContent()).toContain('$0.00 of $25.00');
    const listed = async () => {
      const res = await fetch(`${server.url}/admin/keys`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return ((await res.json()) as { data: { name: string; monthlyLimitUsd: number | null; disabled: boolean }[] }).data.find((k) => k.name === 'ci-bot');
    };
    expect(await listed()).toMatchObject({ monthlyLimitUsd: 25, disabled: false });
    // The spend-vs-cap bars: the capped support key shows its share of its $60 cap.
    const support = records.filter((r) => r.keyId === 'key_support' && monthOf(r.time) === monthOf(NOW)).reduce((s, r) => s + r.cost, 0);
    expect(await page.locator('#caps-list li', { hasText: 'support-bot' }).textContent()).toContain(`${usd2.format(support / 1e6)} of $60.00`);

    await row.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(async () => (await listed())?.monthlyLimitUsd).toBeNull();
    await row.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => row.locator('.status').textContent()).toBe('Disabled');
    expect(await listed()).toMatchObject({ disabled: true });
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect(await listed()).toBeUndefined();
  });

  it('says what to do with a reversed range, and shows empty states for a range without traffic', async () => {
    await page.selectOption('#f-range', 'custom');
    await page.fill('#f-from', '2026-06-20');
    await page.dispatchEvent('#f-from', 'change');
    await page.fill('#f-to', '2026-06-10');
    await page.dispatchEvent('#f-to', 'change');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner-text')).toBe('The filters were refused (from must not be after to). Change them and the page reloads.');
    await page.fill('#f-from', '2020-01-01');
    await page.dispatchEvent('#f-from', 'change');
    await page.fill('#f-to', '2020-01-31');
    await page.dispatchEvent('#f-to', 'change');
    await loaded();
    expect(await page.isHidden('#banner')).toBe(true);
    expect(await page.getAttribute('#trend .chart-box', 'data-state')).toBe('empty');
    expect(await page.isVisible('#trend .empty-msg')).toBe(true);
    expect(await page.isVisible('#breakdown .empty-msg')).toBe(true);
    expect(await page.textContent('#waste-empty')).toBe('No premium requests in this range.');
    expect(await page.textContent('#s-cost')).toBe('$0.00');
  });

  it('looks clean at 1280×800 (screenshot saved to docs/dashboard.png) and stays usable at 390 px', async () => {
    await page.click('#f-reset');
    await loaded();
    await page.evaluate(() => (globalThis as unknown as Page$).scrollTo(0, 0));
    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await loaded();
    // Nothing pushes the page sideways; wide tables scroll inside their own box.
    expect(await page.evaluate(() => (globalThis as unknown as Page$).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.isVisible('#f-model')).toBe(true);
    expect(await page.isVisible('#usage-table')).toBe(true);
    const canvas = await page.$eval('#trend-chart', (c) => c.getBoundingClientRect().width);
    expect(canvas).toBeGreaterThan(300);
    expect(canvas).toBeLessThanOrEqual(390);
    if (process.env.DASHBOARD_MOBILE_SHOT) await page.screenshot({ path: process.env.DASHBOARD_MOBILE_SHOT, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out, and loaded nothing from any other origin without a console error', async () => {
    await page.click('#signout');
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.evaluate(() => (globalThis as unknown as Page$).sessionStorage.getItem('tokenhub.adminToken'))).toBeNull();
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  });
});
