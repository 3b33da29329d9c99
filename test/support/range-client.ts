/**
 * A minimal routing client for tests and benchmarks: knows the ranges and the
 * stores, sends each request to the range's leader, follows NOT_LEADER hints and
 * retries (with `retry` set, so a write applies once) until a deadline.
 */
import { nanoid } from 'nanoid';
import type { WireKvRequest, WireKvResponse } from '../../src/transport/index.js';
import { evenSplits, rangesFromSplits } from '../../src/replica/index.js';
import { BatchingKvClient } from '../../src/transport/index.js';
import type { RangeDescriptor } from '../../src/common/index.js';

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RangeClient {
  private readonly clients = new Map<number, BatchingKvClient>();
  private readonly leaders = new Map<number, number>();

  constructor(
    private readonly addresses: Map<number, string>,
    public ranges: RangeDescriptor[],
  ) {}

  private client(store: number): BatchingKvClient {
    let c = this.clients.get(store);
    if (!c) this.clients.set(store, (c = new BatchingKvClient(this.addresses.get(store)!)));
    return c;
  }

  rangeFor(key: Uint8Array): RangeDescriptor {
    return this.ranges.find((r) => Buffer.compare(key, r.start) >= 0 && (r.end.length === 0 || Buffer.compare(key, r.end) < 0))!;
  }

  async send(req: Partial<WireKvRequest> & { op: string; key: Uint8Array }, deadlineMs = 15_000): Promise<WireKvResponse> {
    const range = this.rangeFor(req.key);
    const start = Date.now();
    const stores = range.replicas.map((r) => r.store);
    let store = this.leaders.get(range.id) ?? stores[0];
    let attempt = 0;
    for (;;) {
      const full = { ...req, rangeId: range.id, epoch: range.epoch, retry: req.retry === true || attempt > 0 };
      let res: WireKvResponse | undefined;
      try {
        res = await this.client(store).kv(full);
      } catch {
        res = undefined;
      }
      if (res && res.error !== 'NOT_LEADER' && res.error !== 'UNAVAILABLE' && res.error !== 'RANGE_NOT_FOUND') {
        this.leaders.set(range.id, store);
        return res;
      }
      if (Date.now() - start > deadlineMs) throw new Error(`no answer for range ${range.id} within ${deadlineMs} ms (last: ${res?.error ?? 'rpc error'})`);
      attempt++;
      store = res?.error === 'NOT_LEADER' && res.leaderStore ? res.leaderStore : stores[attempt % stores.length];
      await sleep(Math.min(200, 10 * attempt));
    }
  }

  put(key: string, value: string): Promise<WireKvResponse> {
    return this.send({ op: 'put', key: enc.encode(key), value: enc.encode(value), hasValue: true, requestId: nanoid() });
  }

  get(key: string): Promise<WireKvResponse> {
    return this.send({ op: 'get', key: enc.encode(key) });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}

/** `n` ranges over keys "k000000".."k999999", replicated on `stores`. */
export function evenRanges(n: number, stores: number[]): RangeDescriptor[] {
  return rangesFromSplits(evenSplits(n), stores);
}

export function keyFor(i: number): string {
  return `k${String(i).padStart(6, '0')}`;
}
