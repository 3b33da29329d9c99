/**
 * What a range's commands mean, as the host plugs it into its replicas. The
 * replica owns what every range's log carries whatever its data model: client
 * commands framed with their request id, splits, membership changes, the
 * rotation of exactly-once records, snapshots. What a command does to the
 * engine is the state machine's: the store's is MVCC (store/mvcc-range.ts,
 * over src/txn), which this layer must not import.
 *
 * One state machine per replica (it may keep per-range state, a cache, a
 * leader's timestamp floor); all of a turn's applies go through one
 * ApplyView, which the host opens per turn (LoopHost.beginTurn), so work that
 * pays per turn (one read ahead for every replica, caches taught once the
 * batch is on disk) is done once, not per replica.
 */
import type { ByteWriter, DbError, RangeDescriptor } from '../common/index.js';

/**
 * The engine as one turn's applies see it: the engine's state plus the writes
 * staged earlier in the turn's batch (written once, at the end of the turn).
 */
export interface ApplyView {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
  /** The staged live pairs with gte <= key < lt. */
  stagedIn(gte: Uint8Array, lt: Uint8Array): [Uint8Array, Uint8Array][];
  /** The engine's pairs in [gte, lt) merged with the staged writes. */
  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** A proposal the leader refuses before it enters the log: nothing applies. */
export interface Refusal {
  readonly refused: DbError;
}

/** The command of type C (answered with R) of one range's replica. */
export interface RangeStateMachine<C = unknown, R = unknown> {
  /** Writes `cmd` after its entry's header, into the entry's one buffer. */
  writeCommand(w: ByteWriter, cmd: C): void;
  /** Reads a command written by writeCommand; a malformed one throws `corrupt(why)`. */
  readCommand(bytes: Uint8Array, corrupt: (why: string) => DbError): C;
  /** The keys `cmd` touches: all must lie in the range when it applies, or it is stale (a split moved them). */
  keysOf(cmd: C): readonly Uint8Array[];
  /**
   * Whether a retry of `cmd` is answered from an exactly-once record (kept by
   * the replica under the request id); other commands must find their own
   * earlier outcome when applied again.
   */
  exactlyOnce(cmd: C): boolean;
  /** Whether `result` is remembered for retries (a refusal that asks to come again is not). */
  remembers(result: R): boolean;
  encodeResult(result: R): Uint8Array;
  decodeResult(bytes: Uint8Array): R;
  /** `cmd` as this replica, leading in `term`, proposes it now (stamped with leader state), or its refusal. */
  propose(cmd: C, term: number): C | Refusal;
  /** Applies `cmd` to the range `desc` through the turn's view; `retry`: a client resend that may have applied before. */
  apply(cmd: C, desc: RangeDescriptor, retry: boolean, view: ApplyView): Promise<R>;
  /** This replica stopped leading: what waits on its leadership fails with `err`. */
  leadershipLost(err: DbError): void;
  /** The range's state was replaced by a snapshot (in the turn's batch): anything derived from the old one goes. */
  snapshotInstalled(): void;
}

export const isRefusal = <C>(p: C | Refusal): p is Refusal => typeof p === 'object' && p !== null && 'refused' in p;
