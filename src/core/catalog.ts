// The model catalog: what each routable model costs, holds and supports. Data, not code.
import { z } from 'zod';

/** A routing tier; strategies and policies speak in tiers. */
export type Tier = 'economy' | 'standard' | 'premium';

/** One routable model. Prices are USD per 1M tokens, as providers publish them. */
export const modelEntrySchema = z.object({
  /** Public id, `provider/name`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'model ids look like provider/name'),
  /** Name of the configured provider that serves it. Default: the part of `id` before the slash. */
  provider: z.string().min(1),
  /** The model id sent upstream. Default: the part of `id` after the slash. */
  upstreamModel: z.string().min(1),
  inputUsdPerMTok: z.number().nonnegative(),
  outputUsdPerMTok: z.number().nonnegative(),
  contextWindow: z.number().int().positive(),
  /** Largest completion the model produces; also the default `max_tokens` sent to providers that require one. */
  maxOutputTokens: z.number().int().positive(),
  supportsTools: z.boolean().default(true),
  supportsImages: z.boolean().default(false),
  supportsJson: z.boolean().default(false),
  supportsStreaming: z.boolean().default(true),
  /** Tokens one image may cost at most on this provider; bounds reservations for image requests. Default 1,600. */
  maxImageTokens: z.number().int().positive().default(1600),
  tier: z.enum(['economy', 'standard', 'premium']).default('standard'),
});

/** A catalog entry as written by hand: provider and upstreamModel may be left out. */
export type ModelEntryInput = Omit<z.input<typeof modelEntrySchema>, 'provider' | 'upstreamModel'> & { provider?: string; upstreamModel?: string };
export type ModelEntry = z.output<typeof modelEntrySchema> & {
  /** Integer micro-USD per 1M tokens, derived once so request-time cost is integer arithmetic. */
  readonly inputMicrosPerMTok: number;
  readonly outputMicrosPerMTok: number;
};

/** Validates a hand-written entry and fills in its defaults; throws at start-up on a bad entry. */
export function defineModel(input: ModelEntryInput): ModelEntry {
  const slash = input.id.indexOf('/');
  const parsed = modelEntrySchema.parse({
    ...input,
    provider: input.provider ?? input.id.slice(0, slash),
    upstreamModel: input.upstreamModel ?? input.id.slice(slash + 1),
  });
  return Object.freeze({
    ...parsed,
    inputMicrosPerMTok: Math.round(parsed.inputUsdPerMTok * 1_000_000),
    outputMicrosPerMTok: Math.round(parsed.outputUsdPerMTok * 1_000_000),
  });
}

/**
 * SPEC §5: the default catalog, USD per 1M tokens. The public ids are the SPEC's; the upstream ids are current
 * models at the same prices (Gemini 1.5 Flash and Claude 3.5 Sonnet are retired upstream). Change them with
 * `defaultPricing([{ id, upstreamModel }])`.
 */
export const DEFAULT_MODELS: readonly ModelEntryInput[] = [
  {
    id: 'openai/gpt-4o', upstreamModel: 'gpt-4o', inputUsdPerMTok: 5, outputUsdPerMTok: 15,
    contextWindow: 128_000, maxOutputTokens: 16_384, supportsTools: true, supportsImages: true, supportsJson: true,
    maxImageTokens: 1_445, tier: 'premium',
  },
  {
    id: 'anthropic/claude-3-5-sonnet', upstreamModel: 'claude-sonnet-4-5', inputUsdPerMTok: 3, outputUsdPerMTok: 15,
    contextWindow: 200_000, maxOutputTokens: 8_192, supportsTools: true, supportsImages: true, supportsJson: false,
    maxImageTokens: 1_600, tier: 'premium',
  },
  {
    id: 'openai/gpt-4o-mini', upstreamModel: 'gpt-4o-mini', inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6,
    contextWindow: 128_000, maxOutputTokens: 16_384, supportsTools: true, supportsImages: true, supportsJson: true,
    maxImageTokens: 1_445, tier: 'economy',
  },
  {
    id: 'anthropic/claude-3-haiku', upstreamModel: 'claude-3-haiku-20240307', inputUsdPerMTok: 0.25, outputUsdPerMTok: 1.25,
    contextWindow: 200_000, maxOutputTokens: 4_096, supportsTools: true, supportsImages: true, supportsJson: false,
    maxImageTokens: 1_600, tier: 'standard',
  },
  {
    id: 'google/gemini-flash', upstreamModel: 'gemini-2.0-flash-lite', inputUsdPerMTok: 0.075, outputUsdPerMTok: 0.3,
    contextWindow: 1_000_000, maxOutputTokens: 8_192, supportsTools: true, supportsImages: true, supportsJson: true,
    maxImageTokens: 1_290, tier: 'economy',
  },
];
