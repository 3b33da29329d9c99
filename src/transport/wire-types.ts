/**
 * TypeScript shapes of the messages in proto/raftshard.proto, as
 * @grpc/proto-loader presents them: field names converted to camelCase, longs
 * as Number, bytes as Buffer, defaults filled in. Range descriptors are the
 * domain's own (src/common/range.ts).
 */
import type { RangeDescriptor, RangeEpoch } from '../common/index.js';
/** `leader` asks a replica who leads its range, answered at once without Raft (the gateway's probe). */
export type KvOp = 'get' | 'put' | 'delete' | 'cas' | 'scan' | 'leader';

export interface WireKvRequest {
  requestId: string;
  rangeId: number;
  epoch: RangeEpoch;
  op: string;
  key: Uint8Array;
  value: Uint8Array;
  hasValue: boolean;
  expect: Uint8Array;
  hasExpect: boolean;
  end: Uint8Array;
  limit: number;
  retry: boolean;
  /** get/scan: the snapshot timestamp (0 = the newest state); put/delete/cas: a fresh TSO timestamp. */
  ts: bigint;
  /** op 'txn': an encoded transactional command (src/txn/codec.ts). */
  payload: Uint8Array;
}

/**
 * '' for success. UNAVAILABLE and the routing codes mean nothing was applied;
 * OUTCOME_UNKNOWN means the write was proposed and its fate is not known here
 * (asking again with `retry` settles it).
 */
export type KvErrorCode =
  | ''
  | 'NOT_LEADER'
  | 'EPOCH_NOT_MATCH'
  | 'KEY_NOT_IN_RANGE'
  | 'RANGE_NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'BAD_REQUEST'
  | 'OUTCOME_UNKNOWN'
  /** Another transaction's locks block the request; the payload holds them (an encoded `locked` result). Nothing applied. */
  | 'KEY_LOCKED'
  /** A write's timestamp is not above the key's newest record: nothing applied; retry with a fresh one. */
  | 'TS_TOO_OLD';

export interface WireKvResponse {
  error: KvErrorCode;
  message: string;
  leaderStore: number;
  ranges: RangeDescriptor[];
  found: boolean;
  value: Uint8Array;
  deleted: boolean;
  items: { key: Uint8Array; value: Uint8Array }[];
  more: boolean;
  /** op 'txn': the encoded result; KEY_LOCKED: the locks. */
  payload: Uint8Array;
}

export interface WireRangeStatus {
  range: RangeDescriptor;
  leaderStore: number;
  term: number;
  commit: number;
  applied: number;
  quiesced: boolean;
}

export interface WireSnapshotChunk {
  fromStore: number;
  rangeId: number;
  header: Uint8Array;
  data: Uint8Array;
  last: boolean;
}

/** What a store process serves; the transport maps it onto gRPC. */
export interface StoreHandlers {
  /** A Raft frame from another store (already decoded and validated). */
  onRaftFrame(fromStore: number, payload: Uint8Array): void;
  kv(requests: WireKvRequest[]): Promise<WireKvResponse[]>;
  /** One request of a KV stream frame; answers are batched back per turn. */
  kvOne(request: WireKvRequest): Promise<WireKvResponse>;
  createReplica(range: RangeDescriptor, bootstrap: boolean): Promise<void>;
  ranges(): WireRangeStatus[];
  /** Starts a leadership transfer of a range this store leads; resolves at once. */
  transferLeader(rangeId: number, toStore: number): void;
  /** A snapshot streamed in chunks; resolves when installed (or rejects). */
  snapshot(chunks: AsyncIterable<WireSnapshotChunk>): Promise<void>;
  split(req: WireSplitRequest): Promise<{ left: RangeDescriptor; right: RangeDescriptor }>;
  changeReplicas(req: WireChangeReplicasRequest): Promise<RangeDescriptor>;
}

export interface WireSplitRequest {
  rangeId: number;
  epoch: RangeEpoch;
  /** Empty: the store picks a key near the middle of the range. */
  splitKey: Uint8Array;
  newRangeId: number;
}

export type ReplicaChangeKind = 'add_learner' | 'promote' | 'remove';

export interface WireChangeReplicasRequest {
  rangeId: number;
  epoch: RangeEpoch;
  kind: string;
  store: number;
}

// ---- placement driver ----------------------------------------------------------------

export interface PdRedirect {
  notLeader: boolean;
  leaderAddress: string;
}

export interface WireStoreInfo {
  id: number;
  address: string;
  pid: number;
  state: string;
  ranges: number;
  leaders: number;
}

export interface WireRangeStat {
  range: RangeDescriptor;
  leaderStore: number;
  approxBytes: number;
  approxKeys: number;
}

/**
 * The placement driver's methods. A handler that rejects with a DbError
 * answers with it as data (the response's `error` field); the client turns
 * it back into the same error.
 */
export interface PdHandlers {
  RegisterStore(req: { id: number; address: string; pid: number; fresh: boolean }): Promise<{ redirect?: PdRedirect; id: number }>;
  StoreHeartbeat(req: { store: number; address: string; pid: number; ranges: WireRangeStat[]; full: boolean }): Promise<{ redirect?: PdRedirect; stores: WireStoreInfo[]; destroyRanges: number[] }>;
  /** The first of `count` timestamps, physical << 18 | logical (see src/common/timestamp.ts). */
  Tso(req: { count: number }): Promise<{ redirect?: PdRedirect; physical: number; logical: number }>;
  AllocId(req: Record<string, never>): Promise<{ redirect?: PdRedirect; id: number }>;
  GetRanges(req: Record<string, never>): Promise<{ redirect?: PdRedirect; ranges: WireRangeStat[] }>;
  GetStores(req: Record<string, never>): Promise<{ redirect?: PdRedirect; stores: WireStoreInfo[] }>;
  GetMembers(req: { selfOnly: boolean }): Promise<{ redirect?: PdRedirect; members: { id: number; address: string; pid: number; leader: boolean }[]; term: number }>;
  Admin(req: { op: string; json: string }): Promise<{ redirect?: PdRedirect; json: string }>;
}
