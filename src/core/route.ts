// From a request to ordered candidates: strategy choice, eligibility, and the error when nothing fits.
import type { ModelEntry } from './catalog.js';
import { estimatedCost } from './cost.js';
import type { RequestFeatures } from './estimate.js';
import { HubError, invalidRequest, modelNotAllowed, modelNotFound, noProviderAvailable } from './errors.js';
import type { ChatRequest } from './request.js';
import type { Candidate, SpendSnapshot, StrategyRegistry } from './strategy.js';
import type { KeyRecord } from '../ports/keys.js';
import type { PricingSource } from '../ports/pricing.js';

/** Why a model cannot serve a request; null when it can. */
export type Ineligibility = 'context' | 'tools' | 'images' | 'json' | 'streaming' | 'provider' | 'cooldown' | 'key';

/** The live facts eligibility depends on, besides the request. */
export interface RoutingEnvironment {
  /** Whether a provider of that name is configured. */
  configured(provider: string): boolean;
  coolingDown(provider: string): boolean;
}

/** Whether the key's allow-list admits a model (null allows everything). */
export function keyAllows(key: KeyRecord, modelId: string): boolean {
  return key.allowedModels === null || key.allowedModels.includes(modelId);
}

/** The first reason `model` cannot serve the request, in the order a user can act on it. */
export function ineligibility(model: ModelEntry, f: RequestFeatures, key: KeyRecord, env: RoutingEnvironment): Ineligibility | null {
  if (!keyAllows(key, model.id)) return 'key';
  if (f.tools && !model.supportsTools) return 'tools';
  if (f.images && !model.supportsImages) return 'images';
  if (f.json && !model.supportsJson) return 'json';
  if (f.stream && !model.supportsStreaming) return 'streaming';
  if (f.estimatedInputTokens + (f.requestedOutputTokens ?? 0) > model.contextWindow) return 'context';
  if (!env.configured(model.provider)) return 'provider';
  if (env.coolingDown(model.provider)) return 'cooldown';
  return null;
}

/** The outcome of routing: what to try, in order, and how it was chosen. */
export interface Route {
  strategy: string;
  candidates: readonly ModelEntry[];
  tier: string | null;
  reason: string | null;
}

export interface RouteInput {
  request: ChatRequest;
  features: RequestFeatures;
  key: KeyRecord;
  header(name: string): string | undefined;
  /** The key's month spend, passed to the strategy; the engine fills it only for keys with `settings.taperAt`. */
  spend?: SpendSnapshot;
}

/** The request header that names a strategy. */
export const STRATEGY_HEADER = 'x-inferoute-strategy';

function explain(reason: Ineligibility, model: string): HubError {
  switch (reason) {
    case 'key': return modelNotAllowed(model);
    case 'context': return invalidRequest(`The request does not fit the context window of ${model}.`, 'messages', 'context_length_exceeded');
    case 'tools': return invalidRequest(`${model} does not support tools.`, 'tools', 'unsupported_feature');
    case 'images': return invalidRequest(`${model} does not accept images.`, 'messages', 'unsupported_feature');
    case 'json': return invalidRequest(`${model} does not support JSON mode.`, 'response_format', 'unsupported_feature');
    case 'streaming': return invalidRequest(`${model} does not support streaming.`, 'stream', 'unsupported_feature');
    case 'provider': return noProviderAvailable(`The provider of ${model} is not configured on this gateway.`);
    case 'cooldown': return noProviderAvailable(`The provider of ${model} is failing and cooling down; try again shortly or use another model.`);
  }
}

/**
 * The key's own strategy for `model: "auto"` (`settings.defaultStrategy`), when it names a registered one.
 * A name unregistered since it was set falls back to the gateway default rather than failing the key's requests.
 */
export function keyDefaultStrategy(key: KeyRecord, registry: StrategyRegistry): string | undefined {
  const name = key.settings?.defaultStrategy?.toLowerCase();
  return name !== undefined && name !== 'fixed' && registry.get(name) !== undefined ? name : undefined;
}

/**
 * Resolves the strategy and candidates for a request, or throws the SPEC's error
 * (400 bad strategy, 404 unknown model, 403 not allowed, 400 nothing can take it, 503 no provider).
 */
export function resolveRoute(
  input: RouteInput,
  registry: StrategyRegistry,
  pricing: PricingSource,
  env: RoutingEnvironment,
  maxCandidates: number,
): Route {
  const { request, features, key } = input;
  const requested = request.model;
  const headerStrategy = input.header(STRATEGY_HEADER)?.trim().toLowerCase() || undefined;
  let strategyName: string;
  if (headerStrategy !== undefined) {
    if (registry.get(headerStrategy) === undefined) {
      throw invalidRequest(
        `Unknown strategy "${headerStrategy}" in X-Inferoute-Strategy; known: ${registry.strategyNames().join(', ')}.`,
        'X-Inferoute-Strategy',
      );
    }
    strategyName = headerStrategy;
  } else {
    const target = requested === 'auto' ? keyDefaultStrategy(key, registry) ?? registry.aliasTarget(requested) : registry.aliasTarget(requested);
    if (target !== undefined) strategyName = target;
    else if (pricing.get(requested) !== undefined) strategyName = 'fixed';
    else throw modelNotFound(requested);
  }
  const strategy = registry.get(strategyName);
  if (strategy === undefined) throw new Error(`alias target strategy "${strategyName}" is not registered`);

  if (strategyName === 'fixed') {
    // `X-Inferoute-Strategy: fixed` with an alias names no model to fix on.
    const model = pricing.get(requested);
    if (model === undefined) throw modelNotFound(requested);
    const why = ineligibility(model, features, key, env);
    if (why !== null) throw explain(why, model.id);
  }

  const eligible: Candidate[] = [];
  const reasons = new Map<Ineligibility, string>();
  for (const model of pricing.models()) {
    const why = ineligibility(model, features, key, env);
    if (why === null) eligible.push({ model, estimatedCost: estimatedCost(model, features) });
    else if (!reasons.has(why)) reasons.set(why, model.id);
  }
  // Stable sort: equal prices keep catalog order.
  eligible.sort((a, b) => a.estimatedCost - b.estimatedCost);

  const pick = strategy({ request, features, requestedModel: requested, eligible, key, header: input.header, spend: input.spend });
  if (pick.candidates.length === 0) {
    if (eligible.length === 0 && reasons.size === 1 && reasons.has('key')) throw modelNotAllowed(requested);
    for (const r of ['cooldown', 'provider'] as const) {
      if (reasons.has(r)) throw noProviderAvailable(`No configured, healthy provider can serve this request (strategy ${strategyName}).`);
    }
    const first = [...reasons.entries()].find(([r]) => r !== 'key');
    if (first !== undefined) throw explain(first[0], `any model routable by ${strategyName}`);
    throw noProviderAvailable(`Strategy ${strategyName} found no model for this request.`);
  }
  return {
    strategy: strategyName,
    candidates: pick.candidates.slice(0, Math.max(1, maxCandidates)),
    tier: pick.tier ?? null,
    reason: pick.reason ?? null,
  };
}
