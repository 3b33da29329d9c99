/**
 * Pending ReadIndex requests on the leader (Raft dissertation §6.4): each is
 * served once a majority has acknowledged a heartbeat carrying its context,
 * proving that no newer leader existed when the read index was taken.
 */
import type { LogIndex, NodeId } from '../common/index.js';

export interface ReadRequest {
  readonly index: LogIndex;
  readonly ctx: Uint8Array;
  /** The node whose host asked (the leader itself, or a follower that forwarded it). */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]);
  return s;
}

/** Invariant: `queue` holds exactly the keys of `pending`, oldest first. */
export class ReadOnlyQueue {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: string[] = [];

  /** False if a request with the same ctx is already pending (it is ignored). */
  add(index: LogIndex, ctx: Uint8Array, from: NodeId): boolean {
    const key = ctxKey(ctx);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { index, ctx, from, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records an acknowledgement; returns the acks so far, or undefined for an unknown ctx. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | undefined {
    const req = this.pending.get(ctxKey(ctx));
    if (!req) return undefined;
    req.acks.add(id);
    return req.acks;
  }

  /**
   * Releases the request for `ctx` and every older one: a quorum for a later
   * heartbeat round also confirms leadership for the earlier requests.
   */
  advance(ctx: Uint8Array): ReadRequest[] {
    const key = ctxKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1).map((k) => this.pending.get(k)!);
    for (const k of this.queue.slice(0, at + 1)) this.pending.delete(k);
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** The context of the newest pending request (re-sent on heartbeats so lost rounds recover). */
  lastPendingCtx(): Uint8Array | undefined {
    return this.queue.length > 0 ? this.pending.get(this.queue[this.queue.length - 1])!.ctx : undefined;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
