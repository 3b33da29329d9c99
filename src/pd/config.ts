/**
 * The placement driver's settings (from flags and config/pd.json, parsed in
 * src/cli) and the runtime it is given.
 */
import type { Clock, Logger, Timers } from '../runtime/index.js';
import type { Dialer } from '../transport/index.js';

export interface PdConfig {
  /** Every PD member's id and gRPC address. */
  readonly members: ReadonlyMap<number, string>;
  /** Replicas per range (the first range is created once this many stores registered). */
  readonly replicas: number;
  /** A store is "down" after this long without a heartbeat. */
  readonly downAfterMs: number;
  /** Replicas on a store down this long are rebuilt elsewhere. */
  readonly replaceAfterMs: number;
  /** A range over this many bytes is split in two. */
  readonly splitBytes: number;
  /** How often the scheduler looks for work. */
  readonly scheduleMs: number;
  /** Balance replicas and leaders on its own (not only on `rebalance`). */
  readonly autoBalance: boolean;
  /** MVCC versions stay readable this long: the GC safe point trails now by it. */
  readonly gcLifetimeMs: number;
  /** How often the leader runs a GC round over every range. */
  readonly gcIntervalMs: number;
}

export const DEFAULT_PD_CONFIG: Omit<PdConfig, 'members'> = { replicas: 3, downAfterMs: 5_000, replaceAfterMs: 60_000, splitBytes: 64 << 20, scheduleMs: 1_000, autoBalance: true, gcLifetimeMs: 10 * 60_000, gcIntervalMs: 60_000 };

export interface PdDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** How the PD reaches stores and the other members (gRPC, or the simulator's network). */
  readonly dialer: Dialer;
}
