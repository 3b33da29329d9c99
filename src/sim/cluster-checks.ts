/**
 * The end-of-run check of the range table, once everything healed: the
 * placement driver's ranges tile the keyspace (no gap, no overlap) and every
 * range has its three voters, each a running store that hosts the range at
 * the PD's epoch. It polls: heartbeats and the PD's repairs need some time to
 * converge, within the bound the run allows.
 */
import type { RangeDescriptor } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { SimProcesses } from './sim-processes.js';

const VOTERS = 3;

/** Polls until the table is right or `withinMs` is nearly over (a poll takes up to 3 s: the PD call's deadline). */
export async function checkRangeTable(procs: SimProcesses, clock: Clock, timers: Timers, withinMs: number): Promise<{ problem?: string; ranges: number }> {
  const deadline = clock.monotonic() + withinMs - 4_000;
  let problem = '';
  let count = 0;
  while (clock.monotonic() < deadline) {
    try {
      const { ranges } = await procs.pdCall('GetRanges');
      count = ranges.length;
      const p = tableProblem(procs, ranges.map((r) => r.range));
      if (p === undefined) return { ranges: count };
      problem = p;
    } catch (err) {
      problem = `the placement driver does not answer: ${err instanceof Error ? err.message : String(err)}`;
    }
    await new Promise<void>((r) => timers.setTimeout(r, 500));
  }
  return { problem: `range table: ${problem}`, ranges: count };
}

function tableProblem(procs: SimProcesses, ranges: RangeDescriptor[]): string | undefined {
  const hex = (b: Uint8Array) => JSON.stringify(Buffer.from(b).toString());
  const sorted = [...ranges].sort((a, b) => Buffer.compare(a.start, b.start));
  if (sorted.length === 0) return 'no ranges';
  if (sorted[0].start.byteLength !== 0) return `the first range starts at ${hex(sorted[0].start)}`;
  for (let i = 0; i + 1 < sorted.length; i++) {
    if (Buffer.compare(sorted[i].end, sorted[i + 1].start) !== 0) return `range ${sorted[i].id} ends at ${hex(sorted[i].end)} but range ${sorted[i + 1].id} starts at ${hex(sorted[i + 1].start)}`;
  }
  const last = sorted[sorted.length - 1];
  if (last.end.byteLength !== 0) return `the last range (${last.id}) ends at ${hex(last.end)}`;
  for (const r of sorted) {
    const voters = r.replicas.filter((rep) => rep.role === 'voter');
    if (voters.length !== VOTERS) return `range ${r.id} has ${voters.length} voters (${voters.map((v) => v.store).join(', ')})`;
    for (const v of voters) {
      const store = procs.stores.get(v.store)?.store;
      if (!store) return `range ${r.id} has a voter on store ${v.store}, which is not running`;
      const replica = store.replicas.get(r.id);
      if (!replica) return `store ${v.store} does not host range ${r.id}`;
      const e = replica.desc.current.epoch;
      if (e.version !== r.epoch.version || e.confVer !== r.epoch.confVer) return `store ${v.store} hosts range ${r.id} at epoch ${e.version}/${e.confVer}, the PD has ${r.epoch.version}/${r.epoch.confVer}`;
    }
  }
  return undefined;
}
