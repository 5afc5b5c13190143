// The admin API as framework-free handlers: validated input in, JSON-ready answers out.
import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { HubError, invalidRequest } from '../core/errors.js';
import { formatParam } from '../core/request.js';
import { microsToUsd, usdToMicros, type Micros } from '../core/money.js';
import { monthOf } from '../core/month.js';
import type { KeyPatch, KeyRecord, KeySettings } from '../ports/keys.js';
import { USAGE_GROUPS, USAGE_SORTS, type UsageTotals } from '../ports/usage.js';
import type { TokenHub } from './index.js';

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
const usageQuerySchema = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  model: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  keyId: z.string().min(1).optional(),
  groupBy: z.enum(USAGE_GROUPS).optional(),
  sort: z.enum(USAGE_SORTS).default('cost_desc'),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

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

/** Whether a bearer token matches the configured admin token, compared in constant time. */
export function adminTokenMatches(expected: string | undefined, authorization: string | undefined): boolean {
  if (expected === undefined || authorization === undefined) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(expected));
}

export function adminApi(hub: TokenHub) {
  const month = () => monthOf(hub.clock());
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
      const data = await Promise.all(
        records.map(async (r) => publicKey(r, (await hub.storage.spend.ledger(r.id, m)).spent)),
      );
      return { data };
    },

    async getKey(id: string) {
      const r = await hub.storage.keys.get(id);
      if (r === null || r.revokedAt !== null) throw notFound(id);
      return publicKey(r, (await hub.storage.spend.ledger(r.id, month())).spent);
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
      return publicKey(r, (await hub.storage.spend.ledger(r.id, month())).spent);
    },

    async revokeKey(id: string) {
      if (!(await hub.keys.revoke(id))) throw notFound(id);
      return { id, revoked: true };
    },

    async usage(query: Record<string, unknown>) {
      const q = parse(usageQuerySchema, query);
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw invalidRequest('from must not be after to', 'from');
      await hub.flushUsage();
      const agg = await hub.storage.usage.aggregate(q);
      return {
        groupBy: q.groupBy ?? null,
        rows: agg.rows.map((r) => ({ group: r.group, ...totalsUsd(r) })),
        totals: totalsUsd(agg.totals),
      };
    },

    providers() {
      return {
        data: [...hub.providers.keys()].map((name) => hub.health.state(name)),
      };
    },
  };
}
