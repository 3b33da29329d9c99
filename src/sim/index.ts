/**
 * sim — the deterministic simulator: seeded network, disk and clock, a
 * nemesis, clients, and checkers: Raft safety, linearizability, transaction
 * histories (Elle list-append, bank). Imported only by tests and the cli;
 * never by production code.
 */
export { runSeed, replayCommand } from './run.js';
export { ClusterSim, clusterReplayCommand, DEFAULT_CLUSTER_SIM, runClusterSeed } from './cluster-sim.js';
export type { ClusterSimOptions, ClusterSimResult, ClusterWorkload } from './cluster-sim.js';
export { Simulation, DEFAULT_SIM } from './simulation.js';
export type { SimOptions, SimResult, SimStats } from './simulation.js';
export { SafetyChecker, SafetyViolation } from './checkers.js';
export { checkBank, checkListAppend, describeAnomaly } from './txn-checkers.js';
export type { BankAnomaly, BankOptions, BankRead, Balances, CheckResult, CycleStep, CycleType, ListAppendAnomaly, ListAppendAnomalyType, ListAppendOp, ListAppendOptions, ListAppendTxn, TxnId, TxnStatus } from './txn-checkers.js';
