// The pricing port: where the catalog and its prices come from.
import type { ModelEntry } from '../core/catalog.js';

/**
 * A source of model entries and prices. `models()` is called on every routing decision,
 * so it must answer from memory; a source that loads prices remotely refreshes in the background.
 */
export interface PricingSource {
  /** Every routable model, in a stable order. */
  models(): readonly ModelEntry[];
  /** One model by its public id, or undefined. */
  get(id: string): ModelEntry | undefined;
}
