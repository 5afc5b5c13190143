// Usage that looks like a real month of traffic, for the dashboard's API and browser tests (and its screenshot).
import { costMicros } from '../../src/core/cost.js';
import { defaultPricing } from '../../src/core/pricing.js';
import type { UsageRecord } from '../../src/ports/usage.js';
import { prng, usageRecord } from '../contracts/support.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** The keys the generated traffic uses: id and name. */
export const TRAFFIC_KEYS = [
  { id: 'key_support', name: 'support-bot' },
  { id: 'key_reports', name: 'weekly-reports' },
  { id: 'key_staging', name: 'staging' },
] as const;

const pricing = defaultPricing();

/**
 * `days` days of traffic ending at `end` (epoch ms): office-hours weekdays, quieter weekends, every default-catalog
 * model, three keys; classification sent to gpt-4o (the waste the dashboard should show) until a "switch" half-way
 * through moves it to gpt-4o-mini, so the cost trend drops; one runaway night (03:00 UTC, 40 requests) a week ago.
 * Costs are priced on the default catalog, so waste figures are consistent with the records.
 */
export function monthOfTraffic({ end, days = 30, seed = 11 }: { end: number; days?: number; seed?: number }): UsageRecord[] {
  const rnd = prng(seed);
  const out: UsageRecord[] = [];
  const start = Math.floor(end / DAY) * DAY - (days - 1) * DAY;
  let n = 0;
  const add = (time: number, keyId: string, model: string, inputTokens: number, outputTokens: number, needs: Partial<UsageRecord> = {}) => {
    if (time >= end) return;
    const m = pricing.get(model)!;
    out.push(usageRecord({
      id: `t${n++}`,
      time,
      keyId,
      requestedModel: model,
      model,
      provider: m.provider,
      strategy: 'fixed',
      inputTokens,
      outputTokens,
      cost: costMicros(m, inputTokens, outputTokens),
      contextTokens: inputTokens + 1_024,
      ...needs,
    }));
  };
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    const weekday = (Math.floor(day / DAY) + 3) % 7; // 0 = Monday
    const busy = weekday < 5 ? 1 : 0.3;
    const switched = d >= days / 2;
    for (let h = 0; h < 24; h++) {
      const office = h >= 8 && h <= 18 ? 1 : h >= 6 && h <= 21 ? 0.35 : 0.08;
      const count = Math.round(6 * busy * office + rnd() * 2);
      for (let i = 0; i < count; i++) {
        const t = day + h * HOUR + Math.floor(rnd() * HOUR);
        const r = rnd();
        if (r < 0.3) add(t, 'key_support', switched ? 'openai/gpt-4o-mini' : 'openai/gpt-4o', 300 + Math.floor(rnd() * 500), 5 + Math.floor(rnd() * 20));
        else if (r < 0.45) add(t, 'key_support', 'anthropic/claude-3-haiku', 800 + Math.floor(rnd() * 1_500), 150 + Math.floor(rnd() * 300));
        else if (r < 0.6) add(t, 'key_reports', 'anthropic/claude-3-5-sonnet', 6_000 + Math.floor(rnd() * 20_000), 800 + Math.floor(rnd() * 1_500), { needsTools: rnd() < 0.5 });
        else if (r < 0.72) add(t, 'key_reports', 'openai/gpt-4o', 2_000 + Math.floor(rnd() * 6_000), 600 + Math.floor(rnd() * 1_200), { needsJson: true });
        else if (r < 0.9) add(t, 'key_staging', 'google/gemini-flash', 500 + Math.floor(rnd() * 3_000), 100 + Math.floor(rnd() * 400));
        else add(t, 'key_staging', 'openai/gpt-4o-mini', 400 + Math.floor(rnd() * 2_000), 80 + Math.floor(rnd() * 300));
      }
    }
  }
  // A runaway job: 40 requests to gpt-4o between 03:00 and 03:59 UTC, seven days before the end.
  const night = Math.floor(end / DAY) * DAY - 7 * DAY + 3 * HOUR;
  for (let i = 0; i < 40; i++) add(night + i * 90_000, 'key_staging', 'openai/gpt-4o', 3_000, 1_500);
  return out.sort((a, b) => a.time - b.time);
}
