// joinBytes: Buffer.concat's result, cut from a shared slab, never overlapping another join's bytes.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { joinBytes } from '../../src/transport/join-bytes.js';
import { prng } from '../contracts/support.js';

describe('joinBytes', () => {
  it('joins like Buffer.concat, and no join shares a byte with another, across many slabs', () => {
    const random = prng(7);
    const joined: Array<{ out: Buffer; copy: Buffer }> = [];
    for (let i = 0; i < 2_000; i++) {
      const pieces = Array.from({ length: Math.floor(random() * 20) }, () => randomBytes(Math.floor(random() * 600)));
      const out = joinBytes(pieces);
      expect(out.equals(Buffer.concat(pieces))).toBe(true);
      joined.push({ out, copy: Buffer.from(out) });
    }
    // Had two joins been cut from the same bytes, the later one would have overwritten the earlier.
    for (const { out, copy } of joined) expect(out.equals(copy)).toBe(true);
  });

  it('gives a join larger than half a slab a buffer of its own, and an empty list an empty buffer', () => {
    const big = [randomBytes(20_000), randomBytes(20_000)];
    const out = joinBytes(big);
    expect(out.equals(Buffer.concat(big))).toBe(true);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBeGreaterThanOrEqual(40_000);
    expect(joinBytes([])).toHaveLength(0);
  });
});
