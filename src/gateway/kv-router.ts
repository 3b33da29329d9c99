/**
 * Sends range-level KV requests to the right store: a range cache loaded from
 * the placement driver, corrected by the descriptors that EPOCH_NOT_MATCH /
 * KEY_NOT_IN_RANGE answers carry (and reloaded on RANGE_NOT_FOUND), leader
 * hints from NOT_LEADER, retries with backoff until the deadline. A
 * write keeps its request id across retries (with `retry` set), so it applies
 * once however often it is resent.
 */
import { DbError } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { WireKvRequest, WireKvResponse, WireRange } from '../transport/index.js';
import { BatchingKvClient, isNewer, overlaps, StoreClient } from '../transport/index.js';
import type { PdClient } from '../transport/index.js';

export class UnavailableError extends DbError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

type Request = Partial<WireKvRequest> & { op: string; key: Uint8Array };

export class KvRouter {
  private readonly clients = new Map<number, BatchingKvClient>();
  /** Ranges in key order. */
  ranges: WireRange[] = [];
  private readonly leaders = new Map<number, number>();
  private refreshing: Promise<void> | undefined;
  retries = 0;

  /** Store addresses, from the placement driver. */
  readonly stores = new Map<number, string>();

  constructor(
    readonly pd: PdClient,
    readonly clock: Clock,
    private readonly timers: Timers,
    private readonly deadlineMs = 10_000,
  ) {}

  private client(store: number): BatchingKvClient | undefined {
    const address = this.stores.get(store);
    if (!address) return undefined;
    let c = this.clients.get(store);
    if (!c) this.clients.set(store, (c = new BatchingKvClient(address, this.timers)));
    return c;
  }

  /** Reloads descriptors, leaders and store addresses from the placement driver (coalesced). */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const [ranges, stores] = await Promise.all([this.pd.call('GetRanges', {}, 3_000), this.pd.call('GetStores', {}, 3_000)]);
    for (const s of stores.stores) this.stores.set(s.id, s.address);
    for (const r of ranges.ranges) if (r.leader_store !== 0 && !this.leaders.has(r.range.id)) this.leaders.set(r.range.id, r.leader_store);
    // Keep what routing errors taught us when it is newer than the PD's copy.
    const merged = new Map(ranges.ranges.map((r) => [r.range.id, r.range]));
    for (const r of this.ranges) {
      const pd = merged.get(r.id);
      if (pd && isNewer(r, pd)) merged.set(r.id, r);
    }
    this.ranges = [];
    for (const r of [...merged.values()].sort((a, b) => Buffer.compare(a.start, b.start))) this.learn(r);
  }

  /** Puts a descriptor in the cache, dropping the older ones it overlaps. */
  learn(desc: WireRange): void {
    const overlapping = this.ranges.filter((r) => overlaps(r, desc));
    if (overlapping.some((r) => r.id === desc.id && !isNewer(desc, r))) return;
    if (overlapping.some((r) => r.id !== desc.id && r.epoch.version > desc.epoch.version)) return;
    this.ranges = this.ranges.filter((r) => !overlapping.includes(r));
    this.ranges.push(desc);
    this.ranges.sort((a, b) => Buffer.compare(a.start, b.start));
  }

  /** Leader per range as the stores report it (0 = none known). */
  async leaderMap(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    await Promise.all(
      [...this.stores.values()].map(async (address) => {
        const c = new StoreClient(address, this.clock);
        try {
          for (const s of (await c.ranges(2_000)).ranges) if (s.leader_store !== 0) out.set(s.range.id, s.leader_store);
        } catch {
          // unreachable
        } finally {
          c.close();
        }
      }),
    );
    return out;
  }

  locate(key: Uint8Array): WireRange | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid];
      if (Buffer.compare(key, r.start) < 0) hi = mid - 1;
      else if (r.end.length > 0 && Buffer.compare(key, r.end) >= 0) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Sends one request to the range holding `req.key` and returns its answer (never a routing error). */
  async send(req: Request): Promise<WireKvResponse> {
    const deadline = this.clock.monotonic() + this.deadlineMs;
    let attempt = 0;
    let lastError = 'no range holds the key yet';
    for (;;) {
      if (this.ranges.length === 0) await this.refresh().catch((err: Error) => (lastError = err.message));
      const range = this.locate(req.key);
      if (range) {
        const stores = range.replicas.map((r) => r.store);
        const store = this.leaders.get(range.id) ?? stores[attempt % stores.length];
        const res = await this.client(store)
          ?.kv({ ...req, range_id: range.id, epoch: range.epoch, retry: attempt > 0 })
          .catch((err: Error) => ({ error: 'UNAVAILABLE', message: err.message }) as WireKvResponse);
        if (res && res.error !== 'NOT_LEADER' && res.error !== 'UNAVAILABLE' && res.error !== 'EPOCH_NOT_MATCH' && res.error !== 'KEY_NOT_IN_RANGE' && res.error !== 'RANGE_NOT_FOUND') {
          this.leaders.set(range.id, store);
          return res;
        }
        lastError = res ? `${res.error}: ${res.message}` : `store ${store} unknown`;
        if (res?.error === 'NOT_LEADER' && res.leader_store !== 0) this.leaders.set(range.id, res.leader_store);
        else this.leaders.delete(range.id);
        if (res?.error === 'EPOCH_NOT_MATCH' || res?.error === 'KEY_NOT_IN_RANGE') {
          for (const d of res.ranges) this.learn(d);
          if (res.ranges.length === 0 || !this.locate(req.key)) await this.refresh().catch(() => {});
        }
        if (res?.error === 'RANGE_NOT_FOUND' || !res) await this.refresh().catch(() => {});
      } else {
        await this.refresh().catch((err: Error) => (lastError = err.message));
      }
      attempt++;
      this.retries++;
      const left = deadline - this.clock.monotonic();
      if (left <= 0) throw new UnavailableError(`no answer within ${this.deadlineMs} ms (${lastError})`);
      await new Promise<void>((r) => this.timers.setTimeout(r, Math.min(left, Math.min(500, 5 * 2 ** Math.min(attempt, 7)))));
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.pd.close();
  }
}

