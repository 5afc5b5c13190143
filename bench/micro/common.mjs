// Shared by the in-process micro-benchmarks: the build to measure, and CPU time per operation over repeated rounds.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `dist/` of this checkout, or another build (a copy from before a change) named by MICRO_DIST. */
export const dist = process.env.MICRO_DIST
  ? pathToFileURL(`${resolve(process.env.MICRO_DIST)}/`)
  : new URL('../../dist/', import.meta.url);
export const load = (path) => import(new URL(path, dist).href);

/**
 * Runs `batch()` (which does `perBatch` operations) `batches` times per round, for `rounds` rounds after one unmeasured
 * round, and prints CPU µs per operation for each: process CPU, so worker threads and the thread pool count too.
 */
export async function measure(label, { rounds = 5, batches, perBatch = 1 }, batch) {
  const round = async () => {
    for (let i = 0; i < batches; i++) await batch();
  };
  await round();
  const figures = [];
  for (let r = 0; r < rounds; r++) {
    const before = process.cpuUsage();
    await round();
    const used = process.cpuUsage(before);
    figures.push((used.user + used.system) / (batches * perBatch));
  }
  console.log(`${label}: ${figures.map((f) => f.toFixed(2)).join(' ')} CPU µs per operation (median ${median(figures).toFixed(2)})`);
  return figures;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
