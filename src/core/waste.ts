// Waste: premium-tier requests a cheaper tier could have served, the cheapest such model, and what it would have saved.
import type { ModelEntry, Tier } from './catalog.js';
import { costMicros } from './cost.js';
import type { Micros } from './money.js';
import type { WasteGroup } from '../ports/usage.js';
import { DAY_MS } from './analytics.js';

const RANK: Record<Tier, number> = { economy: 0, standard: 1, premium: 2 };

/** Days in the month the estimate extrapolates to. */
export const DAYS_PER_MONTH = 30;

/** The ids of the catalog's premium-tier models: the requests the waste report looks at. */
export const premiumModels = (catalog: readonly ModelEntry[]) => catalog.filter((m) => m.tier === 'premium').map((m) => m.id);

/** What a group of requests needed, as the eligibility check reads it. */
export type WasteNeeds = Pick<WasteGroup, 'needsTools' | 'needsImages' | 'needsJson' | 'maxContextTokens'>;

/** Whether `m` could have served every request of a group: it holds the largest context and supports what they used. */
export function canServe(m: ModelEntry, g: WasteNeeds): boolean {
  return m.contextWindow >= g.maxContextTokens
    && (!g.needsTools || m.supportsTools)
    && (!g.needsImages || m.supportsImages)
    && (!g.needsJson || m.supportsJson);
}

/**
 * The model of a lower tier than `served` that would have cost least for these tokens and could have served
 * the group, or null when none can or none is cheaper than what was paid. Ties go to the earlier catalog entry.
 */
export function cheapestAlternative(
  served: ModelEntry, g: WasteNeeds & { inputTokens: number; outputTokens: number; cost: Micros }, catalog: readonly ModelEntry[],
): { model: ModelEntry; cost: Micros } | null {
  let best: { model: ModelEntry; cost: Micros } | null = null;
  for (const m of catalog) {
    if (RANK[m.tier] >= RANK[served.tier] || !canServe(m, g)) continue;
    const cost = costMicros(m, g.inputTokens, g.outputTokens);
    if (best === null || cost < best.cost) best = { model: m, cost };
  }
  return best !== null && best.cost < g.cost ? best : null;
}

/** Premium requests of one model and key that one cheaper model could have served. */
export interface WasteLine {
  model: string;
  keyId: string;
  /** The cheapest lower-tier model that could have served them. */
  alternative: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** What they cost. */
  cost: Micros;
  /** What the same tokens would have cost on the alternative. */
  alternativeCost: Micros;
  saving: Micros;
}

export interface WasteSum {
  requests: number;
  cost: Micros;
  saving: Micros;
}

export interface WasteReport {
  /** Per model, key and alternative; largest saving first. */
  lines: WasteLine[];
  /** Per premium model and per key; largest saving first. */
  byModel: (WasteSum & { model: string })[];
  byKey: (WasteSum & { keyId: string })[];
  totals: {
    /** Every premium request in the window, and its cost. */
    premiumRequests: number;
    premiumCost: Micros;
    /** Premium requests a cheaper model could have served, what they cost, and what the cheaper models would have. */
    wastedRequests: number;
    wastedCost: Micros;
    alternativeCost: Micros;
    saving: Micros;
  };
  /** Length of the window the saving was found in, in days (at least 1). */
  periodDays: number;
  /** The saving scaled to a 30-day month: saving × 30 / periodDays. */
  estimatedMonthlySaving: Micros;
}

export interface WastePeriod {
  /** The query's window; `from` defaults to the first premium request, `to` to `now` (and never past it). */
  from?: number;
  to?: number;
  now: number;
}

const bump = <T extends WasteSum>(map: Map<string, T>, k: string, make: () => T, requests: number, cost: number, saving: number) => {
  let s = map.get(k);
  if (s === undefined) map.set(k, (s = make()));
  s.requests += requests;
  s.cost = (s.cost + cost) as Micros;
  s.saving = (s.saving + saving) as Micros;
};
const bySaving = <T extends WasteSum>(a: T, b: T, tie: (x: T) => string) =>
  b.saving - a.saving || b.cost - a.cost || (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0);

/**
 * The waste report over the groups of `UsageAnalytics.wasteGroups`. Only groups served by a premium-tier model
 * count; a model no longer in the catalog is skipped. Each group is priced on its cheapest eligible alternative
 * as a whole, so one long request keeps its whole group on models that hold it: the saving errs low, never high.
 */
export function wasteReport(groups: readonly WasteGroup[], catalog: readonly ModelEntry[], period: WastePeriod): WasteReport {
  const byId = new Map(catalog.map((m) => [m.id, m]));
  const lines = new Map<string, WasteLine>();
  const byModel = new Map<string, WasteSum & { model: string }>();
  const byKey = new Map<string, WasteSum & { keyId: string }>();
  const totals = { premiumRequests: 0, premiumCost: 0 as Micros, wastedRequests: 0, wastedCost: 0 as Micros, alternativeCost: 0 as Micros, saving: 0 as Micros };
  let first = Infinity;
  for (const g of groups) {
    const served = byId.get(g.model);
    if (served === undefined || served.tier !== 'premium') continue;
    totals.premiumRequests += g.requests;
    totals.premiumCost = (totals.premiumCost + g.cost) as Micros;
    first = Math.min(first, g.firstTime);
    const alt = cheapestAlternative(served, g, catalog);
    const saving = alt === null ? 0 : g.cost - alt.cost;
    bump(byModel, g.model, () => ({ model: g.model, requests: 0, cost: 0 as Micros, saving: 0 as Micros }), g.requests, g.cost, saving);
    bump(byKey, g.keyId, () => ({ keyId: g.keyId, requests: 0, cost: 0 as Micros, saving: 0 as Micros }), g.requests, g.cost, saving);
    if (alt === null) continue;
    totals.wastedRequests += g.requests;
    totals.wastedCost = (totals.wastedCost + g.cost) as Micros;
    totals.alternativeCost = (totals.alternativeCost + alt.cost) as Micros;
    totals.saving = (totals.saving + saving) as Micros;
    const k = JSON.stringify([g.model, g.keyId, alt.model.id]);
    let l = lines.get(k);
    if (l === undefined) {
      lines.set(k, (l = {
        model: g.model, keyId: g.keyId, alternative: alt.model.id, requests: 0, inputTokens: 0, outputTokens: 0,
        cost: 0 as Micros, alternativeCost: 0 as Micros, saving: 0 as Micros,
      }));
    }
    l.requests += g.requests;
    l.inputTokens += g.inputTokens;
    l.outputTokens += g.outputTokens;
    l.cost = (l.cost + g.cost) as Micros;
    l.alternativeCost = (l.alternativeCost + alt.cost) as Micros;
    l.saving = (l.saving + saving) as Micros;
  }
  const start = period.from ?? (first === Infinity ? period.now : first);
  const end = Math.min(period.to ?? period.now, period.now);
  const periodDays = Math.max(1, (end - start) / DAY_MS);
  const lineKey = (l: WasteLine) => `${l.model}\u0000${l.keyId}\u0000${l.alternative}`;
  return {
    lines: [...lines.values()].sort((a, b) => bySaving(a, b, lineKey)),
    byModel: [...byModel.values()].sort((a, b) => bySaving(a, b, (x) => x.model)),
    byKey: [...byKey.values()].sort((a, b) => bySaving(a, b, (x) => x.keyId)),
    totals,
    periodDays,
    estimatedMonthlySaving: Math.round((totals.saving * DAYS_PER_MONTH) / periodDays) as Micros,
  };
}
