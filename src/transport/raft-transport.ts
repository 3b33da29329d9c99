/**
 * Outgoing Raft traffic of one store: one long-lived gRPC stream per peer
 * store; messages for many ranges queue per peer and leave as ONE frame per
 * flush (the store flushes once per event-loop turn). When a peer is slow the
 * stream's buffer fills and frames wait (backpressure); past a cap, queued
 * messages are dropped and the ranges told the peer is unreachable (Raft
 * retransmits). Broken streams reconnect with exponential backoff.
 */
import type { Timers } from '../runtime/index.js';
import type { RaftStream } from './grpc.js';
import type { RangeMessage } from './raft-codec.js';
import { encodeFrame } from './raft-codec.js';

const MAX_QUEUED = 100_000;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

interface Peer {
  readonly store: number;
  stream: RaftStream | undefined;
  queue: RangeMessage[];
  /** Send a frame even if empty: the store-level liveness heartbeat. */
  ping: boolean;
  congested: boolean;
  backoffMs: number;
  retryAt: boolean;
}

export interface TransportStats {
  frames: number;
  messages: number;
  bytes: number;
  dropped: number;
  reconnects: number;
}

export class RaftTransport {
  private readonly peers = new Map<number, Peer>();
  readonly stats: TransportStats = { frames: 0, messages: 0, bytes: 0, dropped: 0, reconnects: 0 };

  constructor(
    private readonly selfStore: number,
    private readonly resolve: (store: number) => string | undefined,
    private readonly timers: Timers,
    private readonly onUnreachable: (store: number) => void,
    /** Opens a stream of Raft frames to an address (the store network's). */
    private readonly openStream: (address: string) => RaftStream,
  ) {}

  send(toStore: number, item: RangeMessage): void {
    const peer = this.peer(toStore);
    if (peer.queue.length >= MAX_QUEUED) {
      this.stats.dropped++;
      return;
    }
    peer.queue.push(item);
  }

  /**
   * Queues a liveness heartbeat to `store` (an empty frame unless Raft traffic
   * rides along): one per store pair per tick, however many ranges they share.
   */
  ping(store: number): void {
    this.peer(store).ping = true;
  }

  /** Sends each peer's queued messages as one frame. */
  flush(): void {
    for (const peer of this.peers.values()) {
      if ((peer.queue.length === 0 && !peer.ping) || peer.congested) continue;
      peer.ping = false;
      const stream = this.connect(peer);
      if (!stream) {
        this.stats.dropped += peer.queue.length;
        peer.queue = [];
        this.onUnreachable(peer.store);
        continue;
      }
      const items = peer.queue;
      peer.queue = [];
      const payload = encodeFrame(items);
      this.stats.frames++;
      this.stats.messages += items.length;
      this.stats.bytes += payload.byteLength;
      if (!stream.write(this.selfStore, payload)) {
        peer.congested = true;
        stream.onDrain(() => {
          peer.congested = false;
          this.flush();
        });
      }
    }
  }

  private peer(store: number): Peer {
    let p = this.peers.get(store);
    if (!p) {
      p = { store, stream: undefined, queue: [], ping: false, congested: false, backoffMs: MIN_BACKOFF_MS, retryAt: false };
      this.peers.set(store, p);
    }
    return p;
  }

  private connect(peer: Peer): RaftStream | undefined {
    if (peer.stream) return peer.stream;
    if (peer.retryAt) return undefined; // backing off
    const address = this.resolve(peer.store);
    if (!address) return undefined;
    const stream = this.openStream(address);
    peer.stream = stream;
    stream.onClose(() => {
      if (peer.stream !== stream) return;
      peer.stream = undefined;
      peer.congested = false;
      peer.retryAt = true;
      this.stats.reconnects++;
      this.onUnreachable(peer.store);
      const wait = peer.backoffMs;
      peer.backoffMs = Math.min(MAX_BACKOFF_MS, peer.backoffMs * 2);
      this.timers.setTimeout(() => {
        peer.retryAt = false;
      }, wait).unref();
    });
    return stream;
  }

  /** A frame arrived from `store`: its stream works, so reset the backoff. */
  heardFrom(store: number): void {
    const p = this.peers.get(store);
    if (p) p.backoffMs = MIN_BACKOFF_MS;
  }

  close(): void {
    for (const p of this.peers.values()) p.stream?.close();
    this.peers.clear();
  }
}
