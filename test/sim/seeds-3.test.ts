import { it } from 'vitest';
import { runBatch, SEEDS_PER_FILE, STEPS } from './seed-batch.js';

it(`simulator: seeds ${3 * SEEDS_PER_FILE}+[1..${SEEDS_PER_FILE}] of ${STEPS} ticks are safe, live and linearizable`, async () => {
  await runBatch(3 * SEEDS_PER_FILE);
});
