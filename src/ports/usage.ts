// The usage port: one record per request, and the aggregates the admin API and dashboard read.
import type { Micros } from '../core/money.js';
import type { Awaitable } from './awaitable.js';

/** One request, success or failure. Never holds prompt or completion text. */
export interface UsageRecord {
  /** The gateway's request id. */
  id: string;
  /** Epoch milliseconds when the request arrived. */
  time: number;
  keyId: string;
  requestedModel: string;
  /** The model that served it, or null when none did. */
  model: string | null;
  provider: string | null;
  strategy: string;
  inputTokens: number;
  outputTokens: number;
  cost: Micros;
  /** True when token counts were estimated because the provider reported none. */
  estimated: boolean;
  latencyMs: number;
  /** Milliseconds to the first byte sent to the client; null when nothing was sent. */
  ttfbMs: number | null;
  /** HTTP status answered to the client. */
  status: number;
  streamed: boolean;
  errorCode: string | null;
  /** Upstream attempts made, fallbacks included. */
  attempts: number;
  /** Providers tried in order, e.g. `["google","openai"]`. */
  providersTried: string[];
  /** Routing tier and the reason for the pick, when a strategy gave one. */
  tier: string | null;
  reason: string | null;
  /** A note for operators, e.g. that the spend store was down and the request was let through. */
  warning: string | null;
  /** What the request needed, so the dashboard can find a cheaper model that would have served it. */
  needsTools: boolean;
  needsImages: boolean;
  needsJson: boolean;
  /** Estimated input tokens plus requested output: the context a model had to hold. */
  contextTokens: number;
}

export const USAGE_GROUPS = ['model', 'provider', 'key', 'day', 'hour', 'hourOfDay'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];
export const USAGE_SORTS = ['cost_desc', 'cost_asc', 'requests_desc', 'tokens_desc', 'group_asc'] as const;
export type UsageSort = (typeof USAGE_SORTS)[number];

/** Filters and grouping for aggregates. Times are epoch ms, `from` inclusive, `to` exclusive. */
export interface UsageQuery {
  from?: number;
  to?: number;
  model?: string;
  provider?: string;
  keyId?: string;
  /**
   * Hour-of-day window, 0–23 inclusive, in `tz`: only records whose local hour lies in it.
   * `hourFrom > hourTo` wraps past midnight (22–3 is 22:00–03:59). One bound alone means the other is 0 or 23.
   */
  hourFrom?: number;
  hourTo?: number;
  /** IANA time zone for the hour window and the day/hour/hour-of-day/weekday buckets. Default UTC. */
  tz?: string;
  groupBy?: UsageGroup;
  sort?: UsageSort;
  /** Most rows returned. Default 1,000. */
  limit?: number;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cost: Micros;
}

export interface UsageRow extends UsageTotals {
  /** The group's value: a model id, provider, key id, `YYYY-MM-DD`, `YYYY-MM-DDTHH`, or `0`–`23`. */
  group: string;
}

export interface UsageAggregate {
  rows: UsageRow[];
  totals: UsageTotals;
}

/** Time buckets of a cost trend. */
export type SeriesBucket = 'day' | 'hour';
/** What a cost trend is split by; none gives one series. */
export type SeriesSplit = 'model' | 'provider';

export interface SeriesOptions {
  bucket: SeriesBucket;
  splitBy?: SeriesSplit;
}

/** One bucket of a cost trend (of one split value, when split). */
export interface SeriesPoint extends UsageTotals {
  /** `YYYY-MM-DD` or `YYYY-MM-DDTHH`, local to the query's `tz`. */
  bucket: string;
  /** The model or provider; null when not split. Requests no model served count as `none`. */
  split: string | null;
}

/** One cell of the hour-of-day × weekday matrix; cells without requests are left out. */
export interface HeatCell extends UsageTotals {
  /** 0 = Monday … 6 = Sunday, in the query's `tz`. */
  weekday: number;
  /** 0–23 in the query's `tz`. */
  hour: number;
}

export interface WasteGroupOptions {
  /** Only requests served by these models (the premium tier). Default: every served model. */
  models?: readonly string[];
}

/**
 * Requests of one served model and key that needed the same features; the input of the waste
 * computation (src/core/waste.ts). Requests no model served are not part of any group.
 */
export interface WasteGroup extends UsageTotals {
  model: string;
  keyId: string;
  needsTools: boolean;
  needsImages: boolean;
  needsJson: boolean;
  /** The largest context one request of the group needed: an alternative must hold it. */
  maxContextTokens: number;
  /** Epoch ms of the group's first and last request. */
  firstTime: number;
  lastTime: number;
}

/**
 * The dashboard's reads. Each runs as one aggregation in the store (SQL on SQLite and PostgreSQL);
 * none loads records into memory. Every method honours the filters of `UsageQuery`
 * (range, model, provider, key, hour window, tz); `groupBy`, `sort` and `limit` are ignored.
 */
export interface UsageAnalytics {
  /** Cost trend: totals per time bucket (and split value), ordered by bucket then split. Empty buckets are left out. */
  series(query: UsageQuery, options: SeriesOptions): Awaitable<SeriesPoint[]>;
  /** Totals per (weekday, hour of day), ordered by weekday then hour. */
  heatmap(query: UsageQuery): Awaitable<HeatCell[]>;
  /** Totals per (model, key, needsTools, needsImages, needsJson), ordered by those fields. */
  wasteGroups(query: UsageQuery, options?: WasteGroupOptions): Awaitable<WasteGroup[]>;
}

/** Usage records. Writes are durable when the returned promise resolves; aggregation runs in the store. */
export interface UsageStore extends UsageAnalytics {
  /** Stores records; a record whose id is already stored is ignored, so retries never duplicate. */
  insert(records: readonly UsageRecord[]): Awaitable<void>;
  aggregate(query: UsageQuery): Awaitable<UsageAggregate>;
  /** Records by id, for tests and audits. */
  get(id: string): Awaitable<UsageRecord | null>;
}
