// `npm run bench`: the gateway's overhead against a bare Node proxy, measured in one run, interleaved, on loopback.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssKb, rssKb } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const num = (name, def) => (process.env[name] === undefined || process.env[name] === '' ? def : Number(process.env[name]));
/** A variable's Node flags, split on white space. */
const flags = (name) => (process.env[name] ?? '').split(/\s+/).filter(Boolean);
/** Every knob, with its default; see bench/README.md. */
const config = {
  seconds: num('BENCH_SECONDS', 5),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 1),
  rounds: num('BENCH_ROUNDS', 3),
  connections: num('BENCH_CONNECTIONS', 32),
  streams: num('BENCH_STREAMS', 1000),
  memoryWaves: num('BENCH_MEMORY_WAVES', 2),
  scenarios: (process.env.BENCH_SCENARIOS ?? 'json,stream,latency,memory').split(',').map((s) => s.trim()).filter(Boolean),
  profile: process.env.BENCH_PROFILE === '1',
  /** Extra Node flags for the gateway processes, and for the proxy, e.g. `--trace-gc` (their output joins the bench's). */
  gatewayFlags: flags('BENCH_GATEWAY_FLAGS'),
  baselineFlags: flags('BENCH_BASELINE_FLAGS'),
  /** Node flags for the `BENCH_BEFORE_DIST` gateway only, after the others (the last of a flag wins): a setting's A/B. */
  beforeFlags: flags('BENCH_BEFORE_FLAGS'),
  /** `sqlite` (the server's default) or `memory` (diagnostic: the engine without storage cost). */
  storage: process.env.BENCH_STORAGE === 'memory' ? 'memory' : 'sqlite',
  /** Another build of the gateway (a copy of dist/ from before a change) measured beside the current one. */
  beforeDist: process.env.BENCH_BEFORE_DIST ? resolve(process.env.BENCH_BEFORE_DIST) : null,
  /** Fresh baseline and gateway processes for every round (`BENCH_RESTART=0`: one process each for the whole run). */
  restart: process.env.BENCH_RESTART !== '0',
  /** Seconds of unmeasured load a new process gets (non-streaming, then streaming) before its first measured phase. */
  processWarmupSeconds: num('BENCH_PROCESS_WARMUP_SECONDS', 2),
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The V8 settings `npm start` runs the server with (package.json). The gateway gets them, so it runs as `npm start`
 * runs it, and so does the baseline proxy: the ratios are then TokenHub's own, not a tuning one side had.
 */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];
{
  const start = JSON.parse(readFileSync(join(here, '../package.json'), 'utf8')).scripts?.start ?? '';
  if (!SERVER_NODE_FLAGS.every((f) => start.split(/\s+/).includes(f))) {
    console.error(`bench: package.json's start script (${start}) no longer runs node with ${SERVER_NODE_FLAGS.join(' ')}; update SERVER_NODE_FLAGS`);
    process.exit(1);
  }
}

if (!existsSync(join(here, '../dist/server/index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first (npm run bench does).');
  process.exit(1);
}

// ---- children -------------------------------------------------------------------------------

const children = [];
/** Forks a bench child and waits for its `ready` message (bounded). */
function start(file, { env = {}, execArgv = [] } = {}) {
  const child = fork(join(here, file), [], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
    child.on('message', function ready(m) {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', ready);
      resolve({ child, pid: child.pid, port: m.port });
    });
  });
}
/** Sends a message and waits for the answer of the given type (bounded). */
function ask(child, message, answer, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${answer} within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', function on(m) {
      if (m?.type !== answer) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    });
    child.send(message);
  });
}
/** Asks a child to stop (a gateway flushes its usage records) and waits for it to exit; SIGKILL after 15 s. */
function stop(c) {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.send({ type: 'stop' });
  });
}
const stopAll = () => Promise.all(children.map(stop));

// ---- the run --------------------------------------------------------------------------------

const workDir = mkdtempSync(join(tmpdir(), 'tokenhub-bench-'));
const ADMIN = 'bench-admin-token-0123456789';
const messages = [
  { role: 'system', content: 'You are a concise assistant. Answer in one short paragraph, without lists.' },
  {
    role: 'user',
    content:
      'Our team runs a small web shop. Summarise, for a non-technical manager, what an LLM gateway does, why it helps ' +
      'to cap the monthly spend of each API key, and what routing every request to the cheapest model that can serve ' +
      'it would change for the bill at the end of the month. Keep it under one hundred words.',
  },
];
const common = { model: 'economy', messages, max_tokens: 256, temperature: 0.2 };
const bodies = {
  json: JSON.stringify(common),
  stream: JSON.stringify({ ...common, stream: true, stream_options: { include_usage: true } }),
  slow: JSON.stringify({ ...common, stream: true, stream_options: { include_usage: true }, user: 'bench-slow' }),
};

let upstream, baseline, gateway, load;
try {
  upstream = await start('upstream.mjs');
  const upstreamURL = `http://127.0.0.1:${upstream.port}/v1`;
  const connections = String(Math.max(256, config.streams + 24));
  const profileDir = join(workDir, 'profiles');
  const profileFlags = (name) => (config.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
  const startBaseline = () => start('proxy.mjs', { execArgv: [...SERVER_NODE_FLAGS, ...config.baselineFlags, ...profileFlags('baseline')], env: { UPSTREAM_URL: upstreamURL, BENCH_UPSTREAM_CONNECTIONS: connections } });
  baseline = await startBaseline();
  const startGateway = (name, dist) => start('gateway.mjs', {
    execArgv: ['--expose-gc', ...SERVER_NODE_FLAGS, ...config.gatewayFlags, ...(name === 'before' ? config.beforeFlags : []), ...profileFlags(name)],
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      TOKENHUB_DB: join(workDir, `${name}.db`),
      TOKENHUB_ADMIN_TOKEN: ADMIN,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: upstreamURL,
      // Enough upstream sockets for every concurrent stream of the memory scenario (the default is 256).
      TOKENHUB_UPSTREAM_CONNECTIONS: connections,
      BENCH_DIST: dist ?? '',
    },
  });
  gateway = await startGateway('tokenhub');
  const before = config.beforeDist === null ? null : await startGateway('before', config.beforeDist);
  load = await start('load.mjs');

  const baselineTarget = Object.assign(runningAs(baseline, startBaseline), { name: 'baseline', headers: { 'content-type': 'application/json' }, sent: 0 });
  const gatewayTarget = await gatewayTargetOf('tokenhub', gateway, () => startGateway('tokenhub'));
  const targets = [
    baselineTarget,
    gatewayTarget,
    ...(before === null ? [] : [await gatewayTargetOf('before', before, () => startGateway('before', config.beforeDist))]),
  ];
  for (const t of targets) await sanityCheck(t);

  const phase = async (target, spec) => {
    const { result, error } = await ask(load.child, {
      type: 'run',
      spec: { origin: target.origin, path: '/v1/chat/completions', headers: target.headers, pids: { target: target.pid, upstream: upstream.pid }, ...spec },
    }, 'result', (spec.warmupMs ?? 0) + (spec.durationMs ?? 0) + 120_000);
    if (error) throw new Error(`load generator failed: ${error}`);
    target.sent += result.sent;
    return result;
  };

  /**
   * A fresh process runs its code unoptimised at first: a scenario measured first (1 connection, say, in a run of
   * that scenario alone) would measure the JIT's warm-up, not the gateway. Half non-streaming, half streaming.
   */
  const warmUp = async (t) => {
    if (config.processWarmupSeconds <= 0) return;
    for (const [body, stream] of [[bodies.json, false], [bodies.stream, true]]) {
      await phase(t, { body, stream, connections: config.connections, warmupMs: config.processWarmupSeconds * 500, durationMs: 0 });
    }
  };
  for (const t of targets) await warmUp(t);

  const loadScenarios = [
    { name: 'json', label: `non-streaming, ${config.connections} conn`, connections: config.connections, body: bodies.json, stream: false },
    { name: 'stream', label: `streaming 16 chunks + usage, ${config.connections} conn`, connections: config.connections, body: bodies.stream, stream: true },
    { name: 'latency', label: 'non-streaming, 1 conn', connections: 1, body: bodies.json, stream: false },
  ].filter((s) => config.scenarios.includes(s.name));

  const raw = {};
  const est = loadScenarios.length * targets.length * config.rounds * (config.seconds + config.warmupSeconds);
  console.log(`bench: ${loadScenarios.length} scenarios × ${config.rounds} rounds × (${targets.map((t) => t.name).join(', ')}), ` +
    `${config.warmupSeconds}+${config.seconds} s each (~${Math.ceil(est / 60)} min); tokenhub storage: ${config.storage}`);
  for (let round = 1; round <= config.rounds; round++) {
    // The same build measured in two processes differed by up to a fifth in CPU per request, for the whole life of
    // each process: fresh processes every round let the medians average that out instead of crowning one process.
    if (round > 1 && config.restart) {
      for (const t of targets) {
        await t.restart();
        await warmUp(t);
      }
    }
    // Each round starts with the next target, so no target keeps one place in the order (say, always right after
    // the baseline's phase) through a run.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]);
    for (const s of loadScenarios) {
      for (const t of order) {
        const r = await phase(t, {
          body: s.body, stream: s.stream, connections: s.connections,
          warmupMs: config.warmupSeconds * 1000, durationMs: config.seconds * 1000,
        });
        if (r.requests === 0) throw new Error(`${t.name}: no request succeeded in ${s.name}, round ${round} (${r.firstError ?? 'no answer'})`);
        ((raw[s.name] ??= {})[t.name] ??= []).push(r);
        console.log(`  round ${round} ${s.name.padEnd(7)} ${t.name.padEnd(8)} ${fmt(r.rps, 0).padStart(6)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  ` +
          `cpu ${fmt(r.cpuUsPerReq, 0)} µs/req  upstream ${fmt(r.upstreamCpuUsPerReq, 0)} µs/req  ` +
          `syscalls r/w ${fmt(r.readsPerReq, 2)}/${fmt(r.writesPerReq, 2)} per req  steal ${fmt(r.stealPct, 0)}%${r.errors ? `  ERRORS ${r.errors} (${r.firstError})` : ''}`);
      }
    }
  }

  const medians = {};
  for (const [scenario, byTarget] of Object.entries(raw)) {
    medians[scenario] = {};
    for (const [t, runs] of Object.entries(byTarget)) {
      medians[scenario][t] = {};
      for (const k of ['rps', 'p50Ms', 'p99Ms', 'cpuUsPerReq', 'upstreamCpuUsPerReq', 'readsPerReq', 'writesPerReq', 'stealPct', 'peakRssKb']) medians[scenario][t][k] = median(runs.map((r) => r[k]));
      medians[scenario][t].errors = runs.reduce((a, r) => a + r.errors, 0);
    }
  }

  let memory = null;
  if (config.scenarios.includes('memory')) memory = await memoryScenario(gatewayTarget, phase);

  // Usage recording is part of "everything on": every request the gateway served must have its record.
  const recorded = await usageRecorded(gatewayTarget.origin);
  const usageCheck = { sent: gatewayTarget.sent, recorded: recorded === null ? null : gatewayTarget.recordedBefore + recorded };

  // Peak RSS over each process's whole life (VmHWM), read before they stop.
  const processes = Object.fromEntries([['upstream', upstream.pid], ...targets.map((t) => [t.name, t.pid])].map(([n, pid]) => [n, { peakRssKb: peakRssKb(pid) }]));
  await stopAll();
  const report = buildReport({ medians, memory, usageCheck, raw, processes, targets: targets.map((t) => t.name) });
  printReport(report, loadScenarios);
  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nresults written to ${file}`);
  if (config.profile) console.log(`CPU profiles in ${profileDir}/<process> (summary: node bench/profile-summary.mjs <file>)`);
  else rmSync(workDir, { recursive: true, force: true });
} catch (err) {
  console.error(`bench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
  for (const c of children) c.kill('SIGKILL');
}

/**
 * A target's process and where it listens, and how to replace it with a fresh one: same database and key with SQLite;
 * with in-process storage (`BENCH_STORAGE=memory`) `fresh(t)` gives the new process what the old one took with it.
 */
function runningAs(started, startAgain, { retiring = async () => {}, fresh = async () => {} } = {}) {
  const t = {
    child: started.child,
    pid: started.pid,
    origin: `http://127.0.0.1:${started.port}`,
    async restart() {
      await retiring(t);
      await stop(t.child);
      const next = await startAgain();
      Object.assign(t, { child: next.child, pid: next.pid, origin: `http://127.0.0.1:${next.port}` });
      await fresh(t);
    },
  };
  return t;
}

/** A capped key created through the gateway's admin API: the headers the load generator sends. */
async function benchKeyHeaders(name, origin) {
  const created = await fetch(`${origin}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', monthlyLimitUsd: 100_000 }),
  });
  if (created.status !== 201) throw new Error(`${name}: creating the bench key failed: HTTP ${created.status} ${await created.text()}`);
  const { key } = await created.json();
  return { 'content-type': 'application/json', authorization: `Bearer ${key}` };
}

/** How many usage records the gateway at `origin` holds (the admin API waits for settles and flushes first). */
async function usageRecorded(origin) {
  const usage = await (await fetch(`${origin}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  return usage?.totals?.requests ?? null;
}

/** A gateway target. restart() keeps the object: the phases read pid, origin and headers from it at each phase. */
async function gatewayTargetOf(name, child, startAgain) {
  const memory = config.storage === 'memory';
  const t = runningAs(child, startAgain, {
    // In-process storage leaves with its process: count its records first, and give the next one a key.
    retiring: async (g) => {
      if (memory) g.recordedBefore += (await usageRecorded(g.origin)) ?? 0;
    },
    fresh: async (g) => {
      if (memory) g.headers = await benchKeyHeaders(name, g.origin);
    },
  });
  return Object.assign(t, { name, gateway: true, headers: await benchKeyHeaders(name, t.origin), sent: 0, recordedBefore: 0 });
}

// ---- scenarios ------------------------------------------------------------------------------

/** One request of each kind through a target, checked for the right answer, before anything is timed. */
async function sanityCheck(t) {
  const j = await fetch(`${t.origin}/v1/chat/completions`, { method: 'POST', headers: t.headers, body: bodies.json });
  const body = await j.json();
  if (j.status !== 200 || typeof body?.choices?.[0]?.message?.content !== 'string') {
    throw new Error(`${t.name}: unexpected JSON answer: HTTP ${j.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  const s = await fetch(`${t.origin}/v1/chat/completions`, { method: 'POST', headers: t.headers, body: bodies.stream });
  const text = await s.text();
  const frames = text.split('\n\n').filter(Boolean);
  if (s.status !== 200 || !text.endsWith('data: [DONE]\n\n') || !frames.some((f) => f.includes('"usage":{'))) {
    throw new Error(`${t.name}: unexpected stream: HTTP ${s.status} ${text.slice(0, 300)}`);
  }
  if (t.gateway) {
    t.sent += 2;
    for (const name of ['x-inferoute-model', 'x-inferoute-cost-usd', 'x-inferoute-spend-remaining-usd']) {
      if (!j.headers.get(name)) throw new Error(`${t.name}: answer without ${name}`);
    }
    if (body.model !== 'openai/gpt-4o-mini') throw new Error(`${t.name}: economy routed to ${body.model}, expected openai/gpt-4o-mini`);
  }
}

/** RSS of the gateway before, during and after waves of slow concurrent streams. */
async function memoryScenario(target, phase) {
  const settled = async () => {
    // Two full collections a moment apart: what is still resident then is what the gateway keeps.
    await ask(target.child, { type: 'gc' }, 'gc-done', 10_000);
    await sleep(300);
    const heap = await ask(target.child, { type: 'gc' }, 'gc-done', 10_000);
    await sleep(200);
    const kb = (b) => Math.round(b / 1024);
    return { rssKb: rssKb(target.pid), heapUsedKb: kb(heap.heapUsed), heapTotalKb: kb(heap.heapTotal), externalKb: kb(heap.external), arrayBuffersKb: kb(heap.arrayBuffers) };
  };
  console.log(`  memory: ${config.streams} concurrent slow streams × ${config.memoryWaves} waves`);
  const before = await settled();
  const waves = [];
  for (let w = 1; w <= config.memoryWaves; w++) {
    const r = await phase(target, { body: bodies.slow, stream: true, connections: config.streams, oneShot: true });
    // Upstream keep-alive sockets idle out after the stand-in's 5 s; wait for them before measuring "after".
    await sleep(6_000);
    const after = await settled();
    waves.push({ completed: r.requests, errors: r.errors, firstError: r.firstError, seconds: r.seconds, duringPeakKb: r.peakRssKb, after, series: r.rssSeries });
    console.log(`  memory wave ${w}: ${r.requests}/${config.streams} streams in ${fmt(r.seconds, 1)} s; RSS before ${mb(before.rssKb)} MB, ` +
      `during ${mb(r.peakRssKb)} MB, after ${mb(after.rssKb)} MB; JS heap after GC ${mb(before.heapUsedKb)} -> ${mb(after.heapUsedKb)} MB` +
      `${r.errors ? `  ERRORS ${r.errors} (${r.firstError})` : ''}`);
  }
  const after = waves.at(-1).after;
  return {
    streams: config.streams,
    beforeKb: before.rssKb,
    duringPeakKb: Math.max(...waves.map((w) => w.duringPeakKb ?? 0)),
    afterKb: after.rssKb,
    growth: after.rssKb / before.rssKb - 1,
    heapBeforeKb: before.heapUsedKb,
    heapAfterKb: after.heapUsedKb,
    /** Settled figures before the first wave: RSS, JS heap used/total, external, array buffers (KiB). */
    before,
    waves,
  };
}

// ---- report ---------------------------------------------------------------------------------

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
function fmt(x, digits) {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}
function mb(kb) {
  return fmt(kb === null ? null : kb / 1024, 1);
}
function ratio(g, b) {
  return g === null || b === null || b === 0 ? null : g / b;
}

function buildReport({ medians, memory, usageCheck, raw, processes, targets: names }) {
  const m = (s, t, k) => medians[s]?.[t]?.[k] ?? null;
  const targets = [
    { goal: 'non-streaming CPU per request', value: ratio(m('json', 'tokenhub', 'cpuUsPerReq'), m('json', 'baseline', 'cpuUsPerReq')), max: 1.5, unit: '×' },
    { goal: 'non-streaming throughput', value: ratio(m('json', 'tokenhub', 'rps'), m('json', 'baseline', 'rps')), min: 0.65, unit: '×' },
    { goal: 'streaming throughput', value: ratio(m('stream', 'tokenhub', 'rps'), m('stream', 'baseline', 'rps')), min: 0.8, unit: '×' },
    {
      goal: 'added p50 latency, 1 connection',
      value: m('latency', 'tokenhub', 'p50Ms') === null || m('latency', 'baseline', 'p50Ms') === null ? null : m('latency', 'tokenhub', 'p50Ms') - m('latency', 'baseline', 'p50Ms'),
      max: 0.15,
      unit: ' ms',
    },
    { goal: `RSS after ${config.streams} streams vs before`, value: memory === null ? null : memory.afterKb / memory.beforeKb, max: 1.1, unit: '×' },
  ];
  for (const t of targets) t.met = t.value === null ? null : (t.max === undefined || t.value <= t.max) && (t.min === undefined || t.value >= t.min);
  const ratiosOf = (over, under) => Object.fromEntries(Object.keys(medians).map((s) => [s, Object.fromEntries(
    ['rps', 'p50Ms', 'p99Ms', 'cpuUsPerReq', 'readsPerReq', 'writesPerReq', 'peakRssKb'].map((k) => [k, ratio(m(s, over, k), m(s, under, k))]),
  )]));
  return {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? null, node: process.version, platform: `${process.platform} ${process.arch}` },
    config,
    targetNames: names,
    medians,
    /** tokenhub / baseline, per scenario and metric. */
    ratios: ratiosOf('tokenhub', 'baseline'),
    ...(names.includes('before') ? { ratiosToBefore: ratiosOf('tokenhub', 'before') } : {}),
    targets,
    memory: memory === null ? null : { ...memory, waves: memory.waves.map(({ series, ...w }) => w) },
    memorySeries: memory?.waves.map((w) => w.series) ?? null,
    usageCheck,
    processes,
    raw,
  };
}

function printReport(report, scenarios) {
  const names = report.targetNames;
  const hasBefore = names.includes('before');
  const rows = [['scenario', 'metric', ...names, 'tokenhub/baseline', ...(hasBefore ? ['tokenhub/before'] : [])]];
  const metrics = [
    ['rps', 'req/s', 0],
    ['p50Ms', 'p50 ms', 2],
    ['p99Ms', 'p99 ms', 2],
    ['cpuUsPerReq', 'CPU µs/req', 0],
    ['readsPerReq', 'read syscalls/req', 2],
    ['writesPerReq', 'write syscalls/req', 2],
    ['peakRssKb', 'peak RSS MB', 1],
  ];
  for (const s of scenarios) {
    const med = report.medians[s.name];
    metrics.forEach(([k, label, d], i) => {
      const show = (x) => (k === 'peakRssKb' ? mb(x) : fmt(x, d));
      rows.push([
        i === 0 ? s.label : '', label, ...names.map((n) => show(med[n][k])), `${fmt(report.ratios[s.name][k], 2)}×`,
        ...(hasBefore ? [`${fmt(report.ratiosToBefore[s.name][k], 2)}×`] : []),
      ]);
    });
  }
  console.log(`\nmedians of ${config.rounds} interleaved rounds, ${config.seconds} s each, on ${report.machine.cpus} × ${report.machine.cpu}, Node ${report.machine.node}; tokenhub storage: ${config.storage}\n`);
  printTable(rows);
  const steal = Object.values(report.raw).flatMap((byTarget) => Object.values(byTarget).flat()).map((r) => r.stealPct);
  if (steal.some((x) => typeof x === 'number')) {
    // Time the hypervisor gave other guests: where it is high, the machine, not the code, moved the figures.
    console.log(`\nsteal during the measured phases: median ${fmt(median(steal), 1)}%, highest ${fmt(Math.max(...steal.filter(Number.isFinite)), 1)}% of the machine's CPU time`);
  }
  if (report.memory !== null) {
    const mm = report.memory;
    console.log(`\nmemory, ${mm.streams} concurrent slow streams × ${mm.waves.length} waves: tokenhub RSS before ${mb(mm.beforeKb)} MB, during ${mb(mm.duringPeakKb)} MB (peak), ` +
      `after ${mb(mm.afterKb)} MB (${fmt(mm.growth * 100, 1)}%); JS heap after GC ${mb(mm.heapBeforeKb)} -> ${mb(mm.heapAfterKb)} MB`);
  }
  console.log(`usage records: ${report.usageCheck.recorded} recorded for ${report.usageCheck.sent} requests served`);
  console.log('\ntargets');
  printTable([
    ['goal', 'value', 'target', 'met'],
    ...report.targets.map((t) => [t.goal, t.value === null ? '–' : `${fmt(t.value, 2)}${t.unit}`, t.max !== undefined ? `≤ ${t.max}${t.unit}` : `≥ ${t.min}${t.unit}`, t.met === null ? '–' : t.met ? 'yes' : 'NO']),
  ]);
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('   '));
}
