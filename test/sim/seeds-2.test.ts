import { it } from 'vitest';
import { runBatch, SEEDS_PER_FILE, STEPS } from './seed-batch.js';

it(`simulator: seeds ${2 * SEEDS_PER_FILE}+[1..${SEEDS_PER_FILE}] of ${STEPS} ticks are safe, live and linearizable`, async () => {
  await runBatch(2 * SEEDS_PER_FILE);
});
