// What a finished exchange is charged: reported usage where the provider gave it, a bounded estimate where not.
import type { ModelEntry } from './catalog.js';
import { costMicros, type Usage } from './cost.js';
import { estimateTokensFromBytes, inputTokenUpperBound, outputTokenCeiling, type RequestFeatures } from './estimate.js';
import type { Micros } from './money.js';

/** What the gateway saw of an exchange that reached a provider. */
export interface Observed {
  /** Usage the provider reported (possibly partial on a cut stream), or null. */
  reported: Usage | null;
  /** Bytes of generated output seen. */
  outputBytes: number;
  /** True when the provider finished normally. */
  completed: boolean;
}

/**
 * Usage to bill. A complete exchange with reported usage is billed as reported; otherwise unknown
 * counts are estimated (input from the request, output from the bytes seen), never zero, and kept
 * within the request's upper bounds so an estimate never exceeds the reservation.
 */
export function billedUsage(model: ModelEntry, f: RequestFeatures, o: Observed): Usage {
  if (o.reported !== null && o.completed) return o.reported;
  const inputBound = inputTokenUpperBound(f, model);
  const outputBound = outputTokenCeiling(f, model);
  const input = o.reported?.inputTokens ?? Math.min(f.estimatedInputTokens, inputBound);
  const seen = Math.min(estimateTokensFromBytes(o.outputBytes), outputBound);
  const output = Math.max(o.reported?.outputTokens ?? 0, seen);
  return { inputTokens: input, outputTokens: output, estimated: true };
}

/** The cost of billed usage on a model. */
export function billedCost(model: ModelEntry, usage: Usage): Micros {
  return costMicros(model, usage.inputTokens, usage.outputTokens);
}
