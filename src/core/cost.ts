// Request cost in integer micro-USD from token counts and catalog prices.
import type { ModelEntry } from './catalog.js';
import { expectedOutputTokens, inputTokenUpperBound, outputTokenCeiling, type RequestFeatures } from './estimate.js';
import type { Micros } from './money.js';

/** Token counts of one exchange; `estimated` marks counts the provider did not report. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
}

/** tokens × price, rounded up to the next whole micro-USD so a request is never charged less than it cost. */
export function costMicros(model: ModelEntry, inputTokens: number, outputTokens: number): Micros {
  const picoish = inputTokens * model.inputMicrosPerMTok + outputTokens * model.outputMicrosPerMTok;
  return Math.ceil(picoish / 1_000_000) as Micros;
}

/** The estimated cost used to rank candidates: estimated input + expected output. */
export function estimatedCost(model: ModelEntry, f: RequestFeatures): Micros {
  return costMicros(model, f.estimatedInputTokens, expectedOutputTokens(f, model));
}

/** The worst case a request can cost on `model`: the reservation amount. */
export function worstCaseCost(model: ModelEntry, f: RequestFeatures): Micros {
  return costMicros(model, inputTokenUpperBound(f, model), outputTokenCeiling(f, model));
}
