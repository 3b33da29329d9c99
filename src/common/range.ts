/**
 * The domain model of a range (TiKV's Region): which keys it owns, its epoch
 * and its replicas. The transport decodes the wire into these shapes (camelCase,
 * proto-loader converts the field names), and the rest of the code uses them.
 *
 * Ids are plain numbers (not branded): they are compared and used as map keys
 * everywhere, and a brand would add a cast at every boundary for little gain.
 */
export type RangeId = number;
export type StoreId = number;
/** A replica id encodes its store: store * 2^16 + n (see src/replica/range-descriptor.ts). */
export type ReplicaId = number;

/** Version bumps on split and merge, confVer on membership change. */
export interface RangeEpoch {
  version: number;
  confVer: number;
}

export interface ReplicaDescriptor {
  store: StoreId;
  replicaId: ReplicaId;
  /** 'voter' or 'learner'. */
  role: string;
}

/** Keys [start, end); an empty end is unbounded. */
export interface RangeDescriptor {
  id: RangeId;
  start: Uint8Array;
  end: Uint8Array;
  epoch: RangeEpoch;
  replicas: ReplicaDescriptor[];
}
