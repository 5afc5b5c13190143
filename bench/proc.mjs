// Per-process CPU time and memory read from /proc (Linux), so a measured process runs no measuring code of its own.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let hz = 100;
try {
  hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // USER_HZ is 100 on every mainstream Linux build
}

/** User + system CPU time of a process so far, ms (resolution 1000/CLK_TCK, 10 ms), or null off Linux. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / hz;
  } catch {
    return null;
  }
}

/**
 * Read and write system calls of a process so far (`syscr`/`syscw` of /proc/<pid>/io: read, readv, pread; write,
 * writev, pwrite — sockets and files alike), or null off Linux. Counts, not times: a noisy machine does not move them.
 */
export function syscalls(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    const field = (name) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return null;
  }
}

/**
 * The machine's CPU time so far, in ticks, from /proc/stat: all of it, and what the hypervisor gave other guests
 * while this one wanted to run (steal), or null off Linux. A phase with much steal measured a machine that was not
 * all there: its throughput and latency say more about the neighbours than about the code.
 */
export function machineTicks() {
  try {
    const f = readFileSync('/proc/stat', 'latin1').slice(0, 256).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is counted in user already)
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Resident set size now, KiB. */
export const rssKb = (pid) => statusKb(pid, 'VmRSS');
/** Peak resident set size over the process's life, KiB. */
export const peakRssKb = (pid) => statusKb(pid, 'VmHWM');
