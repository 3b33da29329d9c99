/**
 * transport — everything that crosses a process boundary: the protos, the
 * gRPC server and clients (the only place importing @grpc/grpc-js), the
 * binary Raft frame codec, and per-peer batched streams.
 */
export { PdMemberClient, StoreClient, StoreServer } from './grpc.js';
export { PdClient } from './pd-client.js';
export { fromWireError, toWireError } from './errors.js';
export type { WireErrorStatus } from './errors.js';
export { isNewer, overlaps } from './range-order.js';
export { BatchingKvClient } from './batching-client.js';
export type { RaftStream, TsoStream } from './grpc.js';
export { RaftTransport } from './raft-transport.js';
export { grpcStoreNetwork } from './store-network.js';
export { grpcDialer } from './dialer.js';
export type { Dialer, KvCalls, PdMemberCalls, StoreCalls } from './dialer.js';
export type { StoreListener, StoreNetwork } from './store-network.js';
export { LoopbackNetwork } from './loopback-network.js';
export type { TransportStats } from './raft-transport.js';
export { decodeFrame, encodeFrame, WireError } from './raft-codec.js';
export type { RangeMessage } from './raft-codec.js';
export type * from './wire-types.js';
