// Costs, estimates and reservations: the arithmetic every cap decision rests on.
import { describe, expect, it } from 'vitest';
import {
  costMicros, defaultPricing, estimatedCost, inputTokenUpperBound, parseChatRequest, requestFeatures, usdToMicros, worstCaseCost, formatUsd,
} from '../../src/index.js';
import { billedUsage } from '../../src/core/billing.js';
import { monthOf, monthEnd } from '../../src/core/month.js';

const pricing = defaultPricing();
const mini = pricing.get('openai/gpt-4o-mini')!;
const flash = pricing.get('google/gemini-flash')!;
const sonnet = pricing.get('anthropic/claude-3-5-sonnet')!;
const features = (body: Record<string, unknown>) => requestFeatures(parseChatRequest({ model: 'economy', ...body }));

describe('cost in micro-USD', () => {
  it.each([
    [mini, 1_000_000, 0, 150_000],
    [mini, 0, 1_000_000, 600_000],
    [mini, 12, 9, 8], // 1.8 + 5.4 = 7.2 → 8: rounded up, never down
    [flash, 1_000, 0, 75],
    [flash, 1, 0, 1], // 0.075 → 1
    [sonnet, 25, 11, 240], // 75 + 165
    [mini, 0, 0, 0],
  ])('%# tokens × price, rounded up to the next micro-USD', (model, input, output, expected) => {
    expect(costMicros(model, input, output)).toBe(expected);
  });

  it('converts and formats dollars without floating drift', () => {
    expect(usdToMicros(50)).toBe(50_000_000);
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
    expect(formatUsd(8)).toBe('0.000008');
    expect(formatUsd(49_999_992)).toBe('49.999992');
  });
});

describe('estimates', () => {
  it('bounds input tokens by UTF-8 bytes plus framing, whatever the tokenizer; images at the provider maximum', () => {
    const text = 'héllo wörld — 你好'; // multi-byte characters count as their bytes
    const f = features({ messages: [{ role: 'user', content: text }] });
    expect(f.textBytes).toBe(Buffer.byteLength(text));
    expect(inputTokenUpperBound(f, mini)).toBe(Buffer.byteLength(text) + 16 + 8);
    const img = features({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] });
    expect(img.images).toBe(true);
    expect(inputTokenUpperBound(img, mini)).toBe(13 + 16 + 8 + mini.maxImageTokens);
    expect(inputTokenUpperBound(img, sonnet)).toBe(13 + 16 + 8 + sonnet.maxImageTokens);
  });

  it('counts tools, tool calls and n in the bound and the ceiling', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const f = features({ messages: [{ role: 'user', content: 'x' }], tools, n: 2, max_tokens: 100 });
    expect(f.tools).toBe(true);
    expect(f.textBytes).toBe(1 + Buffer.byteLength(JSON.stringify(tools)));
    // Worst case: bound input, 2 choices × 100 output tokens.
    expect(worstCaseCost(mini, f)).toBe(costMicros(mini, inputTokenUpperBound(f, mini), 200));
  });

  it('reserves the model output limit when the request sets no max_tokens', () => {
    const f = features({ messages: [{ role: 'user', content: 'hi' }] });
    expect(worstCaseCost(mini, f)).toBe(costMicros(mini, 2 + 24, mini.maxOutputTokens));
    expect(estimatedCost(mini, f)).toBeLessThan(worstCaseCost(mini, f));
  });

  it('bills reported usage as is, and estimates what a cut stream did not report, within the bounds', () => {
    const f = features({ messages: [{ role: 'user', content: 'x'.repeat(300) }], max_tokens: 50 });
    const reported = { inputTokens: 80, outputTokens: 20, estimated: false };
    expect(billedUsage(mini, f, { reported, outputBytes: 90, completed: true })).toEqual(reported);
    // Cut after 90 bytes with input known: output estimated from bytes (90/3 = 30), flagged.
    expect(billedUsage(mini, f, { reported: { inputTokens: 80, outputTokens: 0, estimated: false }, outputBytes: 90, completed: false }))
      .toEqual({ inputTokens: 80, outputTokens: 30, estimated: true });
    // Nothing reported: input from the request's estimate; output never above max_tokens.
    const none = billedUsage(mini, f, { reported: null, outputBytes: 10_000, completed: false });
    expect(none).toEqual({ inputTokens: f.estimatedInputTokens, outputTokens: 50, estimated: true });
    expect(costMicros(mini, none.inputTokens, none.outputTokens)).toBeLessThanOrEqual(worstCaseCost(mini, f));
  });
});

describe('months in UTC', () => {
  it('charges the calendar month of the instant, in UTC', () => {
    expect(monthOf(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe('2026-01');
    expect(monthOf(Date.UTC(2026, 1, 1, 0, 0, 0))).toBe('2026-02');
    expect(monthOf(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toBe('2026-12');
    expect(monthEnd('2026-12')).toBe(Date.UTC(2027, 0, 1));
  });
});
