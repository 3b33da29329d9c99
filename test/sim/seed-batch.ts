/**
 * Runs a batch of simulator seeds inside vitest. The first seed comes from
 * SIM_SEED_START (default 1) so CI can roam; a failure prints its replay command.
 */
import { expect } from 'vitest';
import { replayCommand, runSeed } from '../../src/sim/index.js';

/** A seed runs the production replica and Ready loop over the in-memory engine (~60–80 ms): four files of 125 seeds, about 10 s each. */
export const SEEDS_PER_FILE = 125;
export const STEPS = 2000;

export async function runBatch(offset: number): Promise<void> {
  const start = Number(process.env.SIM_SEED_START ?? 1) + offset;
  const failures: string[] = [];
  let committed = 0;
  for (let seed = start; seed < start + SEEDS_PER_FILE; seed++) {
    const r = await runSeed(seed, { steps: STEPS });
    committed += r.stats.committed;
    if (!r.ok) failures.push(`seed ${seed}: ${r.failure}\n  replay: ${replayCommand(seed, { steps: STEPS })}`);
  }
  expect(failures, failures.join('\n')).toEqual([]);
  // The runs did real work: on average well over a hundred commits per seed.
  expect(committed / SEEDS_PER_FILE).toBeGreaterThan(100);
}
