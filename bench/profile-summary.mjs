// Summarises a V8 .cpuprofile (from BENCH_PROFILE=1): self time by function and by package, heaviest first.
import { readFileSync } from 'node:fs';

const [file, top = '40'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top N]');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 13).split('/').slice(0, url.slice(nm + 13).startsWith('@') ? 2 : 1).join('/');
  if (url.startsWith('node:')) return url;
  if (url === '') return '(native)';
  return url.replace(/^.*\/dist\//, 'dist/');
};
const fnKey = (cf) => `${cf.functionName || '(anonymous)'}  ${where(cf)}${cf.url && !cf.url.includes('node_modules') ? `:${cf.lineNumber + 1}` : ''}`;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map();
const pkgs = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  add(fns, fnKey(cf), t);
  add(pkgs, where(cf), t);
}
const show = (title, m, n) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)')).slice(0, n)) {
    console.log(`  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
};
// Inclusive time: each sample counted once for every distinct function on its stack.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, t] of self) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = fnKey(byId.get(cur).callFrame);
    if (!seen.has(k)) {
      seen.add(k);
      add(incl, k, t);
    }
  }
}
const busy = total - (fns.get('(idle)  (native)') ?? 0);
console.log(`${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages below are of busy time)`);
pkgs.set('(native)', (pkgs.get('(native)') ?? 0) - (fns.get('(idle)  (native)') ?? 0));
show('self time by package / file', pkgs, 30);
show('self time by function', fns, Number(top));
show('inclusive time by function', incl, Number(top));
