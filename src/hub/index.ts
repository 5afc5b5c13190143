// createTokenHub: the framework-free engine behind every binding. Stages call into it; it holds what is built once.
import type { Readable } from 'node:stream';
import { billedCost, billedUsage } from '../core/billing.js';
import { worstCaseCost, type Usage } from '../core/cost.js';
import { requestFeatures } from '../core/estimate.js';
import { HubError, spendLimitExceeded, storeUnavailable, toHubError } from '../core/errors.js';
import { ProviderHealth } from '../core/health.js';
import { formatUsd, type Micros } from '../core/money.js';
import { monthOf } from '../core/month.js';
import { defaultPricing } from '../core/pricing.js';
import { parseChatRequest } from '../core/request.js';
import { newRequestId } from '../core/request-id.js';
import { resolveRoute, type RoutingEnvironment } from '../core/route.js';
import { StrategyRegistry, type SpendSnapshot, type Strategy } from '../core/strategy.js';
import type { KeyRecord } from '../ports/keys.js';
import type { PricingSource } from '../ports/pricing.js';
import type { Storage } from '../ports/storage.js';
import type { UsageRecord } from '../ports/usage.js';
import type { Provider } from '../providers/types.js';
import { Cancellation } from '../transport/cancellation.js';
import { undiciTransport, type Transport } from '../transport/undici.js';
import { readJsonBody } from './body.js';
import { forwardRequest } from './forward.js';
import { KeyService } from './key-service.js';
import { parseHubOptions, type HubLogger, type HubOptions, type ParsedHubOptions } from './options.js';
import { Settler } from './settle.js';
import type { Forwarded, HubState } from './state.js';
import { UsageWriter } from './usage-writer.js';

const consoleLogger: HubLogger = {
  info: (m, f) => console.log(`[tokenhub] ${m}`, f ?? ''),
  warn: (m, f) => console.warn(`[tokenhub] ${m}`, f ?? ''),
  error: (m, f) => console.error(`[tokenhub] ${m}`, f ?? ''),
};

/** How an exchange ended, as the binding saw it. */
export interface ExchangeEnd {
  status: number;
  error: HubError | null;
}

/** What the usage record says of an exchange's end, and what it is charged. */
interface ExchangeOutcome {
  status: number;
  errorCode: string | null;
  usage: Usage;
  cost: Micros;
  latencyMs: number;
  ttfbMs: number | null;
}

/** The engine: everything built once per gateway, and the steps each binding calls per request. */
export class TokenHub {
  readonly options: ParsedHubOptions;
  readonly storage: Storage;
  readonly pricing: PricingSource;
  readonly strategies: StrategyRegistry;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly health: ProviderHealth;
  readonly keys: KeyService;
  readonly logger: HubLogger;
  readonly clock: () => number;
  private readonly transport: Transport;
  private readonly ownTransport: (Transport & { close(): Promise<void> }) | null;
  private readonly usage: UsageWriter;
  private readonly settler: Settler;
  private readonly env: RoutingEnvironment;
  private inFlight = 0;
  /** Exchanges settling and recording right now. */
  private readonly finishing = new Set<Promise<void>>();
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: HubOptions) {
    const o = (this.options = parseHubOptions(options));
    this.storage = o.storage;
    this.pricing = o.pricing ?? defaultPricing();
    this.clock = o.clock ?? Date.now;
    this.logger = o.logger ?? consoleLogger;
    this.strategies = new StrategyRegistry(o.defaultStrategy);
    for (const [name, s] of Object.entries(o.strategies)) this.strategies.register(name, s);
    for (const [alias, target] of Object.entries(o.aliases)) this.strategies.alias(alias, target);
    if (this.strategies.get(o.defaultStrategy) === undefined) {
      throw new TypeError(`createTokenHub: defaultStrategy "${o.defaultStrategy}" is not a registered strategy`);
    }
    this.providers = new Map(o.providers.map((p) => [p.name, p]));
    this.health = new ProviderHealth({ cooldownMs: o.cooldownMs, authCooldownMs: o.authCooldownMs, clock: this.clock });
    this.env = {
      configured: (p) => this.providers.has(p),
      coolingDown: (p) => this.health.coolingDown(p),
    };
    this.ownTransport = o.transport === undefined ? undiciTransport(o.timeouts) : null;
    this.transport = o.transport ?? this.ownTransport!;
    this.keys = new KeyService({ store: o.storage.keys, ttlMs: o.keyCacheTtlMs, size: o.keyCacheSize, clock: this.clock });
    this.usage = new UsageWriter(o.storage.usage, o.usageBatchSize, o.usageFlushMs, this.logger);
    this.settler = new Settler(o.storage.spend, this.logger);
  }

  /** Adds or replaces a routing strategy. */
  registerStrategy(name: string, strategy: Strategy): this {
    this.strategies.register(name, strategy);
    return this;
  }

  /** Makes `model: name` route with a strategy. */
  alias(name: string, strategyName: string): this {
    this.strategies.alias(name, strategyName);
    return this;
  }

  /** Fresh per-request state. */
  begin(): HubState {
    this.inFlight += 1;
    const startedAt = this.clock();
    return {
      requestId: newRequestId(startedAt),
      startedAt,
      key: null,
      request: null,
      features: null,
      route: null,
      reservation: null,
      remainingAfterReserve: null,
      warning: null,
      attempts: [],
      forwarded: null,
      abort: new Cancellation(),
      settlement: null,
    };
  }

  /** Stage 1: the key behind `Authorization`, or 401. */
  async authenticate(state: HubState, authorization: string | undefined): Promise<KeyRecord> {
    state.key = await this.keys.authenticate(authorization);
    return state.key;
  }

  /** Reads the body with the configured limit (413/400 on failure). */
  readBody(stream: Readable, contentLength: string | undefined): Promise<unknown> {
    return readJsonBody(stream, contentLength, this.options.maxBodyBytes);
  }

  /**
   * Stage: validate the body and choose candidates. Reads the key's month spend first only when the key
   * opted into spend-aware tapering (`settings.taperAt`) and has a cap; other keys cost no extra store call.
   */
  async route(state: HubState, body: unknown, header: (name: string) => string | undefined): Promise<void> {
    const key = requireKey(state);
    const request = parseChatRequest(body);
    const features = requestFeatures(request);
    state.request = request;
    state.features = features;
    let spend: SpendSnapshot | undefined;
    if (key.monthlyLimit !== null && (key.settings.taperAt?.length ?? 0) > 0) {
      try {
        const ledger = await this.storage.spend.ledger(key.id, monthOf(state.startedAt));
        spend = { spent: ledger.spent, limit: key.monthlyLimit };
      } catch {
        // Store down: route without tapering; reserve() then answers 503 or admits under failOpen.
      }
    }
    state.route = resolveRoute({ request, features, key, header, spend }, this.strategies, this.pricing, this.env, this.options.maxAttempts);
  }

  /** Stage: hold the worst case of every candidate against the key's month; 429 when it does not fit. */
  async reserve(state: HubState): Promise<void> {
    const key = requireKey(state);
    if (state.route === null || state.features === null) throw new Error('reserve() needs route() first');
    let amount = 0;
    for (const m of state.route.candidates) amount = Math.max(amount, worstCaseCost(m, state.features));
    const reservation = { requestId: state.requestId, keyId: key.id, month: monthOf(state.startedAt), amount: amount as Micros };
    let result;
    try {
      result = await this.storage.spend.reserve(reservation, key.monthlyLimit);
    } catch (err) {
      if (!this.options.failOpen) throw storeUnavailable(err);
      this.logger.warn('spend store unreachable; admitting request (failOpen)', { requestId: state.requestId, keyId: key.id });
      state.warning = 'spend store unreachable at reservation; admitted by failOpen';
      return;
    }
    const { ledger } = result;
    if (!result.ok) {
      const limit = key.monthlyLimit!;
      throw spendLimitExceeded(
        `Monthly spend limit of $${formatUsd(limit)} reached for this key: $${formatUsd(ledger.spent)} spent and ` +
          `$${formatUsd(ledger.reserved)} held by requests in flight; this request may cost up to $${formatUsd(amount)}.`,
      );
    }
    state.reservation = result.reservation;
    if (key.monthlyLimit !== null) {
      state.remainingAfterReserve = Math.max(0, key.monthlyLimit - ledger.spent - ledger.reserved) as Micros;
    }
  }

  /** Stage: send to the candidates, with fallback. A JSON answer is billed at once, for its response headers. */
  async forward(state: HubState): Promise<Forwarded> {
    if (state.route === null || state.request === null) throw new Error('forward() needs route() first');
    const f = (state.forwarded = await forwardRequest(
      { providers: this.providers, transport: this.transport, health: this.health, clock: this.clock },
      { request: state.request, candidates: state.route.candidates, requestId: state.requestId, attempts: state.attempts, signal: state.abort },
    ));
    if (f.kind === 'json') this.billAnswer(state, f);
    return f;
  }

  /** The `x-inferoute-*` headers known before the body is sent. */
  responseHeaders(state: HubState): Record<string, string> {
    const h: Record<string, string> = { 'x-inferoute-request-id': state.requestId };
    if (state.route !== null) h['x-inferoute-strategy'] = state.route.strategy;
    if (state.route?.reason != null) h['x-inferoute-reason'] = state.route.reason;
    const f = state.forwarded;
    if (f !== null) {
      h['x-inferoute-model'] = f.model.id;
      h['x-inferoute-provider'] = f.provider;
    }
    if (state.key?.monthlyLimit != null) {
      h['x-inferoute-spend-limit-usd'] = formatUsd(state.key.monthlyLimit);
      const remaining = state.settlement?.remaining ?? state.remainingAfterReserve;
      if (remaining !== null) h['x-inferoute-spend-remaining-usd'] = formatUsd(remaining);
    }
    if (state.settlement !== null && f?.kind === 'json') h['x-inferoute-cost-usd'] = formatUsd(state.settlement.cost);
    return h;
  }

  /**
   * Bills a JSON answer before it is sent: its cost, and the budget left once this request's hold gives way to it
   * (as of its reservation; requests settling meanwhile are not in it), for the response headers. The settle and the
   * usage record follow in `finish`, after the answer went out, as they do for a stream.
   */
  private billAnswer(state: HubState, f: Forwarded & { kind: 'json' }): void {
    if (state.features === null) return;
    const usage = billedUsage(f.model, state.features, { reported: f.usage, outputBytes: 0, completed: true });
    const cost = billedCost(f.model, usage) as Micros;
    const r = state.reservation;
    const remaining = r === null || state.remainingAfterReserve === null
      ? null
      : (Math.max(0, state.remainingAfterReserve + r.amount - cost) as Micros);
    state.settlement = { usage, cost, remaining };
  }

  /**
   * Stage: the exchange is over (for a stream: once it ends). Bills it (reported or estimated usage) unless `forward`
   * did, settles the reservation exactly once, and queues its usage record. Never throws: a store fault is retried
   * in the background. Admin reads wait for the settles under way (`flushUsage`), so they see every answered request.
   */
  async finish(state: HubState, end: ExchangeEnd): Promise<void> {
    try {
      if (state.key === null) return; // unauthenticated: nothing to bill or record
      const outcome = await this.outcomeOf(state, end);
      const recorded = this.settleAndRecord(state, state.key, outcome);
      this.finishing.add(recorded);
      await recorded.finally(() => this.finishing.delete(recorded));
    } catch (err) {
      this.logger.error('finishing an exchange failed', { requestId: state.requestId, error: String(err) });
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.drained !== null) this.drained();
    }
  }

  /** How the exchange ended and what it is billed; waits for a stream to end. */
  private async outcomeOf(state: HubState, end: ExchangeEnd): Promise<ExchangeOutcome> {
    const f = state.forwarded;
    let ttfbMs: number | null = null;
    let errorCode = end.error?.code ?? null;
    let billed = state.settlement;
    if (billed === null) {
      let observed = null;
      if (f?.kind === 'json') observed = { reported: f.usage, outputBytes: 0, completed: true };
      else if (f?.kind === 'stream') {
        const o = await f.outcome;
        observed = { reported: o.reported, outputBytes: o.outputBytes, completed: o.completed };
        ttfbMs = o.firstByteAt === null ? null : o.firstByteAt - state.startedAt;
        if (o.error !== null) errorCode = o.error.code;
        else if (o.clientLeft && !o.completed) errorCode = 'client_closed';
      }
      const usage = f !== null && observed !== null && state.features !== null
        ? billedUsage(f.model, state.features, observed)
        : { inputTokens: 0, outputTokens: 0, estimated: false };
      billed = state.settlement = { usage, cost: (f === null ? 0 : billedCost(f.model, usage)) as Micros, remaining: null };
    }
    const latencyMs = this.clock() - state.startedAt;
    if (f?.kind === 'json') ttfbMs = latencyMs;
    return { status: end.status, errorCode, usage: billed.usage, cost: billed.cost, latencyMs, ttfbMs };
  }

  private async settleAndRecord(state: HubState, key: KeyRecord, o: ExchangeOutcome): Promise<void> {
    if (state.reservation !== null) await this.settler.settle(state.reservation, o.cost);
    const f = state.forwarded;
    const record: UsageRecord = {
      id: state.requestId,
      time: state.startedAt,
      keyId: key.id,
      requestedModel: state.request?.model ?? 'unknown',
      model: f?.model.id ?? null,
      provider: f?.provider ?? null,
      strategy: state.route?.strategy ?? 'none',
      inputTokens: o.usage.inputTokens,
      outputTokens: o.usage.outputTokens,
      cost: o.cost,
      estimated: o.usage.estimated,
      latencyMs: o.latencyMs,
      ttfbMs: o.ttfbMs,
      status: o.status,
      streamed: state.request?.stream === true,
      errorCode: o.errorCode,
      attempts: state.attempts.length,
      providersTried: state.attempts.map((a) => a.provider),
      tier: state.route?.tier ?? null,
      reason: state.route?.reason ?? null,
      warning: state.warning,
      needsTools: state.features?.tools ?? false,
      needsImages: state.features?.images ?? false,
      needsJson: state.features?.json ?? false,
      contextTokens: state.features === null ? 0 : state.features.estimatedInputTokens + (state.features.requestedOutputTokens ?? 0),
    };
    this.usage.add(record);
  }

  /**
   * Waits for the exchanges that are finishing (settles, records) and writes the queued usage records now; the admin
   * API calls this so it reads every answered request.
   */
  async flushUsage(): Promise<void> {
    await this.settled();
    return this.usage.flush();
  }

  /** Waits for the settles of the exchanges that are finishing (JSON answers sent, streams ended). */
  async settled(): Promise<void> {
    if (this.finishing.size > 0) await Promise.all(this.finishing);
  }

  /**
   * Waits for in-flight exchanges (up to `timeoutMs`), flushes usage and settlements, closes the upstream pool.
   * Calling it again returns the same promise.
   */
  close(timeoutMs = 30_000): Promise<void> {
    return (this.closing ??= this.shutDown(timeoutMs));
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => (this.drained = r)),
        new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
      ]);
    }
    await this.settler.close();
    await this.usage.close().catch((err) => this.logger.error('usage flush at close failed', { error: String(err) }));
    await this.ownTransport?.close();
  }
}

function requireKey(state: HubState): KeyRecord {
  if (state.key === null) throw new Error('TokenHub stages need authKey() (or a host resolver) to run first');
  return state.key;
}

/** Builds the engine; options are validated here, once. */
export function createHubEngine(options: HubOptions): TokenHub {
  return new TokenHub(options);
}

export { toHubError };
