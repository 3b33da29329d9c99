/**
 * Snapshot transfer between a range's replicas, by concern out of the store's
 * loop: the leader streams its range's state at its applied index; the
 * follower receives it and hands it to its replica, and the Ready loop
 * installs the data in the batch that persists the Raft snapshot
 * (replica/range-snapshot.ts). The chunk format lives in snapshot.ts.
 */
import { RangeNotFoundError } from '../common/index.js';
import type { Message } from '../raft/index.js';
import type { Engine } from '../storage/index.js';
import type { StoreNetwork, WireSnapshotChunk } from '../transport/index.js';
import { acceptSnapshot, finishSnapshotSend, startSnapshotSend, storeOfReplica } from '../replica/index.js';
import type { Replica } from '../replica/index.js';
import type { Logger } from '../runtime/index.js';
import { receiveSnapshot, snapshotChunks } from './snapshot.js';

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

/** Streams a snapshot of the range at its applied index (see startSnapshotSend). */
export function streamSnapshot(host: SnapshotHost, r: Replica, msg: Message): void {
  const to = msg.to;
  const address = host.peers.get(storeOfReplica(to));
  const meta = startSnapshotSend(r, to, address !== undefined);
  if (!meta || !address) return;
  const chunks = snapshotChunks(host.engine, host.cfg.id, r.desc.current, msg, meta);
  host.metrics.snapshotsSent++;
  const { logger, network } = host.deps;
  logger.info({ range: r.rangeId, to: storeOfReplica(to), index: meta.index }, 'streaming snapshot');
  const sent = (ok: boolean) => {
    finishSnapshotSend(r, to, ok);
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
  const installed = acceptSnapshot(r, snap.item.msg, snap.desc, snap.pairs);
  host.markDirty(r);
  await installed;
}
