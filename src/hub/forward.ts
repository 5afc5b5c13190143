// Sends a request to its candidates in order, falling back on provider faults before anything reached the client.
import type { ModelEntry } from '../core/catalog.js';
import { clientClosed, HubError, noProviderAvailable, upstreamError, upstreamTimeout } from '../core/errors.js';
import type { FailureKind, ProviderHealth } from '../core/health.js';
import type { ChatRequest } from '../core/request.js';
import type { ExchangeInfo, Provider } from '../providers/types.js';
import { relayStream } from '../stream/relay.js';
import type { Cancellation } from '../transport/cancellation.js';
import { TransportError, type Transport } from '../transport/undici.js';
import type { Attempt, Forwarded } from './state.js';

export interface ForwardDeps {
  providers: ReadonlyMap<string, Provider>;
  transport: Transport;
  health: ProviderHealth;
  clock: () => number;
}

export interface ForwardInput {
  request: ChatRequest;
  candidates: readonly ModelEntry[];
  requestId: string;
  /** Filled in as attempts are made, so a failure still has them. */
  attempts: Attempt[];
  signal: Cancellation;
}

/** What a provider's error status means for this request. */
export function classifyStatus(status: number): { kind: 'retry'; failure: FailureKind } | { kind: 'auth' } | { kind: 'client' } {
  if (status === 401 || status === 403) return { kind: 'auth' };
  if (status === 408) return { kind: 'retry', failure: 'timeout' };
  if (status === 429) return { kind: 'retry', failure: 'rate_limited' };
  if (status >= 500) return { kind: 'retry', failure: 'server_error' }; // Anthropic's 529 included
  return { kind: 'client' };
}

/** Forwards to the first candidate that answers; throws the SPEC's 4xx/502/503/504 when none does. */
export async function forwardRequest(deps: ForwardDeps, input: ForwardInput): Promise<Forwarded> {
  const { request, candidates, attempts, signal } = input;
  const stream = request.stream === true;
  const info = (model: ModelEntry): ExchangeInfo => ({
    id: `chatcmpl-${input.requestId}`,
    created: Math.floor(deps.clock() / 1000),
    model: model.id,
  });
  let lastFailure: HubError | null = null;
  // Providers this request could not reach at all; their other models would only fail the same way, slower.
  const unreachable = new Set<string>();

  for (const model of candidates) {
    const provider = deps.providers.get(model.provider);
    if (provider === undefined || unreachable.has(provider.name)) continue;
    const upstream = provider.buildRequest(request, model, stream);
    const attempt: Attempt = { provider: provider.name, model: model.id, outcome: 'ok', status: null };
    attempts.push(attempt);
    let res;
    try {
      res = await deps.transport(upstream, signal);
    } catch (err) {
      const e = err instanceof TransportError ? err : new TransportError('upstream failed', 'connection', { cause: err });
      if (e.kind === 'aborted') throw clientClosed();
      attempt.outcome = e.kind;
      unreachable.add(provider.name);
      deps.health.fail(provider.name, e.kind);
      lastFailure = e.kind === 'timeout'
        ? upstreamTimeout(`${model.id} did not answer in time.`)
        : upstreamError(`Could not reach the provider of ${model.id}.`);
      continue;
    }
    attempt.status = res.status;

    if (res.status >= 400) {
      const text = await res.body.text().catch(() => '');
      const message = provider.errorMessage(res.status, text);
      const c = classifyStatus(provider.errorStatus?.(res.status, text) ?? res.status);
      if (c.kind === 'client') {
        attempt.outcome = 'rejected';
        // The provider's own verdict on the request: pass it through, never retry it elsewhere.
        throw new HubError(message, { status: res.status, type: 'invalid_request_error', code: 'upstream_rejected' });
      }
      if (c.kind === 'auth') {
        attempt.outcome = 'auth';
        deps.health.fail(provider.name, 'auth');
        throw upstreamError(`The provider of ${model.id} refused the gateway's credentials.`);
      }
      attempt.outcome = c.failure;
      deps.health.fail(provider.name, c.failure);
      lastFailure = upstreamError(`The provider of ${model.id} failed: ${message}`);
      continue;
    }

    if (!stream) {
      let body: unknown;
      try {
        body = await res.body.json();
      } catch (err) {
        if (signal.aborted) throw clientClosed();
        const kind = err instanceof Error && /timeout/i.test(err.name + err.message) ? 'timeout' : 'connection';
        attempt.outcome = kind;
        deps.health.fail(provider.name, kind);
        lastFailure = kind === 'timeout' ? upstreamTimeout(`${model.id} stopped answering.`) : upstreamError(`The provider of ${model.id} sent an unreadable answer.`);
        continue;
      }
      deps.health.succeed(provider.name);
      const mapped = provider.parseResponse(body, info(model));
      return { kind: 'json', model, provider: provider.name, completion: mapped.completion, usage: mapped.usage };
    }

    deps.health.succeed(provider.name);
    const translator = provider.streamTranslator(info(model), request.stream_options?.include_usage === true);
    const { frames, outcome } = relayStream(res.body, translator, { signal, clock: deps.clock });
    return { kind: 'stream', model, provider: provider.name, frames, outcome };
  }

  throw lastFailure ?? noProviderAvailable('No configured, healthy provider can serve this request.');
}
