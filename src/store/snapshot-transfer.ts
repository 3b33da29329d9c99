/**
 * Snapshot transfer between a range's replicas, by concern out of the store's
 * loop: the leader streams its range's state at its applied index; the
 * follower receives it, hands the Raft message to its replica, and the loop
 * installs the data in the batch that persists the Raft snapshot
 * (`stageSnapshotInstall`). The chunk format lives in snapshot.ts.
 */
import { assert, DbError, RangeNotFoundError, UnavailableError } from '../common/index.js';
import type { Message, Ready } from '../raft/index.js';
import type { Engine, WriteBatch } from '../storage/index.js';
import { encodeApplyState, keys } from '../storage/index.js';
import type { StoreNetwork, WireSnapshotChunk } from '../transport/index.js';
import { encodeDescriptor, storeOfReplica } from '../replica/index.js';
import type { Logger } from '../runtime/index.js';
import type { Replica } from '../replica/index.js';
import { rangeStateBounds, receiveSnapshot, snapshotChunks } from './snapshot.js';

/** What snapshot transfer needs of its store. */
export interface SnapshotHost {
  readonly replicas: ReadonlyMap<number, Replica>;
  readonly engine: Engine;
  readonly peers: ReadonlyMap<number, string>;
  readonly cfg: { readonly id: number };
  readonly deps: { readonly network: StoreNetwork; readonly logger: Logger };
  readonly metrics: { snapshotsSent: number };
  markDirty(r: Replica): void;
}

/**
 * Streams a snapshot of the range at its applied index (not the index the
 * core named: our engine holds the state at `applied`, and the follower's
 * reply moves the leader's view of it forward either way).
 */
export function streamSnapshot(host: SnapshotHost, r: Replica, msg: Message): void {
  const to = msg.to;
  if (r.sendingSnapshotTo.has(to)) return;
  const term = r.storage.term(r.applied);
  const address = host.peers.get(storeOfReplica(to));
  // A learner whose addition is not applied here yet would receive a descriptor without itself: wait for the apply.
  if (term === undefined || !address || !r.desc.current.replicas.some((rep) => rep.replicaId === to)) {
    r.raw.reportSnapshot(to, false);
    return;
  }
  const meta = { index: r.applied, term, conf: r.raw.confStateAt(r.applied) };
  const chunks = snapshotChunks(host.engine, host.cfg.id, r.desc.current, msg, meta);
  r.sendingSnapshotTo.add(to);
  host.metrics.snapshotsSent++;
  const { logger, network } = host.deps;
  logger.info({ range: r.rangeId, to: storeOfReplica(to), index: meta.index }, 'streaming snapshot');
  const sent = (ok: boolean) => {
    r.sendingSnapshotTo.delete(to);
    r.raw.reportSnapshot(to, ok);
    host.markDirty(r);
  };
  network.sendSnapshot(address, chunks).then(
    () => sent(true),
    (err: Error) => {
      logger.warn({ range: r.rangeId, to: storeOfReplica(to), err: err.message }, 'snapshot failed');
      sent(false);
    },
  );
}

/** Receives a streamed snapshot and steps it into its replica; resolves once the loop installed it. */
export async function receiveSnapshotAndStep(host: SnapshotHost, chunks: AsyncIterable<WireSnapshotChunk>): Promise<void> {
  const snap = await receiveSnapshot(chunks);
  const r = host.replicas.get(snap.item.rangeId);
  if (!r || snap.item.msg.to !== r.replicaId) throw new RangeNotFoundError(`no replica ${snap.item.msg.to} of range ${snap.item.rangeId} here`);
  if (snap.item.msg.kind !== 'snap') throw new DbError('BAD_SNAPSHOT', 'not a snapshot');
  if (!snap.desc.replicas.some((rep) => rep.replicaId === r.replicaId)) throw new DbError('BAD_SNAPSHOT', `snapshot of range ${r.rangeId} does not list replica ${r.replicaId}`);
  const index = snap.item.msg.snapshot.meta.index;
  // The data of a snapshot Raft still holds pending stays until Raft accepts a newer one.
  const previous = r.incomingSnapshot;
  const installed = new Promise<void>((resolve, reject) => {
    r.incomingSnapshot = { index, desc: snap.desc, pairs: snap.pairs, done: { resolve, reject } };
  });
  r.wake();
  r.raw.step(snap.item.msg);
  host.markDirty(r);
  // Refused by Raft (we already have that much): nothing to install; the reply tells the leader.
  if (r.raw.pendingSnapshotIndex() !== index) {
    r.incomingSnapshot = previous;
    return;
  }
  previous?.done.reject(new UnavailableError('superseded by a newer snapshot'));
  await installed;
}

/** Replaces the range's state with the received snapshot, in the batch persisting the Raft snapshot. */
export async function stageSnapshotInstall(engine: Engine, r: Replica, rd: Ready, batch: WriteBatch): Promise<void> {
  const incoming = r.incomingSnapshot;
  const index = rd.snapshot!.meta.index;
  assert(incoming !== undefined && incoming.index === index, () => `range ${r.rangeId}: Raft accepted snapshot ${index} but its data is missing`);
  for (const b of rangeStateBounds(r.desc.current)) for await (const [k] of engine.range(b.gte, b.lt)) batch.del(k);
  for (const [k, v] of incoming.pairs) batch.put(k, v);
  batch.put(keys.applyStateKey(r.rangeId), encodeApplyState(index));
  batch.put(keys.rangeDescriptorKey(r.rangeId), encodeDescriptor(incoming.desc));
}
