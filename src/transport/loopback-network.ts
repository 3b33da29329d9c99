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
import type { Dialer, KvCalls, PdMemberCalls, StoreCalls } from './dialer.js';
import { failOrCrash, fromWireError } from './errors.js';
import { decodeRequests, encodeRequests } from './kv-codec.js';
import type { RaftStream, TsoStream } from './grpc.js';
import type { StoreListener, StoreNetwork } from './store-network.js';
import type { PdHandlers, StoreHandlers, WireKvRequest, WireKvResponse, WireSnapshotChunk } from './wire-types.js';

/** How long one request on a simulated TSO stream may stay unanswered before the stream counts as reset (the client gives up sooner). */
const TSO_STREAM_CALL_MS = 10_000;

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
    /**
     * Raft frames a stream delivers twice, or out of order (the simulator
     * draws them from its seed; default: none). TCP does neither, but frames
     * resent over a new stream after a reconnect can arrive both ways, and
     * Raft must not care.
     */
    private readonly mishandle?: () => 'duplicate' | 'reorder' | undefined,
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
        const deliverAlone = (copy: Uint8Array) =>
          this.afterLatency(() =>
            this.whenUnheld(address, from, () => {
              if (!closed && this.endpoints.get(address) === endpoint && this.reaches(address, from)) endpoint.handlers.onRaftFrame(fromStore, copy);
            }),
          );
        const mishap = this.mishandle?.();
        if (mishap === 'reorder') {
          // Overtakes, or is overtaken by, the frames around it.
          deliverAlone(frame);
          return true;
        }
        if (mishap === 'duplicate') deliverAlone(frame.slice());
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

  /** Whether an answer from `to` reaches `from` now (the reverse path of `reaches`). */
  private replyReaches(to: string, from: string | undefined): boolean {
    return !this.cutOff.has(to) && (from === undefined || (!this.cutOff.has(from) && !this.cutLinks.has(`${to}>${from}`)));
  }

  /**
   * One call from `from` (undefined: a process outside the simulated hosts)
   * to the process at `to`, as gRPC makes it: a process that is gone refuses
   * at once (UNAVAILABLE: nothing was done); a request or answer lost to a cut
   * leaves the caller waiting out its deadline (OUTCOME_UNKNOWN: it may have
   * been acted on); a process that dies with the call open resets the
   * connection (OUTCOME_UNKNOWN at once). Requests and answers are copied, as a
   * wire would, and a handler's failure comes back as the typed error the wire
   * would carry.
   */
  private unary<T>(to: string, from: string | undefined, deadlineMs: number, invoke: (endpoint: Endpoint) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        this.timers.clearTimeout(timer);
        endpoint?.inbound.delete(reset);
        settle();
      };
      const reset = () => this.afterLatency(() => finish(() => reject(new OutcomeUnknownError(`${to}: the connection was reset`))));
      const timer = this.timers.setTimeout(() => finish(() => reject(new OutcomeUnknownError(`${to}: deadline of ${deadlineMs} ms exceeded`))), deadlineMs);
      const endpoint = this.endpoints.get(to);
      if (!endpoint) {
        this.afterLatency(() => finish(() => reject(new UnavailableError(`${to}: connection refused`))));
        return;
      }
      if (!this.reaches(to, from)) return;
      endpoint.inbound.add(reset);
      const answer = (settle: () => void) =>
        this.afterLatency(() =>
          this.whenUnheld(to, from, () => {
            if (this.endpoints.get(to) === endpoint && this.replyReaches(to, from)) finish(settle);
          }),
        );
      this.afterLatency(() =>
        this.whenUnheld(to, from, () => {
          // Died or cut off while the request was on its way: it is lost.
          if (this.endpoints.get(to) !== endpoint || !this.reaches(to, from)) return;
          Promise.resolve()
            .then(() => invoke(endpoint))
            .then(
              (res) => {
                const copy = structuredClone(res);
                answer(() => resolve(copy));
              },
              (err: unknown) => {
                const typed = fromWireError(failOrCrash(err))!;
                answer(() => reject(typed));
              },
            );
        }),
      );
    });
  }

  /** The calls the process at `self` (undefined: one outside the simulated hosts) makes to stores and placement driver members. */
  dialerFrom(self?: string): Dialer {
    const copy = <T>(v: T): T => structuredClone(v);
    const pdOf = (address: string, endpoint: Endpoint) => {
      if (!endpoint.pd) throw new UnavailableError(`${address} serves no placement driver`);
      return endpoint.pd;
    };
    return {
      store: (address): StoreCalls => ({
        createReplica: (range, bootstrap, deadlineMs = 10_000) => this.unary(address, self, deadlineMs, (e) => e.handlers.createReplica(copy(range), bootstrap)),
        transferLeader: (rangeId, toStore, deadlineMs = 5_000) => this.unary(address, self, deadlineMs, async (e) => e.handlers.transferLeader(rangeId, toStore)),
        split: (req, deadlineMs = 15_000) => this.unary(address, self, deadlineMs, (e) => e.handlers.split(copy(req))),
        changeReplicas: (req, deadlineMs = 15_000) => this.unary(address, self, deadlineMs, (e) => e.handlers.changeReplicas(copy(req))),
        ranges: (deadlineMs = 5_000) => this.unary(address, self, deadlineMs, async (e) => ({ store: 0, ranges: e.handlers.ranges() })),
        // Through the KV codec, which gives absent fields their defaults as the proto does.
        kv: (requests, deadlineMs = 10_000) => this.unary(address, self, deadlineMs, (e) => e.handlers.kv(decodeRequests(encodeRequests(requests.map((req, seq) => ({ seq, req })))).map((d) => d.req))),
        close: () => {},
      }),
      pdMember: (address): PdMemberCalls => ({
        call: (method, req, deadlineMs) => this.unary(address, self, deadlineMs, (e) => (pdOf(address, e)[method] as (r: unknown) => Promise<unknown>)(copy(req))) as never,
        openTsoStream: () => this.tsoStream(address, self),
        close: () => {},
      }),
      kvStream: (address): KvCalls => ({
        // Through the stream's codec, as the gateway's BatchingKvClient sends it (with its 5 s per request).
        kv: (req) => this.unary(address, self, 5_000, (e) => e.handlers.kvOne(decodeRequests(encodeRequests([{ seq: 0, req }]))[0].req)),
        close: () => {},
      }),
    };
  }

  /**
   * The TSO stream to the member at `to`, as the gRPC server serves it: each
   * request is answered by the member's Tso handler, answers in request order
   * (a handler's failure is an answer carrying the error). A request or answer
   * the network loses, or a member that dies, ends the stream, as a reset
   * connection does; the client's own timeout covers a cut.
   */
  private tsoStream(to: string, from: string | undefined): TsoStream {
    let onAnswer: Parameters<TsoStream['onAnswer']>[0] = () => {};
    let onClose: (why: string) => void = () => {};
    let closed = false;
    let answered: Promise<void> = Promise.resolve();
    const end = (why: string) => {
      if (closed) return;
      closed = true;
      onClose(why);
    };
    return {
      write: (count) => {
        if (closed) return;
        const call = this.unary(to, from, TSO_STREAM_CALL_MS, async (e) => {
          if (!e.pd) throw new UnavailableError(`${to} serves no placement driver`);
          try {
            return await e.pd.Tso({ count });
          } catch (err) {
            return { physical: 0, logical: 0, error: failOrCrash(err) };
          }
        });
        answered = answered.then(() =>
          call.then(
            (res) => {
              if (!closed) onAnswer(res);
            },
            (err: Error) => end(err.message),
          ),
        );
      },
      onAnswer: (fn) => (onAnswer = fn),
      onClose: (fn) => (onClose = fn),
      close: () => {
        closed = true;
      },
    };
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
