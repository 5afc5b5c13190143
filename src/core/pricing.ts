// Built-in pricing sources: the SPEC's default catalog, a static list, and a price-list file loader.
import { readFile } from 'node:fs/promises';
import { DEFAULT_MODELS, defineModel, type ModelEntry, type ModelEntryInput } from './catalog.js';
import type { PricingSource } from '../ports/pricing.js';

/** A pricing source over a fixed list of entries, validated once. */
export function staticPricing(entries: readonly ModelEntryInput[]): PricingSource {
  const models = Object.freeze(entries.map(defineModel));
  const byId = new Map<string, ModelEntry>();
  for (const m of models) {
    if (byId.has(m.id)) throw new Error(`pricing: model "${m.id}" is listed twice`);
    byId.set(m.id, m);
  }
  return { models: () => models, get: (id) => byId.get(id) };
}

/**
 * The default catalog of SPEC §5. `overrides` replace or add entries by id,
 * e.g. to point `google/gemini-flash` at another upstream model.
 */
export function defaultPricing(overrides: readonly ModelEntryInput[] = []): PricingSource {
  const merged = new Map<string, ModelEntryInput>(DEFAULT_MODELS.map((m) => [m.id, m]));
  for (const o of overrides) merged.set(o.id, { ...merged.get(o.id), ...o });
  return staticPricing([...merged.values()]);
}

/**
 * Loads a community price list (a JSON object keyed by model id, LiteLLM-style fields:
 * `input_cost_per_token`, `output_cost_per_token`, `max_input_tokens`, `max_output_tokens`,
 * `supports_function_calling`, `supports_vision`, `supports_response_schema`) for the ids in `include`,
 * mapped to catalog ids by `include[catalogId] = listKey`.
 */
export async function priceListFile(path: string, include: Record<string, string>): Promise<PricingSource> {
  const list = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, unknown>>;
  const entries: ModelEntryInput[] = Object.entries(include).map(([id, key]) => {
    const row = list[key];
    if (row === undefined) throw new Error(`pricing: "${key}" is not in ${path}`);
    const num = (f: string) => {
      const v = row[f];
      if (typeof v !== 'number') throw new Error(`pricing: "${key}" has no numeric ${f}`);
      return v;
    };
    return {
      id,
      upstreamModel: key.includes('/') ? key.slice(key.lastIndexOf('/') + 1) : key,
      inputUsdPerMTok: num('input_cost_per_token') * 1_000_000,
      outputUsdPerMTok: num('output_cost_per_token') * 1_000_000,
      contextWindow: num('max_input_tokens'),
      maxOutputTokens: num('max_output_tokens'),
      supportsTools: row.supports_function_calling === true,
      supportsImages: row.supports_vision === true,
      supportsJson: row.supports_response_schema === true,
    };
  });
  return staticPricing(entries);
}
