/**
 * What a store needs of the network, behind one interface so that the store
 * runs unchanged over gRPC (`grpcStoreNetwork`, chosen in src/cli) or over its
 * in-memory twin (`LoopbackNetwork`, tests and the simulator): serving its
 * handlers, one Raft stream per peer, and snapshot streams.
 */
import { StoreClient, StoreServer } from './grpc.js';
import type { RaftStream } from './grpc.js';
import type { PdHandlers, StoreHandlers, WireSnapshotChunk } from './wire-types.js';

export interface StoreListener {
  /** The bound port (the address's own when it named one). */
  readonly port: number;
  /** Stops serving at once, dropping open calls. */
  close(): void;
}

export interface StoreNetwork {
  /** Serves `handlers`, and the placement driver's `pd` on the same address, at `address` (HOST:PORT; port 0 picks one). */
  serve(address: string, handlers: StoreHandlers, pd?: PdHandlers): Promise<StoreListener>;
  /** A long-lived stream of Raft frames to the store at `address`. */
  openRaftStream(address: string): RaftStream;
  /** Streams a snapshot to the store at `address`; resolves once that store installed it. */
  sendSnapshot(address: string, chunks: AsyncIterable<WireSnapshotChunk>): Promise<void>;
}

/** The real network: gRPC over TCP. */
export const grpcStoreNetwork: StoreNetwork = {
  async serve(address, handlers, pd) {
    const server = new StoreServer(handlers);
    if (pd) server.addPdService(pd);
    const port = await server.listen(address);
    return { port, close: () => server.forceClose() };
  },
  openRaftStream(address) {
    const client = new StoreClient(address);
    const stream = client.openRaftStream();
    return {
      write: (fromStore, payload) => stream.write(fromStore, payload),
      onDrain: (fn) => stream.onDrain(fn),
      onClose: (fn) => stream.onClose(fn),
      close: () => {
        stream.close();
        client.close();
      },
    };
  },
  async sendSnapshot(address, chunks) {
    const client = new StoreClient(address);
    try {
      await client.sendSnapshot(chunks);
    } finally {
      client.close();
    }
  },
};
