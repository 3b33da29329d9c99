/**
 * A minimal routing client for tests and benchmarks: knows the ranges and the
 * stores, sends each request to the range's leader, follows NOT_LEADER hints and
 * retries (with `retry` set, so a write applies once) until a deadline.
 */
import { nanoid } from 'nanoid';
import type { WireKvRequest, WireKvResponse, WireRange } from '../../src/transport/index.js';
import { StoreClient } from '../../src/transport/index.js';

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RangeClient {
  private readonly clients = new Map<number, StoreClient>();
  private readonly leaders = new Map<number, number>();

  constructor(
    private readonly addresses: Map<number, string>,
    public ranges: WireRange[],
  ) {}

  private client(store: number): StoreClient {
    let c = this.clients.get(store);
    if (!c) this.clients.set(store, (c = new StoreClient(this.addresses.get(store)!)));
    return c;
  }

  rangeFor(key: Uint8Array): WireRange {
    return this.ranges.find((r) => Buffer.compare(key, r.start) >= 0 && (r.end.length === 0 || Buffer.compare(key, r.end) < 0))!;
  }

  async send(req: Partial<WireKvRequest> & { op: string; key: Uint8Array }, deadlineMs = 15_000): Promise<WireKvResponse> {
    const range = this.rangeFor(req.key);
    const start = Date.now();
    const stores = range.replicas.map((r) => r.store);
    let store = this.leaders.get(range.id) ?? stores[0];
    let attempt = 0;
    for (;;) {
      const full = { ...req, range_id: range.id, epoch: range.epoch, retry: req.retry === true || attempt > 0 };
      let res: WireKvResponse | undefined;
      try {
        [res] = await this.client(store).kv([full], 3_000);
      } catch {
        res = undefined;
      }
      if (res && res.error !== 'NOT_LEADER' && res.error !== 'UNAVAILABLE' && res.error !== 'RANGE_NOT_FOUND') {
        this.leaders.set(range.id, store);
        return res;
      }
      if (Date.now() - start > deadlineMs) throw new Error(`no answer for range ${range.id} within ${deadlineMs} ms (last: ${res?.error ?? 'rpc error'})`);
      attempt++;
      store = res?.error === 'NOT_LEADER' && res.leader_store ? res.leader_store : stores[attempt % stores.length];
      await sleep(Math.min(200, 10 * attempt));
    }
  }

  put(key: string, value: string): Promise<WireKvResponse> {
    return this.send({ op: 'put', key: enc.encode(key), value: enc.encode(value), has_value: true, request_id: nanoid() });
  }

  get(key: string): Promise<WireKvResponse> {
    return this.send({ op: 'get', key: enc.encode(key) });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}

/** `n` ranges over keys "k000000".. split evenly by a numeric prefix, replicated on `stores`. */
export function evenRanges(n: number, stores: number[], width = 1_000_000): WireRange[] {
  const bound = (i: number) => (i === 0 ? new Uint8Array(0) : enc.encode(`k${String(Math.floor((i * width) / n)).padStart(6, '0')}`));
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    start: bound(i),
    end: i === n - 1 ? new Uint8Array(0) : bound(i + 1),
    epoch: { version: 1, conf_ver: 1 },
    replicas: stores.map((s) => ({ store: s, replica_id: s * 65_536 + 1, role: 'voter' })),
  }));
}

export function keyFor(i: number): string {
  return `k${String(i).padStart(6, '0')}`;
}
