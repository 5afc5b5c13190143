// Time-zone arithmetic and hour windows the analytics rely on (SQLite's zone CASE is built from offsetSegments).
import { describe, expect, it } from 'vitest';
import { hourWindow, inHourWindow, isTimeZone, offsetSegments, zoneOffsetMs } from '../../src/core/analytics.js';

const H = 3_600_000;

describe('offsetSegments', () => {
  it('finds both of Paris\'s 2026 changes to the millisecond', () => {
    // CET (+1) until 2026-03-29 01:00Z, CEST (+2) until 2026-10-25 01:00Z, then CET again.
    expect(offsetSegments('Europe/Paris', Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual([
      { offsetMs: H, until: Date.UTC(2026, 2, 29, 1) },
      { offsetMs: 2 * H, until: Date.UTC(2026, 9, 25, 1) },
      { offsetMs: H, until: null },
    ]);
  });

  it('gives one segment for a zone without daylight saving, for UTC and for a span inside one offset', () => {
    expect(offsetSegments('Asia/Kathmandu', Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual([{ offsetMs: 5.75 * H, until: null }]);
    expect(offsetSegments(undefined, 0, Date.UTC(2030, 0, 1))).toEqual([{ offsetMs: 0, until: null }]);
    expect(offsetSegments('America/New_York', Date.UTC(2026, 5, 1), Date.UTC(2026, 6, 1))).toEqual([{ offsetMs: -4 * H, until: null }]);
  });

  it('agrees with the zone offset at every instant of a multi-year span', () => {
    const from = Date.UTC(2024, 0, 1);
    const to = Date.UTC(2027, 0, 1);
    const segs = offsetSegments('America/St_Johns', from, to);
    expect(segs).toHaveLength(7);
    for (let t = from; t < to; t += 5 * H + 17_000) {
      const seg = segs.find((s) => s.until === null || t < s.until)!;
      expect(seg.offsetMs).toBe(zoneOffsetMs('America/St_Johns', t));
    }
  });
});

describe('hour windows and zone names', () => {
  it('wraps past midnight, and treats a window that covers the whole day as none', () => {
    expect(hourWindow({})).toBeNull();
    expect(hourWindow({ hourFrom: 0, hourTo: 23 })).toBeNull();
    expect(hourWindow({ hourFrom: 5, hourTo: 4 })).toBeNull();
    expect(hourWindow({ hourFrom: 9 })).toEqual([9, 23]);
    expect(hourWindow({ hourTo: 5 })).toEqual([0, 5]);
    const w = hourWindow({ hourFrom: 22, hourTo: 3 });
    expect([21, 22, 23, 0, 3, 4].map((h) => inHourWindow(h, w))).toEqual([false, true, true, true, true, false]);
  });

  it('knows IANA names and refuses others', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone("UTC'; DROP TABLE x; --")).toBe(false);
  });
});
