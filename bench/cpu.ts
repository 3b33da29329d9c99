/**
 * CPU use of processes, read from /proc/<pid>/stat (utime + stime), for the
 * benchmarks: take a sample before a run and one after, and the difference
 * over the wall-clock time between them is the CPU share of each process, in
 * percent of one core (200 % = two cores busy). Linux only; on a system
 * without /proc every figure is null.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, nearly always 100). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** The fields of /proc/<pid>/stat after the command name: [0] is the state, [1] the ppid, [11] utime, [12] stime. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (f === undefined) return undefined;
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** Processes grouped by role, e.g. {gateway: [pid], stores: [pid, pid, pid], pd: [...]}. */
export type ProcessGroups = Record<string, number[]>;

export interface CpuReport {
  /** Wall-clock seconds between start() and stop(). */
  seconds: number;
  /** Per role: the summed CPU of its processes, % of one core (to 0.1); null if none of them could be read. */
  roles: Record<string, number | null>;
  /** Per process: % of one core; null if the process vanished (a restart, say) during the run. */
  processes: { role: string; pid: number; cpu: number | null }[];
}

/** Measures the CPU of a fixed set of processes over an interval. */
export class CpuMeter {
  private t0 = 0;
  private readonly before = new Map<number, number | undefined>();

  constructor(private readonly groups: ProcessGroups) {}

  start(): void {
    this.before.clear();
    for (const pids of Object.values(this.groups)) for (const pid of pids) this.before.set(pid, cpuSeconds(pid));
    this.t0 = performance.now();
  }

  stop(): CpuReport {
    const seconds = (performance.now() - this.t0) / 1000;
    const processes: CpuReport['processes'] = [];
    const roles: CpuReport['roles'] = {};
    for (const [role, pids] of Object.entries(this.groups)) {
      let sum: number | null = null;
      for (const pid of pids) {
        const a = this.before.get(pid);
        const b = cpuSeconds(pid);
        const cpu = a === undefined || b === undefined || seconds <= 0 ? null : Math.round(((b - a) / seconds) * 1000) / 10;
        processes.push({ role, pid, cpu });
        if (cpu !== null) sum = (sum ?? 0) + cpu;
      }
      roles[role] = sum === null ? null : Math.round(sum * 10) / 10;
    }
    return { seconds, roles, processes };
  }
}

/**
 * Every descendant of a process with its command line (argv), from /proc: a
 * fallback to find a local cluster's processes when its admin API cannot say.
 */
export function descendants(root: number): { pid: number; argv: string[] }[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: { pid: number; argv: string[] }[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue;
    }
    out.push({ pid, argv });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}
