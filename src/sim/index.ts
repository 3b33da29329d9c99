/**
 * sim — the deterministic simulator: seeded network, disk and clock, a
 * nemesis, clients, safety and linearizability checkers. Imported only by
 * tests and the cli; never by production code.
 */
export { runSeed, replayCommand } from './run.js';
export { Simulation, DEFAULT_SIM } from './simulation.js';
export type { SimOptions, SimResult, SimStats } from './simulation.js';
export { SafetyChecker, SafetyViolation } from './checkers.js';
