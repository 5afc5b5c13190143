// GET /v1/models: every routable model and alias in the OpenAI list shape, with prices and health beside it.
import { keyAllows } from '../core/route.js';
import type { ModelEntry } from '../core/catalog.js';
import type { KeyRecord } from '../ports/keys.js';
import type { TokenHub } from './index.js';

/** Models whose provider is configured and that the key may use, then the aliases. */
export function listModels(hub: TokenHub, key: KeyRecord) {
  const created = 1_700_000_000;
  const models = hub.pricing
    .models()
    .filter((m) => hub.providers.has(m.provider) && keyAllows(key, m.id))
    .map((m) => ({ id: m.id, object: 'model' as const, created, owned_by: m.provider, tokenhub: describeModel(hub, m) }));
  const aliases = hub.strategies.aliasNames().map((a) => ({
    id: a,
    object: 'model' as const,
    created,
    owned_by: 'tokenhub',
    tokenhub: { alias: true, strategy: hub.strategies.aliasTarget(a) },
  }));
  return { object: 'list' as const, data: [...models, ...aliases] };
}

/** One catalog model as the APIs show it (`/v1/models` metadata and `/admin/models`): prices, limits, support, health. */
export function describeModel(hub: TokenHub, m: ModelEntry) {
  return {
    provider: m.provider,
    tier: m.tier,
    inputUsdPerMTok: m.inputUsdPerMTok,
    outputUsdPerMTok: m.outputUsdPerMTok,
    contextWindow: m.contextWindow,
    supportsTools: m.supportsTools,
    supportsImages: m.supportsImages,
    supportsJson: m.supportsJson,
    supportsStreaming: m.supportsStreaming,
    configured: hub.providers.has(m.provider),
    coolingDown: hub.health.coolingDown(m.provider),
  };
}
