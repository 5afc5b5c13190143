// Dashboard analytics over records in memory (the reference the SQL adapters must agree with), and time-zone arithmetic.
import { add, zero } from './aggregate.js';
import type {
  HeatCell,
  SeriesOptions,
  SeriesPoint,
  UsageQuery,
  UsageRecord,
  WasteGroup,
  WasteGroupOptions,
} from '../ports/usage.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether `tz` names a time zone this runtime knows (IANA names such as `Europe/Paris`, and `UTC`). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

const isUtc = (tz: string | undefined) => tz === undefined || tz === 'UTC' || tz === 'Etc/UTC';

/** The zone's offset from UTC at instant `t`, in ms (Paris in summer: +7,200,000). UTC and undefined give 0. */
export function zoneOffsetMs(tz: string | undefined, t: number): number {
  if (isUtc(tz)) return 0;
  const p: Record<string, number> = {};
  for (const part of formatter(tz!).formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** One stretch of constant UTC offset: applies to instants before `until` (null: to the end of time). */
export interface OffsetSegment {
  offsetMs: number;
  until: number | null;
}

/**
 * The zone's offsets over `[from, to]` as consecutive segments, so SQL can shift each row by the offset
 * in force at its own instant with a short CASE. The first segment also covers instants before `from`,
 * the last those after `to`. Offsets are probed weekly (zones change at most twice a year) and each
 * change is located to the millisecond by bisection.
 */
export function offsetSegments(tz: string | undefined, from: number, to: number): OffsetSegment[] {
  if (isUtc(tz) || !(to > from)) return [{ offsetMs: zoneOffsetMs(tz, from), until: null }];
  const WEEK = 7 * DAY_MS;
  const out: OffsetSegment[] = [];
  let at = from;
  let off = zoneOffsetMs(tz, from);
  while (at < to) {
    const next = Math.min(at + WEEK, to);
    const nextOff = zoneOffsetMs(tz, next);
    if (nextOff !== off) {
      // Bisect (at, next] for the first instant with the new offset.
      let lo = at;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffsetMs(tz, mid) === off) lo = mid;
        else hi = mid;
      }
      out.push({ offsetMs: off, until: hi });
      off = zoneOffsetMs(tz, hi);
      at = hi;
    } else {
      at = next;
    }
  }
  out.push({ offsetMs: off, until: null });
  return out;
}

/** `t` shifted into the zone's wall clock, as epoch ms whose UTC fields read as local time. */
export const localMs = (t: number, tz?: string) => t + zoneOffsetMs(tz, t);

/** Hour of day, 0–23, of a local (shifted) instant. */
export const hourOf = (local: number) => Math.floor(local / HOUR_MS) - Math.floor(local / DAY_MS) * 24;
/** Weekday, 0 = Monday … 6 = Sunday, of a local (shifted) instant; 1970-01-01 was a Thursday. */
export const weekdayOf = (local: number) => (((Math.floor(local / DAY_MS) + 3) % 7) + 7) % 7;
/** `YYYY-MM-DD` of day number `n` (days since 1970-01-01). */
export const dayLabel = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);
/** `YYYY-MM-DDTHH` of hour number `n` (hours since 1970-01-01T00). */
export const hourLabel = (n: number) => new Date(n * HOUR_MS).toISOString().slice(0, 13);

/** The hour window of a query as an inclusive pair, or null when it lets every hour through. */
export function hourWindow(q: Pick<UsageQuery, 'hourFrom' | 'hourTo'>): [number, number] | null {
  if (q.hourFrom === undefined && q.hourTo === undefined) return null;
  const from = q.hourFrom ?? 0;
  const to = q.hourTo ?? 23;
  // 0–23, and any h–(h-1) that wraps all the way round, admit everything.
  if ((from === 0 && to === 23) || (from > to && from === to + 1)) return null;
  return [from, to];
}

/** Whether an hour of day lies in the window; a window with from > to wraps past midnight. */
export function inHourWindow(hour: number, w: [number, number] | null): boolean {
  if (w === null) return true;
  const [from, to] = w;
  return from <= to ? hour >= from && hour <= to : hour >= from || hour <= to;
}

/** Whether a record passes every filter of the query: range, model, provider, key, hour window (in `tz`). */
export function recordMatches(r: UsageRecord, q: UsageQuery): boolean {
  if (
    (q.from !== undefined && r.time < q.from)
    || (q.to !== undefined && r.time >= q.to)
    || (q.model !== undefined && r.model !== q.model)
    || (q.provider !== undefined && r.provider !== q.provider)
    || (q.keyId !== undefined && r.keyId !== q.keyId)
  ) return false;
  const w = hourWindow(q);
  return w === null || inHourWindow(hourOf(localMs(r.time, q.tz)), w);
}

const cmp = (a: string | number | boolean, b: string | number | boolean) => (a < b ? -1 : a > b ? 1 : 0);

/** Reference of `UsageAnalytics.series`. */
export function seriesOfRecords(records: Iterable<UsageRecord>, q: UsageQuery, { bucket, splitBy }: SeriesOptions): SeriesPoint[] {
  const points = new Map<string, SeriesPoint>();
  for (const r of records) {
    if (!recordMatches(r, q)) continue;
    const local = localMs(r.time, q.tz);
    const b = bucket === 'day' ? dayLabel(Math.floor(local / DAY_MS)) : hourLabel(Math.floor(local / HOUR_MS));
    const split = splitBy === undefined ? null : splitBy === 'model' ? (r.model ?? 'none') : (r.provider ?? 'none');
    const k = `${b}\u0000${split ?? ''}`;
    let p = points.get(k);
    if (p === undefined) points.set(k, (p = { bucket: b, split, ...zero() }));
    add(p, r);
  }
  return [...points.values()].sort((a, b) => cmp(a.bucket, b.bucket) || cmp(a.split ?? '', b.split ?? ''));
}

/** Reference of `UsageAnalytics.heatmap`. */
export function heatmapOfRecords(records: Iterable<UsageRecord>, q: UsageQuery): HeatCell[] {
  const cells = new Map<number, HeatCell>();
  for (const r of records) {
    if (!recordMatches(r, q)) continue;
    const local = localMs(r.time, q.tz);
    const weekday = weekdayOf(local);
    const hour = hourOf(local);
    let c = cells.get(weekday * 24 + hour);
    if (c === undefined) cells.set(weekday * 24 + hour, (c = { weekday, hour, ...zero() }));
    add(c, r);
  }
  return [...cells.values()].sort((a, b) => a.weekday - b.weekday || a.hour - b.hour);
}

/** Reference of `UsageAnalytics.wasteGroups`. */
export function wasteGroupsOfRecords(records: Iterable<UsageRecord>, q: UsageQuery, { models }: WasteGroupOptions = {}): WasteGroup[] {
  const only = models === undefined ? null : new Set(models);
  const groups = new Map<string, WasteGroup>();
  for (const r of records) {
    if (r.model === null || (only !== null && !only.has(r.model)) || !recordMatches(r, q)) continue;
    const k = JSON.stringify([r.model, r.keyId, r.needsTools, r.needsImages, r.needsJson]);
    let g = groups.get(k);
    if (g === undefined) {
      groups.set(k, (g = {
        model: r.model, keyId: r.keyId, needsTools: r.needsTools, needsImages: r.needsImages, needsJson: r.needsJson,
        maxContextTokens: 0, firstTime: r.time, lastTime: r.time, ...zero(),
      }));
    }
    add(g, r);
    g.maxContextTokens = Math.max(g.maxContextTokens, r.contextTokens);
    g.firstTime = Math.min(g.firstTime, r.time);
    g.lastTime = Math.max(g.lastTime, r.time);
  }
  return [...groups.values()].sort((a, b) =>
    cmp(a.model, b.model) || cmp(a.keyId, b.keyId) || cmp(a.needsTools, b.needsTools) || cmp(a.needsImages, b.needsImages) || cmp(a.needsJson, b.needsJson));
}
