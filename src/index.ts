// The public barrel: named exports only.
export { createTokenHub, type TokenHubInstance } from './create.js';
export { TokenHub, type ExchangeEnd } from './hub/index.js';
export type { HubOptions, HubLogger, AdminAuthorizer } from './hub/options.js';
export type { HubState, Attempt, Forwarded, Settlement } from './hub/state.js';
export { hostIdentityKeys, type HostIdentityKeys, type HostIdentityKeysOptions, type HostKeyDefaults } from './hub/host-keys.js';

export { HubError, type OpenAIErrorBody } from './core/errors.js';
export { type Micros, usdToMicros, microsToUsd, formatUsd } from './core/money.js';
export { defineModel, DEFAULT_MODELS, type ModelEntry, type ModelEntryInput, type Tier } from './core/catalog.js';
export { defaultPricing, staticPricing, priceListFile } from './core/pricing.js';
export { chatRequestSchema, parseChatRequest, type ChatRequest, type ChatMessage } from './core/request.js';
export { requestFeatures, inputTokenUpperBound, type RequestFeatures } from './core/estimate.js';
export { costMicros, worstCaseCost, estimatedCost, type Usage } from './core/cost.js';
export { StrategyRegistry, costStrategy, fixedStrategy, type Strategy, type StrategyInput, type StrategyPick, type Candidate, type SpendSnapshot } from './core/strategy.js';
export { balancedStrategy, DEFAULT_POLICY, TIERS, TIER_HEADER, taperSteps, type BalancedPolicy, type BalancedContext, type SizeFloor } from './core/balanced.js';
export {
  taskFeatures, compileIntentTable, DEFAULT_INTENT_TABLE, type IntentTable, type IntentRule, type CodeSignal, type Intent, type BuiltinIntent,
  type TaskFeatures, type CompiledIntentTable,
} from './core/intent.js';
export { STRATEGY_HEADER, type Route, type RouteInput } from './core/route.js';
export { rules, type Rule, type UseRule, type NeverRule, type PreferRule, type RuleMatch, type ModelSet, type ValueMatch, type RulesOptions } from './core/rules.js';
export { ProviderHealth, type ProviderState } from './core/health.js';

export type { Awaitable } from './ports/awaitable.js';
export type { KeyRecord, KeyStore, KeyPatch, KeySettings } from './ports/keys.js';
export type { SpendStore, Reservation, ReserveResult, SettleResult, MonthLedger } from './ports/spend.js';
export type { UsageStore, UsageRecord, UsageQuery, UsageAggregate, UsageRow, UsageTotals, UsageGroup, UsageSort, UsageAnalytics, SeriesOptions, SeriesPoint, SeriesBucket, SeriesSplit, HeatCell, WasteGroup, WasteGroupOptions } from './ports/usage.js';
export { wasteReport, premiumModels, type WasteReport, type WasteLine } from './core/waste.js';
export type { Storage } from './ports/storage.js';
export type { PricingSource } from './ports/pricing.js';

export { openai, openAICompatible, type OpenAICompatibleOptions } from './providers/openai/index.js';
export { anthropic, type AnthropicOptions } from './providers/anthropic/index.js';
export { google, type GoogleOptions } from './providers/google/index.js';
export type { Provider, StreamTranslator, UpstreamRequest, ChatCompletion, ExchangeInfo, MappedResponse } from './providers/types.js';
export { undiciTransport, type Transport, type TransportTimeouts } from './transport/undici.js';
export { Cancellation } from './transport/cancellation.js';

export { memoryStorage, memoryKeyStore, memorySpendStore, memoryUsageStore } from './adapters/memory/index.js';
export { sqliteStorage, sqliteKeyStore, sqliteSpendStore, sqliteUsageStore, type SqliteStorage, type SqliteStorageOptions, type SqliteSpendOptions, type SqliteSpendStore } from './adapters/sqlite/index.js';
export { redisSpendStore, type RedisSpendStore, type RedisSpendOptions, type RedisConnection } from './adapters/redis/index.js';
export { postgresStorage, postgresKeyStore, postgresSpendStore, postgresUsageStore, type PostgresStorage, type PostgresHandle, type PostgresSpendStore, type PostgresConnection, type PostgresOptions } from './adapters/postgres/index.js';
