/**
 * The gateway's entry to transactions: begins them (a start timestamp from
 * the batched TSO), and runs the single-key `/kv` operations over MVCC:
 *   - a read sees the newest committed state; a lock in the way is resolved,
 *     or waited out while its transaction is alive (never an uncommitted or
 *     rolled-back write);
 *   - a write is a single-key transaction at a fresh TSO timestamp, applied
 *     once per request id; a lock in the way is resolved first, never
 *     overwritten; a timestamp the key has outgrown is replaced by a fresh one.
 */
import { nanoid } from 'nanoid';
import { UnavailableError } from '../../common/index.js';
import type { Timestamp } from '../../common/index.js';
import type { Clock, Timers } from '../../runtime/index.js';
import type { WireKvResponse } from '../../transport/index.js';
import { WireError } from '../../transport/index.js';
import type { KeyLock } from '../actions/index.js';
import { decodeTxnResult } from '../codec.js';
import { LockResolver } from './lock-resolver.js';
import type { KvRequest, RangeSender } from './sender.js';
import { Transaction } from './transaction.js';
import { TsoBatcher } from './tso-batcher.js';
import type { TxnClientOptions, TxnEnv } from './env.js';
import { DEFAULT_TXN_OPTIONS } from './env.js';

const malformed = (why: string) => new WireError(`bad lock list from a store: ${why}`);

export class TxnClient implements TxnEnv {
  readonly tso: TsoBatcher;
  readonly resolver: LockResolver;
  /** Waits on live locks (for metrics). */
  lockWaits = 0;

  constructor(
    readonly sender: RangeSender,
    fetchTimestamps: (count: number) => Promise<Timestamp>,
    readonly clock: Clock,
    readonly timers: Timers,
    readonly options: TxnClientOptions = DEFAULT_TXN_OPTIONS,
  ) {
    this.tso = new TsoBatcher(fetchTimestamps, timers);
    this.resolver = new LockResolver(sender, () => this.tso.next());
  }

  async begin(): Promise<Transaction> {
    return new Transaction(this, await this.tso.next());
  }

  /** A `/kv` read (get or scan) of the newest committed state. */
  read(req: KvRequest): Promise<WireKvResponse> {
    return this.readResolving({ ...req, ts: 0n }, this.clock.monotonic() + this.options.deadlineMs);
  }

  /** A `/kv` write (put, delete, cas): the store's answer (CONFLICT for a failed cas). */
  async write(req: KvRequest): Promise<WireKvResponse> {
    const deadline = this.clock.monotonic() + this.options.deadlineMs;
    const requestId = nanoid();
    for (let attempt = 0; ; attempt++) {
      // A resend carries `retry`: an earlier attempt may still apply, and the id keeps it to once.
      const res = await this.sender.send({ ...req, requestId, ts: await this.tso.next(), retry: attempt > 0 });
      if (res.error === 'TS_TOO_OLD') {
        if (this.clock.monotonic() > deadline) throw new UnavailableError('the key kept moving past fresh timestamps');
        continue;
      }
      if (res.error !== 'KEY_LOCKED') return res;
      await this.waitOnLocks(lockList(res), deadline);
    }
  }

  async readResolving(req: KvRequest, deadline: number): Promise<WireKvResponse> {
    for (;;) {
      const res = await this.sender.send(req);
      if (res.error !== 'KEY_LOCKED') return res;
      await this.waitOnLocks(lockList(res), deadline);
    }
  }

  /** Resolves `locks`; if a live transaction holds one, waits a little (or fails at the deadline). */
  private async waitOnLocks(locks: readonly KeyLock[], deadline: number): Promise<void> {
    const wait = await this.resolver.resolve(locks);
    if (wait === 0) return;
    this.lockWaits++;
    if (this.clock.monotonic() + wait > deadline) throw new UnavailableError('the key is locked by a transaction that is still running');
    await new Promise<void>((r) => this.timers.setTimeout(r, wait));
  }
}

function lockList(res: WireKvResponse): readonly KeyLock[] {
  const decoded = decodeTxnResult(res.payload, malformed);
  if (decoded.kind !== 'locked') throw malformed(`KEY_LOCKED carried a ${decoded.kind} result`);
  return decoded.locks;
}
