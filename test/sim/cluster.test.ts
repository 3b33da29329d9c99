/**
 * The whole-cluster simulator in the test suite: the placement driver, the
 * stores and the gateway's router over in-memory network, disks and clock,
 * under cuts, pauses, crashes, disk faults and operator commands.
 * SIM_SEED_START moves the window of seeds so CI can roam; a failure prints
 * its replay command. Seeds that once found a bug stay as regression tests.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/sim/history-check.js';
import { ClusterSim, clusterReplayCommand, DEFAULT_CLUSTER_SIM, runClusterSeed } from '../../src/sim/index.js';

const START = Number(process.env.SIM_SEED_START ?? 1);

async function runSeeds(from: number, count: number, stores: number): Promise<void> {
  const failures: string[] = [];
  let ops = 0;
  let faults = 0;
  let operators = 0;
  for (let seed = from; seed < from + count; seed++) {
    const r = await runClusterSeed(seed, { stores });
    ops += r.stats.ops;
    faults += r.stats.cuts + r.stats.crashes + r.stats.pauses;
    operators += r.stats.operatorsOk;
    if (!r.ok) failures.push(`seed ${seed}: ${r.failure}\n  replay: ${clusterReplayCommand(seed, stores)}`);
  }
  expect(failures, failures.join('\n')).toEqual([]);
  // The runs did real work under real faults, and the operators ran.
  expect(ops / count).toBeGreaterThan(300);
  expect(faults / count).toBeGreaterThan(2);
  expect(operators / count).toBeGreaterThan(1);
}

describe('the whole-cluster simulator', () => {
  it(`seeds ${START}..${START + 29} with 3 stores are live and linearizable under cuts and crashes`, () => runSeeds(START, 30, 3), 120_000);

  it(`seeds ${START + 1000}..${START + 1009} with 5 stores are live and linearizable`, () => runSeeds(START + 1000, 10, 5), 120_000);

  it(`bank transfers across ranges, seeds ${START + 2000}..${START + 2019}: every snapshot sums to the total under cuts, crashes, pauses and coordinators dying mid-commit`, async () => {
    const failures: string[] = [];
    let committed = 0;
    let abandoned = 0;
    for (let seed = START + 2000; seed < START + 2020; seed++) {
      const r = await runClusterSeed(seed, { workload: 'bank' });
      committed += r.stats.committed;
      abandoned += r.stats.abandoned;
      if (!r.ok) failures.push(`seed ${seed}: ${r.failure}\n  replay: ${clusterReplayCommand(seed, 3, 'bank')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    console.log(`bank: ${committed / 20} commits and ${abandoned / 20} abandoned transfers per seed`);
    // About 100 per seed since the PD, its operators and the router run in the simulator too (150 before).
    expect(committed / 20).toBeGreaterThan(60);
    // Coordinators died after their prewrites or their primary's commit, and readers resolved what they left.
    expect(abandoned / 20).toBeGreaterThan(1);
  }, 120_000);

  it(`list-append transactions, seeds ${START + 3000}..${START + 3019}: no G0, G1, G-single, lost update or real-time cycle (Elle)`, async () => {
    const failures: string[] = [];
    let committed = 0;
    let conflicts = 0;
    for (let seed = START + 3000; seed < START + 3020; seed++) {
      const r = await runClusterSeed(seed, { workload: 'append' });
      committed += r.stats.committed;
      conflicts += r.stats.conflicts;
      if (!r.ok) failures.push(`seed ${seed}: ${r.failure}\n  replay: ${clusterReplayCommand(seed, 3, 'append')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // Enough commits, and enough contention that conflicts were decided.
    expect(committed / 20).toBeGreaterThan(200);
    expect(conflicts / 20).toBeGreaterThan(10);
  }, 120_000);

  // Later changes move what a seed does; these stay as the seeds that once failed.
  // Seeds 184 and 191: a PD operator moving a replica to a store that had died retried its first step
  // for 30 s, holding the operator queue and with it the replacement of that store. Seed 131: a leader
  // quiesced with a leadership transfer pending, so the transfer never timed out and refused every
  // conf change. Seed 3029 (5 stores): the answer to a replica removal was lost to a partition, and the
  // PD waited out a 60 s call deadline, again holding the queue.
  // Seeds 18 and 65: a leader woken from quiescence served reads on a lease its followers had acknowledged
  // before it stopped ticking (a stale read). Seeds 46 and 59: a leader that stepped down during a burst of
  // caught-up ticks still sent the heartbeats that quiesce its range, which then had no leader and never ticked.
  it.each([
    [18, 3],
    [46, 3],
    [59, 3],
    [65, 3],
    [131, 3],
    [184, 3],
    [191, 3],
    [3029, 5],
  ])('regression: seed %i (%i stores)', async (seed, stores) => {
    const r = await runClusterSeed(seed, { stores });
    expect(r.ok, `${r.failure}\n  replay: ${clusterReplayCommand(seed, stores)}`).toBe(true);
  }, 60_000);

  it('writes resume within 3 s after a range leader is cut off (ISSUE 8 §3)', async () => {
    const ms: number[] = [];
    for (let seed = START; seed < START + 10; seed++) ms.push(await new ClusterSim({ ...DEFAULT_CLUSTER_SIM, seed }).leaderCutOff());
    console.log(`leader cut off: writes resumed after ${ms.join(', ')} ms (simulated)`);
    expect(Math.max(...ms)).toBeLessThan(3_000);
  }, 60_000);

  // Lease reads (ISSUE 12): with the stores' ticks following the clock, a deposed leader never serves a
  // read on a lapsed lease. With ticks driven by the timer alone (a planted bug), 19 of these 20 runs read "old".
  // The paused leader wakes to the read before its overdue timers, as Node does: serving a read on the lease
  // at once without first catching its ticks up (another planted bug) reads "old" in 3 of these 10 paused runs.
  // A quiesced leader's ticks stand still: serving reads at once on a quiesced range (a planted bug) reads "old"
  // in 6 and 8 of the 10 runs of the two idle-range cases.
  it.each([
    ['cut off from the other stores', false, false],
    ['paused (SIGSTOP) and cut off from the other stores', true, false],
    ['of an idle (quiesced) range, cut off from the other stores', false, true],
    ['of an idle (quiesced) range, paused and cut off from the other stores', true, true],
  ])('a leader %s does not serve a stale read on its lease', async (_what, pause, quiesce) => {
    const reads: (string | null)[] = [];
    for (let seed = START; seed < START + 10; seed++) reads.push(await new ClusterSim({ ...DEFAULT_CLUSTER_SIM, seed }).deposedLeaderRead(pause as boolean, quiesce as boolean));
    expect(reads).toEqual(reads.map(() => 'new'));
  }, 60_000);

  it('replays a seed bit for bit: the same digest twice', async () => {
    const a = await runClusterSeed(START + 7);
    const b = await runClusterSeed(START + 7);
    expect(a.digest).toBe(b.digest);
    expect(a.stats).toEqual(b.stats);
    const other = await runClusterSeed(START + 8);
    expect(other.digest).not.toBe(a.digest);
  }, 60_000);

  it('its checker sees the history: a read changed after the fact makes the run fail', async () => {
    const sim = new (await import('../../src/sim/index.js')).ClusterSim({ seed: START + 3, stores: 3, clients: 4, faultMs: 5_000, livenessMs: 30_000, workload: 'kv' });
    const r = await sim.run();
    expect(r.ok, r.failure).toBe(true);
    const read = sim.history.find((h) => h.input.op === 'get' && h.output !== undefined && 'value' in h.output);
    expect(read).toBeDefined();
    read!.output = { value: 'never written' };
    expect(checkHistory(sim.history)).toMatch(/linearizability/);
  }, 60_000);
});
