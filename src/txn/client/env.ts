/** What a transaction needs from the client that began it, and the client's options. */
import type { Clock, Timers } from '../../runtime/index.js';
import type { WireKvResponse } from '../../transport/index.js';
import type { LockResolver } from './lock-resolver.js';
import type { KvRequest, RangeSender } from './sender.js';
import type { TsoBatcher } from './tso-batcher.js';

export interface TxnClientOptions {
  /** How long a request may take in all, waiting on locks included (ms). */
  readonly deadlineMs: number;
  /** The TTL of a transaction's locks: how long a dead coordinator can block others (ms). */
  readonly lockTtlMs: number;
}

export const DEFAULT_TXN_OPTIONS: TxnClientOptions = { deadlineMs: 10_000, lockTtlMs: 3_000 };

/** What a transaction needs from its client. */
export interface TxnEnv {
  readonly sender: RangeSender;
  readonly tso: TsoBatcher;
  readonly resolver: LockResolver;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly options: TxnClientOptions;
  /** Sends a read, resolving and waiting out locks until the deadline (monotonic ms). */
  readResolving(req: KvRequest, deadline: number): Promise<WireKvResponse>;
}

