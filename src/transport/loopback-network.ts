/**
 * The in-memory twin of the store network: stores in one process reach each
 * other through a shared registry of addresses, with the same asynchrony as a
 * socket (every delivery is a later task, never a nested call). `cut` makes an
 * address unreachable both ways, as a partition does: frames to it and from
 * it are lost, new streams to it fail. `cutLink` loses what one store sends
 * another, one way only (an asymmetric partition: it still hears the other).
 * `hold` is a paused process (SIGSTOP, a long GC): nothing reaches it or
 * leaves it, but nothing is lost either; what was sent to it (and what it had
 * sent) waits, as in a socket's buffers, and arrives in order once released.
 */
import type { Timers } from '../runtime/index.js';
import { OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { RaftStream } from './grpc.js';
import type { StoreListener, StoreNetwork } from './store-network.js';
import type { PdHandlers, StoreHandlers, WireKvRequest, WireKvResponse, WireSnapshotChunk } from './wire-types.js';

interface Endpoint {
  readonly handlers: StoreHandlers;
  readonly pd: PdHandlers | undefined;
  /** Streams opened to this endpoint, closed when it stops. */
  readonly inbound: Set<() => void>;
}

export class LoopbackNetwork implements StoreNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly cutOff = new Set<string>();
  /** One-way cuts, as "from>to". */
  private readonly cutLinks = new Set<string>();
  /** Paused addresses. */
  private readonly held = new Set<string>();
  /** Deliveries waiting for a paused end to be released, in the order they were due. */
  private parked: (() => void)[] = [];
  private nextPort = 40_000;

  constructor(
    private readonly timers: Timers,
    /** Milliseconds each message spends on the wire (the simulator draws it from its seed); default: the next task. */
    private readonly latency?: () => number,
  ) {}

  /** Runs `fn` once a message sent now arrives. */
  private afterLatency(fn: () => void): void {
    if (this.latency) this.timers.setTimeout(fn, this.latency());
    else this.timers.setImmediate(fn);
  }

  async serve(address: string, handlers: StoreHandlers, pd?: PdHandlers): Promise<StoreListener> {
    const [host, portText] = address.split(':');
    const port = Number(portText) === 0 ? this.nextPort++ : Number(portText);
    const bound = `${host}:${port}`;
    if (this.endpoints.has(bound)) throw new UnavailableError(`${bound} is already in use`);
    const endpoint: Endpoint = { handlers, pd, inbound: new Set() };
    this.endpoints.set(bound, endpoint);
    return {
      port,
      close: () => {
        if (this.endpoints.get(bound) !== endpoint) return;
        this.endpoints.delete(bound);
        for (const close of endpoint.inbound) close();
      },
    };
  }

  /** The process serving at `address` died: its endpoint goes, and with it every stream into it. */
  crash(address: string): void {
    const endpoint = this.endpoints.get(address);
    if (!endpoint) return;
    this.endpoints.delete(address);
    for (const close of endpoint.inbound) close();
  }

  /** Partitions `address` off from everyone (true) or heals it (false). */
  cut(address: string, off: boolean): void {
    if (off) this.cutOff.add(address);
    else this.cutOff.delete(address);
  }

  /** Pauses `address` (true): deliveries to and from it wait; released (false), they go on in order. */
  hold(address: string, on: boolean): void {
    if (on) {
      this.held.add(address);
      return;
    }
    this.held.delete(address);
    const due = this.parked;
    this.parked = [];
    // Each tries again, in order; one whose other end is still held parks again.
    for (const deliver of due) this.timers.setImmediate(deliver);
  }

  /** Runs `deliver` now, or once neither `to` nor `from` is held any more. */
  private whenUnheld(to: string, from: string | undefined, deliver: () => void): void {
    const attempt = () => {
      if (this.held.has(to) || (from !== undefined && this.held.has(from))) this.parked.push(attempt);
      else deliver();
    };
    attempt();
  }

  /** Loses everything `from` sends `to` (true), or heals that direction (false); the other direction is untouched. */
  cutLink(from: string, to: string, off: boolean): void {
    if (off) this.cutLinks.add(`${from}>${to}`);
    else this.cutLinks.delete(`${from}>${to}`);
  }

  /** Whether a message from `from` (undefined: a client outside the stores) reaches `to` now. */
  private reaches(to: string, from: string | undefined): boolean {
    return !this.cutOff.has(to) && (from === undefined || (!this.cutOff.has(from) && !this.cutLinks.has(`${from}>${to}`)));
  }

  /** The network as the store serving at `self` sees it: what it sends is lost too while `self` is cut off. */
  viewFrom(self: string): StoreNetwork {
    return {
      serve: (address, handlers, pd) => this.serve(address, handlers, pd),
      openRaftStream: (address) => this.openRaftStream(address, self),
      sendSnapshot: (address, chunks) => (this.reaches(address, self) ? this.sendSnapshot(address, chunks, self) : Promise.reject(new UnavailableError(`${self} cannot reach ${address}`))),
    };
  }

  /** `from` is the sender's own address when it is a store (a stream to or from a cut-off store carries nothing). */
  openRaftStream(address: string, from?: string): RaftStream {
    const closeFns: (() => void)[] = [];
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      endpoint?.inbound.delete(close);
      // As a socket reports a reset: on a later task.
      for (const fn of closeFns) this.timers.setImmediate(fn);
    };
    const endpoint = this.reaches(address, from) ? this.endpoints.get(address) : undefined;
    const inFlight: Uint8Array[] = [];
    if (endpoint) endpoint.inbound.add(close);
    else this.timers.setImmediate(close);
    return {
      write: (fromStore, payload) => {
        if (closed || !endpoint) return true;
        const frame = payload.slice();
        inFlight.push(frame);
        // A stream keeps its order: a frame that arrives delivers every frame sent before it first.
        this.afterLatency(() =>
          this.whenUnheld(address, from, () => {
            while (inFlight.length > 0) {
              const next = inFlight.shift()!;
              if (!closed && this.endpoints.get(address) === endpoint && this.reaches(address, from)) endpoint.handlers.onRaftFrame(fromStore, next);
              if (next === frame) break;
            }
          }),
        );
        return true;
      },
      onDrain: () => {},
      onClose: (fn) => {
        closeFns.push(fn);
      },
      close,
    };
  }

  async sendSnapshot(address: string, chunks: AsyncIterable<WireSnapshotChunk>, from?: string): Promise<void> {
    const endpoint = this.endpoints.get(address);
    if (!endpoint || !this.reaches(address, undefined)) throw new UnavailableError(`${address} is unreachable`);
    await new Promise<void>((r) => this.whenUnheld(address, from, r));
    await endpoint.handlers.snapshot(chunks);
  }

  /** A KV request from a client outside the stores, answered as the store's KV stream answers it. */
  async kv(address: string, req: WireKvRequest): Promise<WireKvResponse> {
    const endpoint = this.endpoints.get(address);
    if (!endpoint || !this.reaches(address, undefined)) throw new UnavailableError(`${address} is unreachable`);
    await new Promise<void>((r) => this.afterLatency(() => this.whenUnheld(address, undefined, r)));
    const res = await endpoint.handlers.kvOne(req);
    await new Promise<void>((r) => this.afterLatency(() => this.whenUnheld(address, undefined, r)));
    // Cut off meanwhile: the answer is lost on the way back.
    if (!this.reaches(address, undefined)) throw new OutcomeUnknownError(`${address} was cut off before it answered`);
    return res;
  }
}
