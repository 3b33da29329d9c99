/**
 * How stores, gateways and tools reach the placement driver: any member
 * address will do; answers that redirect to the leader are followed, dead
 * members are skipped, and the leader found is remembered.
 */
import { composeTimestamp, DbError, isRetryable, UnavailableError } from '../common/index.js';
import type { Timestamp } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { PdHandlers, PdRedirect } from './wire-types.js';
import type { TsoStream } from './grpc.js';
import { fromWireError } from './errors.js';
import type { Dialer, PdMemberCalls } from './dialer.js';

type Method = Exclude<keyof PdHandlers, 'GetMembers'>;
type Response<M extends Method> = Awaited<ReturnType<PdHandlers[M]>>;

export class PdClient {
  private readonly clients = new Map<string, PdMemberCalls>();
  private leader: string | undefined;
  private tsoStream: TsoStreamClient | undefined;

  constructor(
    readonly addresses: readonly string[],
    private readonly clock: Clock,
    private readonly timers: Timers,
    /** How members are reached: gRPC (src/cli) or the simulator's network. */
    private readonly dialer: Dialer,
  ) {
    if (addresses.length === 0) throw new DbError('BAD_REQUEST', 'no placement driver address given');
  }

  private client(address: string): PdMemberCalls {
    let c = this.clients.get(address);
    if (!c) this.clients.set(address, (c = this.dialer.pdMember(address)));
    return c;
  }

  /** Calls the PD leader, retrying until `deadlineMs` passes. */
  async call<M extends Method>(method: M, req: Parameters<PdHandlers[M]>[0], deadlineMs = 10_000, perTryMs = 3_000): Promise<Response<M>> {
    const deadline = this.clock.monotonic() + deadlineMs;
    let lastError = '';
    for (let attempt = 0; ; attempt++) {
      const address = this.leader ?? this.addresses[attempt % this.addresses.length];
      try {
        // The first try may take perTryMs whatever the deadline (a long operator); retries fit in what is left.
        const tryMs = attempt === 0 ? perTryMs : Math.min(perTryMs, Math.max(100, deadline - this.clock.monotonic()));
        const res = (await this.client(address).call(method, req as never, tryMs)) as Response<M> & { redirect?: PdRedirect };
        if (!res.redirect?.notLeader) {
          this.leader = address;
          return res;
        }
        this.leader = res.redirect.leaderAddress || undefined;
        lastError = `${address} is not the leader`;
        if (this.leader) continue;
      } catch (err) {
        // The PD's own answer (a bad request, an unknown store) is final; a failed call or a PD between leaders is not.
        if (err instanceof DbError && !isRetryable(err.code)) throw err;
        this.leader = undefined;
        lastError = (err as Error).message;
      }
      if (this.clock.monotonic() > deadline) throw new UnavailableError(`placement driver unavailable: ${lastError}`);
      await new Promise<void>((r) => this.timers.setTimeout(r, Math.min(500, 50 * (attempt + 1))));
    }
  }

  /** The members as seen by the first member that answers (no leader needed). */
  async members(): Promise<Awaited<ReturnType<PdHandlers['GetMembers']>>> {
    let lastError = '';
    for (const address of this.leader ? [this.leader, ...this.addresses] : this.addresses) {
      try {
        return await this.client(address).call('GetMembers', { selfOnly: false }, 3_000);
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    throw new UnavailableError(`no placement driver member answers: ${lastError}`);
  }

  /** Runs an operator command, waiting up to `deadlineMs` for it (a rebalance or decommission runs long); its result, or a DbError with the PD's code. */
  async admin(op: string, body: unknown, deadlineMs = 120_000): Promise<unknown> {
    // 10 s to reach the leader (retries), and up to deadlineMs for the operator itself.
    const res = await this.call('Admin', { op, json: JSON.stringify(body) }, 10_000, deadlineMs);
    return JSON.parse(res.json) as unknown;
  }

  /**
   * The first of `count` fresh timestamps from the TSO, strictly above any
   * handed out before: over a long-lived stream to the leader once it is
   * known, else (and after any failure of the stream) by a call that finds it.
   */
  async tso(count = 1): Promise<Timestamp> {
    if (this.leader) {
      try {
        return await this.tsoOverStream(this.leader, count);
      } catch (err) {
        if (!(err instanceof DbError) || !isRetryable(err.code)) throw err;
      }
    }
    const res = await this.call('Tso', { count });
    return composeTimestamp(res.physical, res.logical);
  }

  private tsoOverStream(address: string, count: number): Promise<Timestamp> {
    let s = this.tsoStream;
    if (!s || s.address !== address) {
      s?.close(new UnavailableError('placement driver leader changed'));
      s = this.tsoStream = new TsoStreamClient(address, this.client(address).openTsoStream(), this.timers, () => {
        if (this.tsoStream === s) this.tsoStream = undefined;
      });
    }
    return s.request(count, (leader) => (this.leader = leader || undefined));
  }

  close(): void {
    this.tsoStream?.close(new UnavailableError('placement driver client closed'));
    for (const c of this.clients.values()) c.close();
  }
}

const TSO_STREAM_TIMEOUT_MS = 3_000;

/** The requests waiting on one TSO stream, answered in order; any trouble fails them all and ends the stream. */
class TsoStreamClient {
  private readonly waiting: { resolve(ts: Timestamp): void; reject(err: Error): void; timer: unknown; redirect(leader: string): void }[] = [];
  private closed = false;

  constructor(
    readonly address: string,
    private readonly stream: TsoStream,
    private readonly timers: Timers,
    private readonly onGone: () => void,
  ) {
    stream.onAnswer((res) => {
      const w = this.waiting.shift();
      if (!w) return this.close(new UnavailableError(`${address}: an answer nobody asked for on the TSO stream`));
      this.timers.clearTimeout(w.timer);
      if (res.redirect?.notLeader) {
        w.redirect(res.redirect.leaderAddress);
        w.reject(new UnavailableError(`${address} is not the placement driver leader`));
        return this.close(new UnavailableError(`${address} is not the placement driver leader`));
      }
      const failed = fromWireError(res.error);
      if (failed) w.reject(failed);
      else w.resolve(composeTimestamp(res.physical, res.logical));
    });
    stream.onClose((why) => this.close(new UnavailableError(`${address}: TSO stream closed: ${why}`)));
  }

  request(count: number, redirect: (leader: string) => void): Promise<Timestamp> {
    if (this.closed) return Promise.reject(new UnavailableError(`${this.address}: TSO stream closed`));
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => this.close(new UnavailableError(`${this.address}: no TSO answer within ${TSO_STREAM_TIMEOUT_MS} ms`)), TSO_STREAM_TIMEOUT_MS);
      this.waiting.push({ resolve, reject, timer, redirect });
      this.stream.write(count);
    });
  }

  close(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone();
    for (const w of this.waiting.splice(0)) {
      this.timers.clearTimeout(w.timer);
      w.reject(err);
    }
    this.stream.close();
  }
}
