/**
 * Range descriptors: which keys a range owns ([start, end), empty end =
 * unbounded), its epoch (version bumps on split/merge, confVer on membership
 * change; TiKV's RegionEpoch) and its replicas.
 *
 * A replica id encodes its store (store * 2^16 + n), so any replica can route a
 * Raft message to a member it has only seen in a conf entry; ids are never
 * reused within a range, so a re-created replica cannot inherit a stale vote.
 */
import type { ConfState } from '../raft/index.js';
import type { RangeDescriptor, ReplicaDescriptor } from '../common/index.js';

const REPLICA_SPACE = 65_536;

export function replicaIdFor(store: number, n: number): number {
  return store * REPLICA_SPACE + n;
}

export function storeOfReplica(replicaId: number): number {
  return Math.floor(replicaId / REPLICA_SPACE);
}

/** The descriptor after a membership change took effect (confVer bumps). */
export function withMembership(desc: RangeDescriptor, conf: ConfState): RangeDescriptor {
  const replicas: ReplicaDescriptor[] = [
    ...conf.voters.map((id) => ({ store: storeOfReplica(id), replicaId: id, role: 'voter' })),
    ...conf.learners.map((id) => ({ store: storeOfReplica(id), replicaId: id, role: 'learner' })),
  ];
  return { ...desc, epoch: { version: desc.epoch.version, confVer: desc.epoch.confVer + 1 }, replicas };
}

export function containsKey(desc: RangeDescriptor, key: Uint8Array): boolean {
  return Buffer.compare(key, desc.start) >= 0 && (desc.end.length === 0 || Buffer.compare(key, desc.end) < 0);
}

export function sameEpoch(desc: RangeDescriptor, epoch: { version: number; confVer: number } | undefined): boolean {
  return epoch !== undefined && epoch.version === desc.epoch.version && epoch.confVer === desc.epoch.confVer;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A descriptor as stored on disk (and in the PD group): the field names of the first release, kept as they are. */
interface StoredDescriptor {
  id: number;
  start: string;
  end: string;
  epoch: { version: number; conf_ver: number };
  replicas: { store: number; replica_id: number; role: string }[];
}

/** Descriptors are rare writes: JSON with keys as base64 is plenty. */
export function encodeDescriptor(d: RangeDescriptor): Uint8Array {
  const stored: StoredDescriptor = {
    id: d.id,
    start: Buffer.from(d.start).toString('base64'),
    end: Buffer.from(d.end).toString('base64'),
    epoch: { version: d.epoch.version, conf_ver: d.epoch.confVer },
    replicas: d.replicas.map((r) => ({ store: r.store, replica_id: r.replicaId, role: r.role })),
  };
  return encoder.encode(JSON.stringify(stored));
}

export function decodeDescriptor(bytes: Uint8Array): RangeDescriptor {
  const raw = JSON.parse(decoder.decode(bytes)) as StoredDescriptor;
  return {
    id: raw.id,
    start: Buffer.from(raw.start, 'base64'),
    end: Buffer.from(raw.end, 'base64'),
    epoch: { version: raw.epoch.version, confVer: raw.epoch.conf_ver },
    replicas: raw.replicas.map((r) => ({ store: r.store, replicaId: r.replica_id, role: r.role })),
  };
}

/** Descriptors for ranges split at `splits` (sorted), each replicated on `stores` (bootstrap layout). */
export function rangesFromSplits(splits: readonly Uint8Array[], stores: readonly number[], firstId = 1): RangeDescriptor[] {
  const bounds = [new Uint8Array(0), ...splits, new Uint8Array(0)];
  return splits.concat([new Uint8Array(0)]).map((_, i) => ({
    id: firstId + i,
    start: bounds[i],
    end: bounds[i + 1],
    epoch: { version: 1, confVer: 1 },
    replicas: stores.map((s) => ({ store: s, replicaId: replicaIdFor(s, 1), role: 'voter' })),
  }));
}

/** `n` ranges splitting the benchmark keyspace "k000000".."k999999" evenly. */
export function evenSplits(n: number, width = 1_000_000): Uint8Array[] {
  return Array.from({ length: n - 1 }, (_, i) => encoder.encode(`k${String(Math.floor(((i + 1) * width) / n)).padStart(6, '0')}`));
}
