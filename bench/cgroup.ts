/**
 * A CPU quota for a process, for the scaling bench: a cgroup of its own with
 * the CFS bandwidth controller, v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`
 * under /sys/fs/cgroup/cpu) or v2 (`cpu.max`). Needs root. The period is
 * short (10 ms, longer only where the quota would fall under the kernel's
 * 1 ms minimum) so that a throttled process stalls for a few ms instead of
 * most of the default 100 ms period.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 10_000;
/** The kernel's smallest quota per period. */
const MIN_QUOTA_US = 1_000;

interface Layout {
  readonly version: 1 | 2;
  /** The directory under which this bench's cgroups go. */
  readonly root: string;
}

/** Where CPU quotas can be set on this machine, or why they cannot. */
function layout(): Layout | string {
  const v2 = '/sys/fs/cgroup/cgroup.controllers';
  if (existsSync(v2)) {
    if (!readFileSync(v2, 'utf8').split(/\s+/).includes('cpu')) return 'cgroup v2 is mounted without the cpu controller';
    return { version: 2, root: '/sys/fs/cgroup' };
  }
  if (existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) return { version: 1, root: '/sys/fs/cgroup/cpu' };
  return 'no cgroup cpu controller (v1 /sys/fs/cgroup/cpu or v2 /sys/fs/cgroup) on this machine';
}

/** A group of per-process quotas; `close` removes every cgroup it made. */
export class CpuQuotas {
  private readonly made: string[] = [];

  private constructor(
    private readonly l: Layout,
    private readonly dir: string,
  ) {}

  /** Creates the bench's parent cgroup; throws with the reason when quotas cannot be set here. */
  static open(name: string): CpuQuotas {
    const l = layout();
    if (typeof l === 'string') throw new Error(`cannot set CPU quotas: ${l}`);
    const dir = join(l.root, name);
    const q = new CpuQuotas(l, dir);
    try {
      mkdirSync(dir, { recursive: true });
      q.made.push(dir);
      // v2: the children of a cgroup get the cpu controller only if their parent hands it down.
      if (l.version === 2) writeFileSync(join(dir, 'cgroup.subtree_control'), '+cpu');
    } catch (err) {
      q.close();
      throw new Error(`cannot set CPU quotas under ${l.root} (${(err as Error).message}): the bench needs root, and on cgroup v2 the cpu controller enabled in the parent's cgroup.subtree_control`);
    }
    return q;
  }

  /** Limits `pid` (all its threads) to `cores` of CPU, e.g. 0.1. */
  limit(label: string, pid: number, cores: number): void {
    const dir = join(this.dir, label);
    mkdirSync(dir, { recursive: true });
    if (!this.made.includes(dir)) this.made.push(dir);
    const period = Math.max(PERIOD_US, Math.ceil(MIN_QUOTA_US / cores));
    const quota = Math.round(cores * period);
    if (this.l.version === 1) {
      // The period first: a quota above the old period's limits may be refused otherwise.
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
    } else {
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
    }
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  }

  /** Throttling so far of the cgroup `label`: periods throttled out of periods run. */
  throttled(label: string): { periods: number; throttled: number } {
    const stat = readFileSync(join(this.dir, label, 'cpu.stat'), 'utf8');
    const field = (name: string) => Number(stat.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? 0);
    return { periods: field('nr_periods'), throttled: field('nr_throttled') };
  }

  /** Removes the cgroups (their processes must have exited; a cgroup with members cannot go). */
  close(): void {
    for (const dir of this.made.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Still holds a process that has not exited yet: left for the system to reap.
      }
    }
    this.made.length = 0;
  }
}
