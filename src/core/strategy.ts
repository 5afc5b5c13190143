// Strategies pick ordered candidate models; one small registry that a host extends in code.
import { balancedStrategy } from './balanced.js';
import type { ModelEntry } from './catalog.js';
import type { RequestFeatures } from './estimate.js';
import type { Micros } from './money.js';
import type { ChatRequest } from './request.js';
import type { KeyRecord } from '../ports/keys.js';

/** An eligible model with this request's estimated cost on it. */
export interface Candidate {
  model: ModelEntry;
  estimatedCost: Micros;
}

/** A key's month spend when routing, for strategies that taper near a cap; `limit` null means uncapped. */
export interface SpendSnapshot {
  spent: Micros;
  limit: Micros | null;
}

/** What a strategy sees. `eligible` is every model that can satisfy the request now, cheapest first. */
export interface StrategyInput {
  request: ChatRequest;
  features: RequestFeatures;
  /** The `model` the client sent (an id, an alias, or `auto`). */
  requestedModel: string;
  eligible: readonly Candidate[];
  key: KeyRecord;
  /** A request header, lower-cased name; undefined when absent. */
  header(name: string): string | undefined;
  /** The key's settled spend this month, when the engine looked it up (only for keys that taper). */
  spend?: SpendSnapshot;
}

/** A strategy's answer: candidates in the order to try them, and why. */
export interface StrategyPick {
  candidates: readonly ModelEntry[];
  tier?: string;
  reason?: string;
}

/** Picks candidates for a request. Pure; an empty list means nothing fits. */
export type Strategy = (input: StrategyInput) => StrategyPick;

/** `cost`: the cheapest eligible model first, the next cheapest as fallbacks. */
export const costStrategy: Strategy = ({ eligible }) => ({
  candidates: eligible.map((c) => c.model),
  reason: eligible.length > 0 ? `cost: cheapest-eligible=${eligible[0]!.model.id}` : 'cost: nothing eligible',
});

/** `fixed`: exactly the model the client named, if it is eligible. */
export const fixedStrategy: Strategy = ({ eligible, requestedModel }) => {
  const hit = eligible.find((c) => c.model.id === requestedModel);
  return { candidates: hit === undefined ? [] : [hit.model], reason: `fixed: ${requestedModel}` };
};

/**
 * Named strategies and model aliases. Built-in: strategies `fixed`, `cost` and `balanced`;
 * aliases `economy` → `cost` and `auto` → the default strategy (default `balanced`).
 */
export class StrategyRegistry {
  private readonly strategies = new Map<string, Strategy>();
  private readonly aliases = new Map<string, string>();
  /** The strategy `auto` uses when no header names one. */
  defaultStrategy: string;

  constructor(defaultStrategy = 'balanced') {
    this.register('fixed', fixedStrategy);
    this.register('cost', costStrategy);
    this.register('balanced', balancedStrategy());
    this.alias('economy', 'cost');
    this.defaultStrategy = defaultStrategy;
  }

  /** Adds or replaces a strategy. Names are case-insensitive. */
  register(name: string, strategy: Strategy): this {
    this.strategies.set(name.toLowerCase(), strategy);
    return this;
  }

  /** Makes `model: alias` route with the named strategy. */
  alias(alias: string, strategyName: string): this {
    if (alias.includes('/')) throw new Error(`alias "${alias}" must not contain "/": that is how model ids look`);
    this.aliases.set(alias, strategyName.toLowerCase());
    return this;
  }

  get(name: string): Strategy | undefined {
    return this.strategies.get(name.toLowerCase());
  }

  /** The strategy an alias routes with; `auto` follows the current default. */
  aliasTarget(model: string): string | undefined {
    if (model === 'auto') return this.defaultStrategy;
    return this.aliases.get(model);
  }

  /** Alias names, `auto` included, for `GET /v1/models`. */
  aliasNames(): string[] {
    return ['auto', ...this.aliases.keys()];
  }

  strategyNames(): string[] {
    return [...this.strategies.keys()];
  }
}
