/**
 * Runs one seed end to end: the fault phase with safety checks after every
 * step, the healed liveness phase, then the linearizability check of the
 * client history.
 */
import { checkHistory } from './history-check.js';
import type { SimOptions, SimResult } from './simulation.js';
import { DEFAULT_SIM, Simulation } from './simulation.js';

export async function runSeed(seed: number, overrides: Partial<Omit<SimOptions, 'seed'>> = {}): Promise<SimResult> {
  const opts: SimOptions = { ...DEFAULT_SIM, ...variantFor(seed), ...overrides, seed };
  const sim = new Simulation(opts);
  let failure: string | undefined;
  try {
    for (let i = 0; i < opts.steps; i++) await sim.step(true);
    failure = await sim.runLiveness();
    failure ??= checkHistory(sim.history);
  } catch (err) {
    failure = `tick ${sim.now}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  return { seed, ok: failure === undefined, failure, stats: sim.finishStats(), history: sim.history };
}

/** Seeds vary the cluster shape so a batch of seeds covers more ground. */
function variantFor(seed: number): Partial<SimOptions> {
  return {
    nodes: seed % 5 === 0 ? 5 : 3,
    readOnly: seed % 4 === 3 ? 'lease' : 'safe',
    commitBroadcast: seed % 7 < 2 ? 'eager' : 'lazy',
    maxSizePerMsg: [1, 64, 4096][seed % 3],
    maxInflightMsgs: [1, 4, 64][(seed >> 2) % 3],
  };
}

export function replayCommand(seed: number, opts: Partial<SimOptions>): string {
  const extra = [opts.steps !== undefined ? `--steps ${opts.steps}` : '', opts.nodes !== undefined ? `--nodes ${opts.nodes}` : ''].filter(Boolean).join(' ');
  return `npm run sim -- --seeds 1 --start ${seed}${extra ? ` ${extra}` : ''}`;
}
