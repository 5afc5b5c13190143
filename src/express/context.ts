// The typed namespace Express stages share on a response: `res.locals.tokenhub`, and the engine behind a hub.
import type { Response } from 'express';
import { endExchange } from '../hub/binding.js';
import type { TokenHub } from '../hub/index.js';
import type { HubState } from '../hub/state.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** TokenHub's per-request state; set by the first stage that runs. */
      tokenhub?: HubState;
    }
  }
}

/** The engine, or anything that carries one (what `createTokenHub()` returns). */
export type HubLike = TokenHub | { readonly engine: TokenHub };

/** The engine behind a hub. */
export function engineOf(hub: HubLike): TokenHub {
  return 'engine' in hub ? hub.engine : hub;
}

/**
 * The request's TokenHub state, created on first use so stages compose in any order a host needs.
 * When a host answers in the middle of the pipeline (its own 403, say), the exchange still ends once
 * the response is complete; a client that leaves early is ended by the stage or error handler it aborts.
 */
export function hubState(res: Response, hub: TokenHub): HubState {
  let state = res.locals.tokenhub;
  if (state === undefined) {
    const created = (state = res.locals.tokenhub = hub.begin());
    res.once('close', () => {
      if (res.writableFinished) void endExchange(hub, created, { status: res.statusCode, error: null });
    });
  }
  return state;
}
