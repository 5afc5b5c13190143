// The typed namespace stages share on a Koa context: `ctx.state.tokenhub`.
import type { Context, Middleware } from 'koa';
import type { TokenHub } from '../hub/index.js';
import type { HubState } from '../hub/state.js';

/** Koa state with TokenHub's namespace; hosts add their own fields beside it. */
export interface HubKoaState {
  tokenhub?: HubState;
  [k: string]: unknown;
}

export type HubMiddleware = Middleware<HubKoaState>;

/** The request's TokenHub state, created on first use so stages compose in any order a host needs. */
export function hubState(ctx: Context | { state: HubKoaState }, hub: TokenHub): HubState {
  const s = ctx.state as HubKoaState;
  return (s.tokenhub ??= hub.begin());
}
