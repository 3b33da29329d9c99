/**
 * The gateway's routing, as the simulator's transaction clients need it
 * (src/txn's RangeSender): a request goes to the range's leader, guessed,
 * then named by NOT_LEADER hints, retried across replicas with one request
 * id until its deadline. A write never answered for sure ends as
 * OUTCOME_UNKNOWN, anything else that runs out of time as UNAVAILABLE. The
 * simulated ranges never split, so a routing answer is never about epochs.
 */
import { OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { RangeDescriptor } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { LoopbackNetwork, WireKvRequest, WireKvResponse } from '../transport/index.js';
import type { KvRequest, RangeSender } from '../txn/index.js';

const EMPTY = new Uint8Array(0);
const ROUTING = new Set(['NOT_LEADER', 'UNAVAILABLE', 'OUTCOME_UNKNOWN', 'EPOCH_NOT_MATCH', 'KEY_NOT_IN_RANGE', 'RANGE_NOT_FOUND']);

export class SimRangeSender implements RangeSender {
  private readonly leaderGuess = new Map<number, number>();

  constructor(
    private readonly network: LoopbackNetwork,
    private readonly ranges: readonly RangeDescriptor[],
    private readonly peers: ReadonlyMap<number, string>,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly deadlineMs: number,
    private readonly attemptMs: number,
  ) {}

  async rangeOf(key: Uint8Array): Promise<RangeDescriptor> {
    return this.locate(key);
  }

  private locate(key: Uint8Array): RangeDescriptor {
    return this.ranges.find((d) => Buffer.compare(key, d.start) >= 0 && (d.end.byteLength === 0 || Buffer.compare(key, d.end) < 0))!;
  }

  async send(req: KvRequest): Promise<WireKvResponse> {
    const range = this.locate(req.key);
    const isWrite = req.op !== 'get' && req.op !== 'scan';
    const deadline = this.clock.monotonic() + this.deadlineMs;
    let unsettled = false;
    for (let attempt = 0; this.clock.monotonic() < deadline; attempt++) {
      const stores = range.replicas.map((rep) => rep.store);
      const store = this.leaderGuess.get(range.id) ?? stores[attempt % stores.length];
      const full: WireKvRequest = { requestId: '', value: EMPTY, hasValue: false, expect: EMPTY, hasExpect: false, end: EMPTY, limit: 0, ts: 0n, payload: EMPTY, ...req, rangeId: range.id, epoch: range.epoch, retry: req.retry === true || attempt > 0 };
      const res = await attemptKv(this.network, this.timers, this.peers.get(store)!, full, this.attemptMs);
      if (res && !ROUTING.has(res.error)) {
        this.leaderGuess.set(range.id, store);
        return res;
      }
      unsettled ||= isWrite && (res === undefined || res.error === 'OUTCOME_UNKNOWN');
      if (res?.error === 'NOT_LEADER' && res.leaderStore !== 0 && res.leaderStore !== store) {
        this.leaderGuess.set(range.id, res.leaderStore);
      } else {
        this.leaderGuess.delete(range.id);
        await new Promise<void>((r) => this.timers.setTimeout(r, 20 + attempt * 10));
      }
    }
    if (unsettled) throw new OutcomeUnknownError(`range ${range.id}: a write went unanswered until the deadline`);
    throw new UnavailableError(`range ${range.id}: no answer before the deadline`);
  }
}

/** One attempt of a KV request: the store's answer, or undefined when it failed or took longer than `ms`. */
export function attemptKv(network: LoopbackNetwork, timers: Timers, address: string, req: WireKvRequest, ms: number): Promise<WireKvResponse | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (res: WireKvResponse | undefined) => {
      if (done) return;
      done = true;
      resolve(res);
    };
    timers.setTimeout(() => finish(undefined), ms);
    network.kv(address, req).then(finish, () => finish(undefined));
  });
}
