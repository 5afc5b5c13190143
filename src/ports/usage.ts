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

/** Usage records. Writes are durable when the returned promise resolves; aggregation runs in the store. */
export interface UsageStore {
  /** Stores records; a record whose id is already stored is ignored, so retries never duplicate. */
  insert(records: readonly UsageRecord[]): Awaitable<void>;
  aggregate(query: UsageQuery): Awaitable<UsageAggregate>;
  /** Records by id, for tests and audits. */
  get(id: string): Awaitable<UsageRecord | null>;
}
