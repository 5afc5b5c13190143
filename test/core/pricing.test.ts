// The pricing adapters: the SPEC catalog, overrides, validation at start-up, and a community price list file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPricing, priceListFile, staticPricing } from '../../src/index.js';

describe('pricing', () => {
  it('has the SPEC §5 catalog', () => {
    const rows = defaultPricing().models().map((m) => [m.id, m.inputUsdPerMTok, m.outputUsdPerMTok, m.contextWindow, m.supportsTools, m.supportsImages, m.supportsJson]);
    expect(rows).toEqual([
      ['openai/gpt-4o', 5, 15, 128_000, true, true, true],
      ['anthropic/claude-3-5-sonnet', 3, 15, 200_000, true, true, false],
      ['openai/gpt-4o-mini', 0.15, 0.6, 128_000, true, true, true],
      ['anthropic/claude-3-haiku', 0.25, 1.25, 200_000, true, true, false],
      ['google/gemini-flash', 0.075, 0.3, 1_000_000, true, true, true],
    ]);
  });

  it('overrides an entry by id and adds new ones with provider and upstream id from the id', () => {
    const p = defaultPricing([{ id: 'google/gemini-flash', upstreamModel: 'gemini-2.5-flash-lite', inputUsdPerMTok: 0.1 }, { id: 'groq/llama-3.1-8b', inputUsdPerMTok: 0.05, outputUsdPerMTok: 0.08, contextWindow: 128_000, maxOutputTokens: 8_192 }] as never);
    expect(p.get('google/gemini-flash')).toMatchObject({ upstreamModel: 'gemini-2.5-flash-lite', inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.3, inputMicrosPerMTok: 100_000 });
    expect(p.get('groq/llama-3.1-8b')).toMatchObject({ provider: 'groq', upstreamModel: 'llama-3.1-8b', tier: 'standard' });
  });

  it('refuses a bad catalog when it is built, not on the first request', () => {
    expect(() => staticPricing([{ id: 'no-slash', inputUsdPerMTok: 1, outputUsdPerMTok: 1, contextWindow: 1, maxOutputTokens: 1 }])).toThrow(/provider\/name/);
    expect(() => staticPricing([{ id: 'a/b', inputUsdPerMTok: -1, outputUsdPerMTok: 1, contextWindow: 1, maxOutputTokens: 1 }])).toThrow();
    const e = { id: 'a/b', inputUsdPerMTok: 1, outputUsdPerMTok: 1, contextWindow: 1, maxOutputTokens: 1 };
    expect(() => staticPricing([e, e])).toThrow(/twice/);
  });

  it('loads prices from a community price list file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({
      'gpt-4o-mini': { input_cost_per_token: 1.5e-7, output_cost_per_token: 6e-7, max_input_tokens: 128_000, max_output_tokens: 16_384, supports_function_calling: true, supports_vision: true, supports_response_schema: true },
      'together_ai/meta-llama/Llama-3-8b': { input_cost_per_token: 2e-7, output_cost_per_token: 2e-7, max_input_tokens: 8_192, max_output_tokens: 4_096 },
    }));
    const p = await priceListFile(file, { 'openai/gpt-4o-mini': 'gpt-4o-mini', 'together/llama-3-8b': 'together_ai/meta-llama/Llama-3-8b' });
    expect(p.get('openai/gpt-4o-mini')).toMatchObject({ inputMicrosPerMTok: 150_000, outputMicrosPerMTok: 600_000, supportsJson: true });
    expect(p.get('together/llama-3-8b')).toMatchObject({ upstreamModel: 'Llama-3-8b', supportsTools: false, contextWindow: 8_192 });
    await expect(priceListFile(file, { 'x/y': 'missing' })).rejects.toThrow(/missing/);
  });
});
