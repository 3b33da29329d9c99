/**
 * The store's state machine of a range (replica/state-machine.ts): its log's
 * client commands are src/txn's transactional commands (`/kv` writes as
 * single-key transactions, Percolator's actions, GC rounds), applied over
 * MVCC through the turn's ApplyView. It also keeps what the range's leader
 * must remember for them: its read floor (TiKV's max_ts) and the key metadata
 * cache.
 */
import { DbError, UnavailableError } from '../common/index.js';
import type { ByteWriter, RangeDescriptor, Timestamp } from '../common/index.js';
import type { ApplyView, RangeStateMachine, Refusal, Replica } from '../replica/index.js';
import { latin1Of } from '../common/index.js';
import type { Engine } from '../storage/index.js';
import { keys } from '../storage/index.js';
import type { MvccView, TxnCommand, TxnResult } from '../txn/index.js';
import { applyTxnCommand, decodeTxnCommand, decodeTxnResult, encodeTxnResult, MvccTxn, writeTxnCommand } from '../txn/index.js';
import { MetaCache } from './meta-cache.js';

/** A range replica of the store. */
export type StoreReplica = Replica<TxnCommand, TxnResult, MvccRange>;

interface Waiter {
  /** The term the waiter asked in: only a sync for that term lets it through. */
  term: number;
  resolve(): void;
  reject(e: Error): void;
}

/** The keys a command touches (empty for the range-wide ones); all must lie in the range for it to apply. */
export function keysOf(cmd: TxnCommand): readonly Uint8Array[] {
  switch (cmd.kind) {
    case 'kvWrite':
      return [cmd.key];
    case 'prewrite':
      return cmd.mutations.map((m) => m.key);
    case 'commit':
    case 'rollback':
    case 'resolveLock':
      return cmd.keys;
    case 'checkTxnStatus':
    case 'heartbeat':
      return [cmd.primary];
    case 'gc':
      return [];
  }
}

/** Commands stamped with the leader's read floor at proposal (they commit at a timestamp the leader picks). */
export const needsFloor = (cmd: TxnCommand): boolean => cmd.kind === 'kvWrite' || (cmd.kind === 'prewrite' && cmd.onePc);

export class MvccRange implements RangeStateMachine<TxnCommand, TxnResult> {
  /** Key metadata as of the last written turn (see meta-cache.ts). */
  readonly metaCache = new MetaCache();
  /**
   * The highest timestamp a snapshot read was served at while this replica
   * led: a `/kv` write or one-phase commit proposed now must commit above it
   * (TiKV's max_ts). A new leader does not know its predecessor's reads, so it
   * first takes a fresh TSO timestamp (syncedTerm records for which term).
   */
  maxReadTs: Timestamp = 0n;
  private syncedTerm = 0;
  private syncWaiters: Waiter[] = [];

  writeCommand(w: ByteWriter, cmd: TxnCommand): void {
    writeTxnCommand(w, cmd);
  }

  readCommand(bytes: Uint8Array, corrupt: (why: string) => DbError): TxnCommand {
    return decodeTxnCommand(bytes, corrupt);
  }

  keysOf(cmd: TxnCommand): readonly Uint8Array[] {
    return keysOf(cmd);
  }

  /**
   * A one-phase commit, and a `/kv` write without a timestamp (the placement
   * driver's metadata group). A `/kv` write with one needs no record: its
   * retry (same timestamp) finds its own version by that timestamp (see
   * src/txn/actions/kv-write.ts).
   */
  exactlyOnce(cmd: TxnCommand): boolean {
    return (cmd.kind === 'kvWrite' && cmd.ts === 0n) || (cmd.kind === 'prewrite' && cmd.onePc);
  }

  /**
   * Every outcome of the command is remembered (an applied write, a failed
   * cas, a one-phase commit's conflict), so that a copy of the request still
   * in flight answers the same instead of applying after its client was told
   * otherwise; but not a refusal that asks to come again (another
   * transaction's lock to resolve, a timestamp the key outgrew).
   */
  remembers(result: TxnResult): boolean {
    return result.kind !== 'locked' && result.kind !== 'tsTooOld';
  }

  encodeResult(result: TxnResult): Uint8Array {
    return encodeTxnResult(result);
  }

  decodeResult(bytes: Uint8Array): TxnResult {
    return decodeTxnResult(bytes, (why) => new DbError('CORRUPT_RESULT', `bad dedup record: ${why}`));
  }

  /** Whether this replica, leading in `term`, knows a floor above every read its predecessors served. */
  tsSynced(term: number): boolean {
    return this.syncedTerm === term;
  }

  /** Resolves once tsSynced for `term`, the replica's term now (the store asks the TSO on each new leadership). */
  awaitTsSync(term: number): Promise<void> {
    if (this.tsSynced(term)) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.push({ term, resolve, reject }));
  }

  /** A TSO timestamp taken after `r` (this machine's replica) became leader in `term`. */
  onTsSynced(r: StoreReplica, term: number, ts: Timestamp): void {
    if (!r.isLeader() || r.raw.term !== term) return;
    if (ts > this.maxReadTs) this.maxReadTs = ts;
    this.syncedTerm = term;
    // A waiter of an earlier term (its leadership ended unnoticed, between two Readies) must not go on
    // now: its client gave up long ago and may have resent the write, which would then apply first.
    let stale: UnavailableError | undefined;
    for (const w of this.syncWaiters.splice(0)) {
      if (w.term === term) w.resolve();
      else w.reject((stale ??= new UnavailableError('the leadership changed before the leader synced its timestamp floor')));
    }
  }

  /** A snapshot read at ts is being served: later single-step commits land above it. */
  observeRead(ts: Timestamp): void {
    if (ts > this.maxReadTs) this.maxReadTs = ts;
  }

  /** A command that commits at a timestamp of the leader's choosing carries the read floor; refused until the floor is synced. */
  propose(cmd: TxnCommand, term: number): TxnCommand | Refusal {
    if (cmd.kind !== 'kvWrite' && !(cmd.kind === 'prewrite' && cmd.onePc)) return cmd;
    // Leadership moved since the service awaited the sync: refused before the log, nothing applied.
    if (!this.tsSynced(term)) return { refused: new UnavailableError('the range leader has not synced its timestamp floor yet') };
    return { ...cmd, floor: this.maxReadTs };
  }

  apply(cmd: TxnCommand, desc: RangeDescriptor, retry: boolean, view: ApplyView): Promise<TxnResult> {
    return applyTxnCommand(new MvccTxn(view, view), cmd, desc, retry);
  }

  leadershipLost(err: DbError): void {
    for (const w of this.syncWaiters.splice(0)) w.reject(err);
  }

  snapshotInstalled(): void {
    this.metaCache.clear();
  }

  /** The engine for a read, with the cached key metadata and last write records in front (state as of the last written turn, like the engine's). */
  readView(engine: Engine): MvccView {
    return {
      get: (key) => {
        if (key[0] === keys.WRITE_PREFIX) {
          const record = this.metaCache.getWrite(latin1Of(key));
          return record === undefined ? engine.get(key) : Promise.resolve(record);
        }
        if (key[0] !== keys.META_PREFIX) return engine.get(key);
        const cached = this.metaCache.get(latin1Of(key));
        return cached === undefined ? engine.get(key) : Promise.resolve(cached ?? undefined);
      },
      range: (gte, lt) => engine.range(gte, lt),
    };
  }
}
