// The per-request state every stage reads and writes: `ctx.state.tokenhub` in Koa, `res.locals.tokenhub` in Express.
import type { ModelEntry } from '../core/catalog.js';
import type { Usage } from '../core/cost.js';
import type { RequestFeatures } from '../core/estimate.js';
import type { Micros } from '../core/money.js';
import type { ChatRequest } from '../core/request.js';
import type { Route } from '../core/route.js';
import type { KeyRecord } from '../ports/keys.js';
import type { Reservation } from '../ports/spend.js';
import type { ChatCompletion } from '../providers/types.js';
import type { Frames, StreamOutcome } from '../stream/relay.js';
import type { Cancellation } from '../transport/cancellation.js';

/** One upstream try. */
export interface Attempt {
  provider: string;
  model: string;
  /** `ok`, or why it failed: connection, timeout, rate_limited, server_error, auth, rejected (provider 4xx). */
  outcome: 'ok' | 'connection' | 'timeout' | 'rate_limited' | 'server_error' | 'auth' | 'rejected';
  status: number | null;
}

/** What the forwarder produced: a whole JSON answer, or a stream to relay. */
export type Forwarded =
  | { kind: 'json'; model: ModelEntry; provider: string; completion: ChatCompletion; usage: Usage | null }
  | {
      kind: 'stream';
      model: ModelEntry;
      provider: string;
      frames: AsyncGenerator<Frames, void, undefined>;
      outcome: Promise<StreamOutcome>;
    };

/** What the exchange is billed: known when a JSON answer arrives, when the stream ends for a stream. */
export interface Settlement {
  usage: Usage;
  cost: Micros;
  /**
   * A JSON answer's capped key: the month budget left once this request's hold gives way to its cost, as of its
   * reservation (sent in `x-inferoute-spend-remaining-usd`); null otherwise.
   */
  remaining: Micros | null;
}

export interface HubState {
  /** The gateway's own request id; names the reservation and the usage record. */
  requestId: string;
  /** Epoch ms the request arrived. */
  startedAt: number;
  key: KeyRecord | null;
  request: ChatRequest | null;
  features: RequestFeatures | null;
  route: Route | null;
  reservation: Reservation | null;
  /** Month budget left after this request's reservation; null for uncapped keys. */
  remainingAfterReserve: Micros | null;
  /** Set when the request went through despite a problem (e.g. fail-open on a dead spend store). */
  warning: string | null;
  attempts: Attempt[];
  forwarded: Forwarded | null;
  /** Aborted when the client disconnects; cancels the upstream request. */
  abort: Cancellation;
  settlement: Settlement | null;
}
