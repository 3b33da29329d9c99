/**
 * A replica's side of Raft snapshots (§7) of a range: which engine keys make
 * up its state, when a snapshot may be sent and at which index, how a received
 * one is handed to Raft, and how its data is installed in the batch that
 * persists the Raft snapshot, so a crash leaves either the old replica or the
 * new one, never a mix. How the bytes travel is the host's: the store streams
 * them in chunks over gRPC (store/snapshot.ts), the simulator hands them over.
 */
import { assert, DbError, UnavailableError } from '../common/index.js';
import type { RangeDescriptor } from '../common/index.js';
import type { Message, Ready, SnapshotMeta } from '../raft/index.js';
import { encodeApplyState, keys } from '../storage/index.js';
import { encodeDescriptor } from './range-descriptor.js';
import type { Replica } from './replica.js';
import type { ApplyView } from './state-machine.js';

/** Every engine key a range owns besides its Raft log: MVCC data, key metadata (locks included), write records, then exactly-once records. */
export function rangeStateBounds(desc: RangeDescriptor): { gte: Uint8Array; lt: Uint8Array }[] {
  return [keys.dataBounds(desc.start, desc.end), keys.metaBounds(desc.start, desc.end), keys.writeBounds(desc.start, desc.end), keys.dedupBounds(desc.id)];
}

/**
 * Starts sending a snapshot to `to`: its metadata at the replica's applied
 * index (not the index the core named: the engine holds the state at
 * `applied`, and the follower's reply moves the leader's view of it forward
 * either way), or undefined when none may go now (one is already on its way,
 * or `to` is a learner whose addition is not applied here yet, which would
 * receive a descriptor without itself, or the host cannot reach it). End
 * it with `finishSnapshotSend`.
 */
export function startSnapshotSend(r: Replica, to: number, reachable: boolean): SnapshotMeta | undefined {
  if (r.sendingSnapshotTo.has(to)) return undefined;
  const term = r.storage.term(r.applied);
  if (term === undefined || !reachable || !r.desc.current.replicas.some((rep) => rep.replicaId === to)) {
    r.raw.reportSnapshot(to, false);
    return undefined;
  }
  r.sendingSnapshotTo.add(to);
  return { index: r.applied, term, conf: r.raw.confStateAt(r.applied) };
}

/** The snapshot to `to` got through (or did not); the caller marks `r` dirty. */
export function finishSnapshotSend(r: Replica, to: number, ok: boolean): void {
  if (!r.sendingSnapshotTo.delete(to)) return;
  r.raw.reportSnapshot(to, ok);
}

/**
 * Steps a received snapshot (its Raft message, the range's descriptor and
 * key/value pairs) into `r`; the caller marks `r` dirty. Resolves once the
 * loop installed it; undefined when Raft refused it (we already have that
 * much: the reply tells the leader).
 */
export function acceptSnapshot(r: Replica, msg: Message, desc: RangeDescriptor, pairs: [Uint8Array, Uint8Array][]): Promise<void> | undefined {
  if (msg.kind !== 'snap') throw new DbError('BAD_SNAPSHOT', 'not a snapshot');
  if (!desc.replicas.some((rep) => rep.replicaId === r.replicaId)) throw new DbError('BAD_SNAPSHOT', `snapshot of range ${r.rangeId} does not list replica ${r.replicaId}`);
  const index = msg.snapshot.meta.index;
  // The data of a snapshot Raft still holds pending stays until Raft accepts a newer one.
  const previous = r.incomingSnapshot;
  const installed = new Promise<void>((resolve, reject) => {
    r.incomingSnapshot = { index, desc, pairs, done: { resolve, reject } };
  });
  r.wake();
  r.raw.step(msg);
  if (r.raw.pendingSnapshotIndex() !== index) {
    r.incomingSnapshot = previous;
    return undefined;
  }
  previous?.done.reject(new UnavailableError('superseded by a newer snapshot'));
  return installed;
}

/**
 * Replaces the range's state with the received snapshot, in the batch persisting the Raft snapshot
 * (through the turn's view, so entries applied after it in the same turn read the snapshot's data).
 */
export async function stageSnapshotInstall(r: Replica, rd: Ready, batch: ApplyView): Promise<void> {
  const incoming = r.incomingSnapshot;
  const index = rd.snapshot!.meta.index;
  assert(incoming !== undefined && incoming.index === index, () => `range ${r.rangeId}: Raft accepted snapshot ${index} but its data is missing`);
  r.machine.snapshotInstalled();
  for (const b of rangeStateBounds(r.desc.current)) for await (const [k] of batch.range(b.gte, b.lt)) batch.del(k);
  for (const [k, v] of incoming.pairs) batch.put(k, v);
  batch.put(keys.applyStateKey(r.rangeId), encodeApplyState(index));
  batch.put(keys.rangeDescriptorKey(r.rangeId), encodeDescriptor(incoming.desc));
}
