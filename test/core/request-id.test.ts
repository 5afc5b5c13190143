// Request ids: the format clients see, unique, and in arrival order.
import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/core/request-id.js';

describe('newRequestId', () => {
  it('is 32 lower-case hex characters, different every time within one millisecond', () => {
    const now = Date.UTC(2026, 10, 27, 10, 0, 0);
    const ids = Array.from({ length: 10_000 }, () => newRequestId(now));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith(now.toString(16).padStart(12, '0')))).toBe(true);
  });

  it('sorts a later millisecond after an earlier one, whatever the random part', () => {
    const times = [0, 1, 999, 1_000, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(9999, 0, 1)];
    const ids = times.map((t) => newRequestId(t));
    expect([...ids].sort()).toEqual(ids);
  });
});
