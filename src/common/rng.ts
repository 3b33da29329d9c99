/**
 * A source of randomness handed to code that must stay deterministic under
 * test (the Raft core, the simulator). Real and seeded implementations live in
 * src/runtime.
 */
export interface Rng {
  /** A uniformly distributed integer in [0, n). */
  int(n: number): number;
}
