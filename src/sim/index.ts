/**
 * sim — the deterministic simulator: seeded network, disk and clock, a
 * nemesis, clients, safety and linearizability checkers. Imported only by
 * tests and the cli; never by production code.
 */
export { runSeed, replayCommand } from './run.js';
export { ClusterSim, clusterReplayCommand, DEFAULT_CLUSTER_SIM, runClusterSeed } from './cluster-sim.js';
export type { ClusterSimOptions, ClusterSimResult } from './cluster-sim.js';
export { Simulation, DEFAULT_SIM } from './simulation.js';
export type { SimOptions, SimResult, SimStats } from './simulation.js';
export { SafetyChecker, SafetyViolation } from './checkers.js';
