/**
 * How the placement driver, the gateway and tools reach a process, behind one
 * interface so that each runs unchanged over gRPC (`grpcDialer`, chosen in
 * src/cli) or over the in-memory network of the simulator
 * (`LoopbackNetwork.dialerFrom`): unary calls to a store, unary calls to a
 * placement driver member (and its TSO stream), and the gateway's batched KV
 * stream to a store.
 */
import type { RangeDescriptor } from '../common/index.js';
import { BatchingKvClient } from './batching-client.js';
import { PdMemberClient, StoreClient } from './grpc.js';
import type { TsoStream } from './grpc.js';
import type { PdHandlers, WireChangeReplicasRequest, WireKvRequest, WireKvResponse, WireRangeStatus, WireSplitRequest } from './wire-types.js';

/** Unary calls to one store. Each resolves, or rejects with a DbError: the store's own, or the call's failure. */
export interface StoreCalls {
  createReplica(range: RangeDescriptor, bootstrap: boolean, deadlineMs?: number): Promise<void>;
  transferLeader(rangeId: number, toStore: number, deadlineMs?: number): Promise<void>;
  split(req: WireSplitRequest, deadlineMs?: number): Promise<{ left: RangeDescriptor; right: RangeDescriptor }>;
  changeReplicas(req: WireChangeReplicasRequest, deadlineMs?: number): Promise<RangeDescriptor>;
  ranges(deadlineMs?: number): Promise<{ store: number; ranges: WireRangeStatus[] }>;
  /** KV requests in one call (the placement driver's GC rounds); each answer carries its own error. */
  kv(requests: Partial<WireKvRequest>[], deadlineMs?: number): Promise<WireKvResponse[]>;
  close(): void;
}

/** Unary calls to one placement driver member, and its TSO stream. */
export interface PdMemberCalls {
  call<M extends keyof PdHandlers>(method: M, req: Parameters<PdHandlers[M]>[0], deadlineMs: number): ReturnType<PdHandlers[M]>;
  /** A long-lived stream of TSO requests to the member; answers arrive in request order. */
  openTsoStream(): TsoStream;
  close(): void;
}

/** The gateway's KV requests to one store; a failed or timed-out request rejects (it may have applied). */
export interface KvCalls {
  kv(req: Partial<WireKvRequest>): Promise<WireKvResponse>;
  close(): void;
}

export interface Dialer {
  store(address: string): StoreCalls;
  pdMember(address: string): PdMemberCalls;
  kvStream(address: string): KvCalls;
}

/** The real network: gRPC over TCP. */
export const grpcDialer: Dialer = {
  store: (address) => new StoreClient(address),
  pdMember: (address) => new PdMemberClient(address),
  kvStream: (address) => new BatchingKvClient(address),
};
