/**
 * Named scenarios on the simulator: each sets up one classic hazard by hand,
 * with clients running, then demands safety (checked every tick), liveness
 * after healing, and a linearizable history.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/sim/history-check.js';
import { DEFAULT_SIM, runSeed, Simulation } from '../../src/sim/index.js';
import type { SimOptions } from '../../src/sim/index.js';

const seed = Number(process.env.SIM_SEED_START ?? 7);

function quietSim(overrides: Partial<SimOptions> = {}): Simulation {
  return new Simulation({ ...DEFAULT_SIM, nemesisRate: 0, membershipChanges: false, ...overrides, seed });
}

async function run(sim: Simulation, ticks: number): Promise<void> {
  for (let i = 0; i < ticks; i++) await sim.step(false);
}

async function stableLeader(sim: Simulation) {
  await run(sim, 60);
  const lead = sim.leader();
  expect(lead, 'a leader within 60 ticks').toBeDefined();
  return lead!;
}

async function finish(sim: Simulation): Promise<void> {
  expect(await sim.runLiveness()).toBeUndefined();
  expect(checkHistory(sim.history)).toBeUndefined();
  // The clients did real work. Some scenarios run only about 100 ticks, so the margin is small: a new
  // leader's first writes wait for its read floor (the MVCC apply) and take a turn longer.
  expect(sim.history.filter((h) => h.output !== undefined).length).toBeGreaterThan(15);
}

describe(`simulator scenarios (SIM_SEED_START=${seed})`, () => {
  it('a partitioned leader steps down (CheckQuorum) and the majority elects another', async () => {
    const sim = quietSim();
    const old = await stableLeader(sim);
    const ids = [...sim.nodes.keys()];
    sim.net.isolate(old.id, ids);
    await run(sim, 40);
    expect(old.raw!.status().role).not.toBe('leader');
    const next = sim.leader();
    expect(next).toBeDefined();
    expect(next!.id).not.toBe(old.id);
    sim.net.heal();
    await run(sim, 30);
    expect(old.raw!.status().lead).toBe(sim.leader()!.id);
    await finish(sim);
  });

  it('a node cut off and rejoining does not depose a healthy leader (PreVote)', async () => {
    const sim = quietSim();
    const lead = await stableLeader(sim);
    const term = lead.raw!.status().term;
    const loner = [...sim.nodes.values()].find((n) => n !== lead)!;
    sim.net.isolate(loner.id, [...sim.nodes.keys()]);
    await run(sim, 200); // many election timeouts
    expect(loner.raw!.status().term).toBe(term); // pre-votes never moved its term
    sim.net.heal();
    await run(sim, 30);
    expect(sim.leader()!.id).toBe(lead.id);
    expect(lead.raw!.status().term).toBe(term);
    await finish(sim);
  });

  it('a far-behind node catches up by InstallSnapshot', async () => {
    const sim = quietSim();
    const lead = await stableLeader(sim);
    const behind = [...sim.nodes.values()].find((n) => n !== lead)!;
    behind.crash();
    await run(sim, 600); // the leader commits and compacts far past the crashed node
    expect(lead.log!.firstIndex()).toBeGreaterThan(behind.log!.lastIndex() + 1);
    const before = sim.stats.snapshotsSent;
    const installed = behind.metrics.snapshotsInstalled;
    behind.start();
    await run(sim, 60);
    expect(sim.stats.snapshotsSent).toBeGreaterThan(before);
    expect(behind.metrics.snapshotsInstalled).toBeGreaterThan(installed);
    await finish(sim);
    expect(await behind.stateImage()).toBe(await sim.leader()!.stateImage());
  });

  it('leadership transfer hands over to the chosen node (TimeoutNow)', async () => {
    const sim = quietSim();
    const lead = await stableLeader(sim);
    const target = [...sim.nodes.values()].find((n) => n !== lead)!;
    lead.raw!.transferLeader(target.id);
    await run(sim, 15);
    expect(sim.leader()!.id).toBe(target.id);
    await finish(sim);
  });

  it('removing the leader: it hands over and leaves, the rest go on', async () => {
    const sim = quietSim({ nodes: 4 });
    const lead = await stableLeader(sim);
    expect(lead.raw!.proposeConfChange({ kind: 'remove', node: lead.id }).kind).toBe('ok');
    await run(sim, 40);
    const next = sim.leader();
    expect(next).toBeDefined();
    expect(next!.id).not.toBe(lead.id);
    expect(next!.raw!.status().conf.voters).not.toContain(lead.id);
    expect(sim.nodes.has(lead.id)).toBe(false); // garbage-collected once the removal committed
    await finish(sim);
  });

  it('a 5-node cluster keeps serving with 2 nodes down', async () => {
    const sim = quietSim({ nodes: 5 });
    const lead = await stableLeader(sim);
    const others = [...sim.nodes.values()].filter((n) => n !== lead);
    others[0].crash();
    others[1].crash();
    const committed = lead.raw!.status().commit;
    await run(sim, 300);
    expect(lead.raw!.status().commit).toBeGreaterThan(committed + 50);
    await finish(sim);
  });

  it('membership grows and shrinks one server at a time while clients run', async () => {
    const sim = quietSim();
    for (let i = 0; i < 30; i++) {
      sim.changeMembership();
      await run(sim, 50);
    }
    expect(sim.stats.confChanges).toBeGreaterThan(0);
    await finish(sim);
  });

  it('the same seed replays bit for bit (same history, same statistics)', async () => {
    const a = await runSeed(seed, { steps: 400 });
    const b = await runSeed(seed, { steps: 400 });
    expect(a.ok, a.failure).toBe(true);
    expect(JSON.stringify(b.history)).toBe(JSON.stringify(a.history));
    expect(b.stats).toEqual(a.stats);
  });
});
