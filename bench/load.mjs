// The load generator, a child of the runner: keeps N connections busy for a bounded time and measures the target from outside.
import { Pool } from 'undici';
import { cpuMs, machineTicks, rssKb, syscalls } from './proc.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One phase. spec: { origin, path, headers, body, connections, warmupMs, durationMs, stream,
 * oneShot (each connection sends exactly one request), pids: { target, upstream } }.
 */
async function run(spec) {
  const { connections, warmupMs = 0, durationMs = 0, stream, oneShot = false, pids } = spec;
  const pool = new Pool(spec.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const latencies = [];
  let measuring = oneShot;
  let stop = false;
  let errors = 0;
  let sent = 0;
  let firstError = null;
  let peakRss = 0;
  const rssSeries = [];
  const began = performance.now();
  const snap = () => ({ at: performance.now(), target: cpuMs(pids.target), upstream: cpuMs(pids.upstream), self: process.cpuUsage(), io: syscalls(pids.target), machine: machineTicks() });
  let start = oneShot ? snap() : null;

  const sampler = setInterval(() => {
    const kb = rssKb(pids.target) ?? 0;
    if (measuring) peakRss = Math.max(peakRss, kb);
    if (oneShot) rssSeries.push([Math.round(performance.now() - began), kb]);
  }, 100);
  // Every loop is bounded: whatever happens, the phase ends.
  const hardStop = setTimeout(() => {
    stop = true;
    pool.destroy().catch(() => undefined);
  }, warmupMs + durationMs + 60_000);

  const fail = (why) => {
    errors += 1;
    firstError ??= why;
  };
  const one = async () => {
    const t = performance.now();
    const res = await pool.request({ path: spec.path, method: 'POST', headers: spec.headers, body: spec.body });
    let tail = '';
    for await (const c of res.body) if (stream) tail = (tail + c.toString('latin1')).slice(-64);
    const took = performance.now() - t;
    if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
    if (stream && !tail.endsWith('data: [DONE]\n\n')) return fail('stream did not end with [DONE]');
    sent += 1;
    if (measuring) latencies.push(took);
  };
  const worker = async () => {
    do {
      try {
        await one();
      } catch (err) {
        fail(String(err?.code ?? err?.message ?? err));
        if (!stop) await sleep(10);
      }
    } while (!stop && !oneShot);
  };

  let timers = [];
  if (!oneShot) {
    timers.push(setTimeout(() => {
      start = snap();
      measuring = true;
    }, warmupMs));
    timers.push(setTimeout(() => (stop = true), warmupMs + durationMs));
  }
  await Promise.all(Array.from({ length: connections }, worker));
  const end = snap();
  clearInterval(sampler);
  clearTimeout(hardStop);
  for (const t of timers) clearTimeout(t);
  await pool.close().catch(() => undefined);

  const n = latencies.length;
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) => (n === 0 ? null : sorted[Math.min(n - 1, Math.floor((n - 1) * p))]);
  const seconds = start === null ? 0 : (end.at - start.at) / 1000;
  const perReq = (a, b) => (a === null || b === null || n === 0 ? null : (b - a) / n);
  return {
    requests: n,
    /** Answered correctly, warm-up included. */
    sent,
    seconds,
    rps: seconds > 0 ? n / seconds : 0,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
    firstError,
    // CPU time per request, µs: the figure least moved by a noisy machine.
    cpuUsPerReq: start === null ? null : (perReq(start.target, end.target) ?? NaN) * 1000,
    // System calls per request: where the gateway writes more than the baseline (storage, extra socket writes).
    readsPerReq: start?.io == null || end.io === null ? null : perReq(start.io.reads, end.io.reads),
    writesPerReq: start?.io == null || end.io === null ? null : perReq(start.io.writes, end.io.writes),
    upstreamCpuUsPerReq: start === null ? null : (perReq(start.upstream, end.upstream) ?? NaN) * 1000,
    loadCpuUsPerReq: start === null || n === 0 ? null
      : (end.self.user + end.self.system - start.self.user - start.self.system) / n,
    // Share of the machine's CPU time stolen by the hypervisor during the measured seconds, %.
    stealPct: start?.machine == null || end.machine === null || end.machine.total === start.machine.total ? null
      : (100 * (end.machine.steal - start.machine.steal)) / (end.machine.total - start.machine.total),
    peakRssKb: peakRss || null,
    ...(oneShot ? { rssSeries } : {}),
  };
}

process.on('message', (m) => {
  if (m?.type === 'run') {
    run(m.spec).then(
      (result) => process.send({ type: 'result', result }),
      (err) => process.send({ type: 'result', error: String(err?.stack ?? err) }),
    );
  } else if (m?.type === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
