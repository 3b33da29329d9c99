/**
 * Resolving the locks a reader or writer runs into (client-go's
 * txnlock/lock_resolver.go): ask each lock's primary how its transaction
 * ended (check status, which rolls back an expired one), then commit or roll
 * back the locks met, range by range. A transaction that is alive is left
 * alone; the caller waits and tries again. Final statuses are remembered for
 * a while, so many readers of one dead transaction ask its primary once.
 */
import type { Timestamp } from '../../common/index.js';
import type { KeyLock, TxnResult } from '../actions/index.js';
import type { RangeSender } from './sender.js';
import { sendPerRange } from './sender.js';

const REMEMBER = 4096;

export class LockResolver {
  private readonly decided = new Map<Timestamp, TxnResult>();
  /** Transactions resolved (for metrics): committed forward, rolled back. */
  readonly resolved = { committed: 0, rolledBack: 0 };

  constructor(
    private readonly sender: RangeSender,
    private readonly now: () => Promise<Timestamp>,
  ) {}

  /**
   * Resolves the transactions behind `locks`. Returns 0 when every lock was
   * resolved, else how long (ms) the caller should wait for a live one.
   */
  async resolve(locks: readonly KeyLock[]): Promise<number> {
    const byTxn = new Map<Timestamp, { primary: Uint8Array; keys: Uint8Array[]; ttlMs: number }>();
    for (const l of locks) {
      const t = byTxn.get(l.startTs) ?? { primary: l.primary, keys: [], ttlMs: l.ttlMs };
      t.keys.push(l.key);
      byTxn.set(l.startTs, t);
    }
    const waits = await Promise.all(
      [...byTxn].map(async ([startTs, t]) => {
        const status = await this.status(t.primary, startTs);
        if (status.kind === 'alive') return Math.max(1, Math.min(status.ttlMs, 50));
        const commitTs = status.kind === 'committed' ? status.commitTs : 0n;
        await sendPerRange(this.sender, t.keys, (keys) => ({ kind: 'resolveLock', startTs, commitTs, keys }));
        if (commitTs > 0n) this.resolved.committed++;
        else this.resolved.rolledBack++;
        return 0;
      }),
    );
    return Math.max(0, ...waits);
  }

  private async status(primary: Uint8Array, startTs: Timestamp): Promise<TxnResult> {
    const known = this.decided.get(startTs);
    if (known) return known;
    const currentTs = await this.now();
    const [{ result: status }] = await sendPerRange(this.sender, [primary], () => ({ kind: 'checkTxnStatus', primary, startTs, currentTs }));
    if (status.kind === 'committed' || status.kind === 'rolledBack') {
      if (this.decided.size >= REMEMBER) this.decided.delete(this.decided.keys().next().value!);
      this.decided.set(startTs, status);
    }
    return status;
  }
}
