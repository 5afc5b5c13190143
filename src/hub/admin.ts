// The admin API as framework-free handlers: validated input in, JSON-ready answers out.
import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { HubError, invalidRequest } from '../core/errors.js';
import { formatParam } from '../core/request.js';
import { microsToUsd, usdToMicros, type Micros } from '../core/money.js';
import { monthOf } from '../core/month.js';
import { DAY_MS, HOUR_MS, dayLabel, hourLabel, isTimeZone, localMs } from '../core/analytics.js';
import { premiumModels, wasteReport } from '../core/waste.js';
import type { KeyPatch, KeyRecord, KeySettings } from '../ports/keys.js';
import { USAGE_GROUPS, USAGE_SORTS, type SeriesPoint, type UsageQuery, type UsageTotals } from '../ports/usage.js';
import type { TokenHub } from './index.js';
import { describeModel } from './models.js';
import { bearerToken } from '../core/keys.js';

const usd = z.number().finite().nonnegative().max(1e9);
const models = z.array(z.string().min(1)).max(1000);

const settingsFields = {
  defaultStrategy: z.string().trim().min(1).max(100),
  minTier: z.enum(['economy', 'standard', 'premium']),
  taperAt: z
    .array(z.number().gt(0).lte(1))
    .max(5)
    .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), 'must be ascending fractions of the cap, e.g. [0.8, 0.95]'),
  labels: z
    .record(z.string().min(1).max(64), z.string().max(256))
    .refine((l) => Object.keys(l).length <= 32, 'at most 32 labels'),
};
/** `settings` on POST: every field optional. */
const settingsSchema = z.strictObject({
  defaultStrategy: settingsFields.defaultStrategy.optional(),
  minTier: settingsFields.minTier.optional(),
  taperAt: settingsFields.taperAt.optional(),
  labels: settingsFields.labels.optional(),
});
/** `settings` on PATCH: merged into the current settings; a field set to null is removed. */
const settingsPatchSchema = z.strictObject({
  defaultStrategy: settingsFields.defaultStrategy.nullable().optional(),
  minTier: settingsFields.minTier.nullable().optional(),
  taperAt: settingsFields.taperAt.nullable().optional(),
  labels: settingsFields.labels.nullable().optional(),
});

const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  monthlyLimitUsd: usd.nullable().optional(),
  allowedModels: models.nullable().optional(),
  settings: settingsSchema.optional(),
});
const patchKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  monthlyLimitUsd: usd.nullable().optional(),
  allowedModels: models.nullable().optional(),
  disabled: z.boolean().optional(),
  settings: settingsPatchSchema.optional(),
});
const instant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
// Query strings carry text; a caller passing numbers directly (tests, other bindings) is fine too.
const hour = z
  .union([z.number(), z.string().regex(/^\d{1,2}$/, 'expected a whole hour, 0–23').transform(Number)])
  .pipe(z.number().int().min(0).max(23));
const timeZone = z.string().refine(isTimeZone, 'unknown time zone; use an IANA name such as "Europe/Paris" or "UTC"');
/** The filters every usage read takes. */
const usageFilters = {
  from: instant.optional(),
  to: instant.optional(),
  model: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  keyId: z.string().min(1).optional(),
  hourFrom: hour.optional(),
  hourTo: hour.optional(),
  tz: timeZone.optional(),
};
const usageQuerySchema = z.strictObject({
  ...usageFilters,
  groupBy: z.enum(USAGE_GROUPS).optional(),
  sort: z.enum(USAGE_SORTS).default('cost_desc'),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
const seriesQuerySchema = z.strictObject({
  ...usageFilters,
  bucket: z.enum(['day', 'hour']).default('day'),
  splitBy: z.enum(['model', 'provider', 'none']).default('none'),
});
const filterQuerySchema = z.strictObject(usageFilters);

/** Most buckets one cost trend answers; an hourly trend over more than about a year must use days. */
export const MAX_SERIES_BUCKETS = 10_000;
/** Weekday labels of the heatmap rows, Monday first. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

function parse<T>(schema: z.ZodType<T>, input: unknown, prefix?: string): T {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  const path = prefix === undefined ? i.path : [prefix, ...i.path];
  const param = formatParam(path) ?? (i.code === 'unrecognized_keys' ? i.keys[0] ?? null : null);
  throw invalidRequest(`${param ?? 'body'}: ${i.message}`, param);
}

/** A key's `settings.defaultStrategy` must name a strategy `auto` can use: registered, and not `fixed` (which needs a model). */
function checkStrategy(hub: TokenHub, settings: KeySettings, param: string): KeySettings {
  const name = settings.defaultStrategy;
  if (name !== undefined && (name.toLowerCase() === 'fixed' || hub.strategies.get(name) === undefined)) {
    const known = hub.strategies.strategyNames().filter((n) => n !== 'fixed');
    throw invalidRequest(`${param}: unknown strategy "${name}"; known: ${known.join(', ')}.`, param);
  }
  return settings;
}

/** Validates key settings as the admin API does (400 on a bad field or an unregistered strategy); for host-created keys too. */
export function parseKeySettings(hub: TokenHub, input: unknown): KeySettings {
  const s = parse(settingsSchema, input, 'settings');
  return checkStrategy(hub, dropUndefined(s), 'settings.defaultStrategy');
}

const dropUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const notFound = (id: string) =>
  new HubError(`No key with id "${id}".`, { status: 404, type: 'invalid_request_error', code: 'key_not_found', param: 'id' });

/** A key as the admin API shows it: never the hash, never the secret. */
function publicKey(r: KeyRecord, monthSpend: Micros | null) {
  return {
    id: r.id,
    name: r.name,
    monthlyLimitUsd: r.monthlyLimit === null ? null : microsToUsd(r.monthlyLimit),
    allowedModels: r.allowedModels,
    monthSpendUsd: monthSpend === null ? undefined : microsToUsd(monthSpend),
    disabled: r.disabled,
    settings: r.settings ?? {},
    createdAt: r.createdAt,
  };
}

const totalsUsd = (t: UsageTotals) => ({
  requests: t.requests,
  inputTokens: t.inputTokens,
  outputTokens: t.outputTokens,
  costUsd: microsToUsd(t.cost),
});

/** Parses filters shared by every usage read and checks that the range is not reversed. */
function usageFilter<T extends UsageQuery>(schema: z.ZodType<T>, query: unknown): T {
  const q = parse(schema, query);
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw invalidRequest('from must not be after to', 'from');
  return q;
}

/**
 * Every bucket label from the first to the last, gaps included, so a chart's x axis is even. The ends are the
 * query's range when given (in its zone), else the first and last bucket with data.
 */
function bucketLabels(points: readonly SeriesPoint[], bucket: 'day' | 'hour', q: UsageQuery): string[] {
  const unit = bucket === 'day' ? DAY_MS : HOUR_MS;
  const label = bucket === 'day' ? dayLabel : hourLabel;
  const parse = (b: string) => Math.floor(Date.parse(bucket === 'day' ? `${b}T00:00:00Z` : `${b}:00:00Z`) / unit);
  let first = q.from !== undefined ? Math.floor(localMs(q.from, q.tz) / unit) : points.length > 0 ? parse(points[0]!.bucket) : null;
  let last = q.to !== undefined ? Math.floor(localMs(q.to - 1, q.tz) / unit) : points.length > 0 ? parse(points.at(-1)!.bucket) : null;
  if (first === null || last === null) return [];
  // A range open at one end still reaches the data on that side.
  if (points.length > 0) {
    first = Math.min(first, parse(points[0]!.bucket));
    last = Math.max(last, parse(points.at(-1)!.bucket));
  }
  if (last - first + 1 > MAX_SERIES_BUCKETS) {
    throw invalidRequest(`That range has ${last - first + 1} ${bucket} buckets, more than ${MAX_SERIES_BUCKETS}; use bucket=day or a shorter range.`, 'bucket');
  }
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(label(n));
  return out;
}

/** Whether a bearer token matches the configured admin token, compared in constant time. */
export function adminTokenMatches(expected: string | undefined, authorization: string | undefined): boolean {
  const token = bearerToken(authorization);
  if (expected === undefined || token === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(token), digest(expected));
}

export function adminApi(hub: TokenHub) {
  const month = () => monthOf(hub.clock());
  /** A key's settled spend this month, once this instance's settles under way have landed (answers settle after they go out). */
  const monthSpend = async (keyId: string, m = month()) => {
    await hub.settled();
    return (await hub.storage.spend.ledger(keyId, m)).spent;
  };
  return {
    async createKey(body: unknown) {
      const b = parse(createKeySchema, body);
      const settings = b.settings === undefined ? {} : checkStrategy(hub, dropUndefined(b.settings), 'settings.defaultStrategy');
      const { record, secret } = await hub.keys.create({
        name: b.name,
        monthlyLimit: b.monthlyLimitUsd == null ? null : usdToMicros(b.monthlyLimitUsd),
        allowedModels: b.allowedModels ?? null,
        settings,
      });
      return { ...publicKey(record, null), monthSpendUsd: undefined, key: secret };
    },

    async listKeys() {
      const records = await hub.storage.keys.list();
      const m = month();
      const data = await Promise.all(records.map(async (r) => publicKey(r, await monthSpend(r.id, m))));
      return { data };
    },

    async getKey(id: string) {
      const r = await hub.storage.keys.get(id);
      if (r === null || r.revokedAt !== null) throw notFound(id);
      return publicKey(r, await monthSpend(r.id));
    },

    async patchKey(id: string, body: unknown) {
      const b = parse(patchKeySchema, body);
      const patch: KeyPatch = {};
      if (b.name !== undefined) patch.name = b.name;
      if (b.disabled !== undefined) patch.disabled = b.disabled;
      if (b.allowedModels !== undefined) patch.allowedModels = b.allowedModels;
      if (b.monthlyLimitUsd !== undefined) patch.monthlyLimit = b.monthlyLimitUsd === null ? null : usdToMicros(b.monthlyLimitUsd);
      if (b.settings !== undefined) {
        const current = await hub.storage.keys.get(id);
        if (current === null || current.revokedAt !== null) throw notFound(id);
        const merged: Record<string, unknown> = { ...current.settings };
        for (const [field, value] of Object.entries(b.settings)) {
          if (value === null) delete merged[field];
          else if (value !== undefined) merged[field] = value;
        }
        patch.settings = checkStrategy(hub, merged as KeySettings, 'settings.defaultStrategy');
      }
      const r = await hub.keys.update(id, patch);
      if (r === null) throw notFound(id);
      return publicKey(r, await monthSpend(r.id));
    },

    async revokeKey(id: string) {
      if (!(await hub.keys.revoke(id))) throw notFound(id);
      return { id, revoked: true };
    },

    async usage(query: Record<string, unknown>) {
      const q = usageFilter(usageQuerySchema, query);
      await hub.flushUsage();
      const agg = await hub.storage.usage.aggregate(q);
      return {
        groupBy: q.groupBy ?? null,
        tz: q.tz ?? 'UTC',
        rows: agg.rows.map((r) => ({ group: r.group, ...totalsUsd(r) })),
        totals: totalsUsd(agg.totals),
      };
    },

    /** Cost trend: one array per series, aligned with `buckets`; series by total cost, largest first. */
    async usageSeries(query: Record<string, unknown>) {
      const { bucket, splitBy, ...q } = usageFilter(seriesQuerySchema, query);
      const store = hub.storage.usage;
      await hub.flushUsage();
      const points = await store.series(q, splitBy === 'none' ? { bucket } : { bucket, splitBy });
      const buckets = bucketLabels(points, bucket, q);
      const index = new Map(buckets.map((b, i) => [b, i]));
      const empty = () => buckets.map(() => 0);
      type Line = { name: string; requests: number[]; inputTokens: number[]; outputTokens: number[]; cost: number[]; total: number };
      const lines = new Map<string, Line>();
      const all: Line = { name: 'total', requests: empty(), inputTokens: empty(), outputTokens: empty(), cost: empty(), total: 0 };
      for (const p of points) {
        const i = index.get(p.bucket)!;
        const name = p.split ?? 'total';
        let l = lines.get(name);
        if (l === undefined) lines.set(name, (l = { name, requests: empty(), inputTokens: empty(), outputTokens: empty(), cost: empty(), total: 0 }));
        for (const t of [l, all]) {
          t.requests[i]! += p.requests;
          t.inputTokens[i]! += p.inputTokens;
          t.outputTokens[i]! += p.outputTokens;
          t.cost[i]! += p.cost;
          t.total += p.cost;
        }
      }
      const usdLine = ({ name, requests, inputTokens, outputTokens, cost, total }: Line) =>
        ({ name, requests, inputTokens, outputTokens, costUsd: cost.map(microsToUsd), totalCostUsd: microsToUsd(total) });
      return {
        bucket,
        splitBy: splitBy === 'none' ? null : splitBy,
        tz: q.tz ?? 'UTC',
        buckets,
        series: [...lines.values()].sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1)).map(usdLine),
        totals: usdLine(all),
      };
    },

    /** Requests and cost per weekday (rows, Monday first) and hour of day (columns, 0–23). */
    async usageHeatmap(query: Record<string, unknown>) {
      const q = usageFilter(filterQuerySchema, query);
      const store = hub.storage.usage;
      await hub.flushUsage();
      const cells = await store.heatmap(q);
      const grid = () => WEEKDAYS.map(() => Array.from({ length: 24 }, () => 0));
      const requests = grid();
      const tokens = grid();
      const cost = grid();
      for (const c of cells) {
        requests[c.weekday]![c.hour] = c.requests;
        tokens[c.weekday]![c.hour] = c.inputTokens + c.outputTokens;
        cost[c.weekday]![c.hour] = c.cost;
      }
      return {
        tz: q.tz ?? 'UTC',
        weekdays: WEEKDAYS,
        requests,
        tokens,
        costUsd: cost.map((row) => row.map(microsToUsd)),
      };
    },

    /** Premium requests a cheaper tier could have served, the saving, and the saving per month at this rate. */
    async usageWaste(query: Record<string, unknown>) {
      const q = usageFilter(filterQuerySchema, query);
      const store = hub.storage.usage;
      await hub.flushUsage();
      const catalog = hub.pricing.models();
      const premium = premiumModels(catalog);
      const groups = premium.length === 0 ? [] : await store.wasteGroups(q, { models: premium });
      const w = wasteReport(groups, catalog, { from: q.from, to: q.to, now: hub.clock() });
      const sumUsd = (s: { requests: number; cost: number; saving: number }) =>
        ({ requests: s.requests, costUsd: microsToUsd(s.cost), savingUsd: microsToUsd(s.saving) });
      return {
        premiumModels: premium,
        periodDays: w.periodDays,
        estimatedMonthlySavingUsd: microsToUsd(w.estimatedMonthlySaving),
        totals: {
          premiumRequests: w.totals.premiumRequests,
          premiumCostUsd: microsToUsd(w.totals.premiumCost),
          wastedRequests: w.totals.wastedRequests,
          wastedCostUsd: microsToUsd(w.totals.wastedCost),
          alternativeCostUsd: microsToUsd(w.totals.alternativeCost),
          savingUsd: microsToUsd(w.totals.saving),
        },
        byModel: w.byModel.map((m) => ({ model: m.model, ...sumUsd(m) })),
        byKey: w.byKey.map((k) => ({ keyId: k.keyId, ...sumUsd(k) })),
        lines: w.lines.map((l) => ({
          model: l.model,
          keyId: l.keyId,
          alternative: l.alternative,
          requests: l.requests,
          inputTokens: l.inputTokens,
          outputTokens: l.outputTokens,
          costUsd: microsToUsd(l.cost),
          alternativeCostUsd: microsToUsd(l.alternativeCost),
          savingUsd: microsToUsd(l.saving),
        })),
      };
    },

    /** The catalog as the dashboard shows it: tier, prices per 1M tokens, context and features. */
    models() {
      return {
        data: hub.pricing.models().map((m) => ({ id: m.id, ...describeModel(hub, m) })),
      };
    },

    providers() {
      return {
        data: [...hub.providers.keys()].map((name) => hub.health.state(name)),
      };
    },
  };
}
