/**
 * Sends range-level KV requests to the right store: a range cache loaded from
 * the placement driver, corrected by the descriptors that EPOCH_NOT_MATCH /
 * KEY_NOT_IN_RANGE answers carry (and reloaded on RANGE_NOT_FOUND), leader
 * hints from NOT_LEADER, retries with backoff until the deadline. A
 * write keeps its request id across retries (with `retry` set), so it applies
 * once however often it is resent.
 */
import { KeyNotInRangeError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { WireKvRequest, WireKvResponse } from '../transport/index.js';
import { isNewer, overlaps } from '../transport/index.js';
import type { Dialer, KvCalls, PdClient } from '../transport/index.js';
import type { RangeDescriptor } from '../common/index.js';

type Request = Partial<WireKvRequest> & { op: string; key: Uint8Array };

/** What one attempt came to: the store's answer, another leader named meanwhile, or a failed call. */
type Attempt = { kind: 'answer'; res: WireKvResponse } | { kind: 'moved'; leader: number } | { kind: 'failed'; sent: boolean; message: string };

interface Outstanding {
  readonly store: number;
  readonly range: RangeDescriptor;
  /** Monotonic ms when it was sent. */
  readonly startedAt: number;
  /** A leader probe for it is out. */
  probing: boolean;
  /** Resolves the attempt, once: the store's answer or a failure, or another leader named meanwhile. */
  settle(a: Attempt): void;
}

/** Answers after which the request is sent again (re-routed) rather than returned. */
const ROUTING_ERRORS: ReadonlySet<string> = new Set(['NOT_LEADER', 'UNAVAILABLE', 'OUTCOME_UNKNOWN', 'EPOCH_NOT_MATCH', 'KEY_NOT_IN_RANGE', 'RANGE_NOT_FOUND']);
const EMPTY = new Uint8Array(0);

export class KvRouter {
  private readonly clients = new Map<number, KvCalls>();
  /** Ranges in key order. */
  ranges: RangeDescriptor[] = [];
  private readonly leaders = new Map<number, number>();
  private refreshing: Promise<void> | undefined;
  retries = 0;
  /** Leader probes sent for slow attempts. */
  probes = 0;
  /** The probe in flight per range and suspected store. */
  private readonly probing = new Map<string, Promise<number | undefined>>();
  /** Attempts awaiting their store's answer. */
  private readonly outstanding = new Set<Outstanding>();
  private hedgeTimer: { unref(): void } | undefined;

  /** Store addresses, from the placement driver. */
  readonly stores = new Map<number, string>();

  constructor(
    readonly pd: PdClient,
    readonly clock: Clock,
    readonly timers: Timers,
    /** How stores are reached (gRPC, or the simulator's network). */
    private readonly dialer: Dialer,
    private readonly deadlineMs = 10_000,
    /** How long an attempt may be out before the range's other replicas are asked who leads. */
    private readonly hedgeMs = 250,
  ) {}

  private client(store: number): KvCalls | undefined {
    const address = this.stores.get(store);
    if (!address) return undefined;
    let c = this.clients.get(store);
    if (!c) this.clients.set(store, (c = this.dialer.kvStream(address)));
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
    for (const r of ranges.ranges) if (r.leaderStore !== 0 && !this.leaders.has(r.range.id)) this.leaders.set(r.range.id, r.leaderStore);
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
  learn(desc: RangeDescriptor): void {
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
        const c = this.dialer.store(address);
        try {
          for (const s of (await c.ranges(2_000)).ranges) if (s.leaderStore !== 0) out.set(s.range.id, s.leaderStore);
        } catch {
          // unreachable
        } finally {
          c.close();
        }
      }),
    );
    return out;
  }

  /** The cached range holding `key`, loading the cache when it has none. */
  async rangeOf(key: Uint8Array): Promise<RangeDescriptor> {
    let range = this.locate(key);
    if (!range) {
      await this.refresh();
      range = this.locate(key);
    }
    if (!range) throw new UnavailableError('no range holds the key yet');
    return range;
  }

  locate(key: Uint8Array): RangeDescriptor | undefined {
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

  /**
   * Sends one request to the range holding `req.key` and returns its answer
   * (never a routing error). Rejects with UnavailableError when nothing was
   * applied before the deadline, or, for a write that was sent and never
   * settled, OutcomeUnknownError: it may or may not have applied.
   */
  async send(req: Request): Promise<WireKvResponse> {
    const deadline = this.clock.monotonic() + this.deadlineMs;
    const isWrite = req.op === 'put' || req.op === 'delete' || req.op === 'cas' || req.op === 'txn';
    // A write was sent and never answered for sure. Any later answer settles it:
    // retries carry the same request id and apply at most once.
    let unsettled = false;
    let attempt = 0;
    let lastError = 'no range holds the key yet';
    for (;;) {
      if (this.ranges.length === 0) await this.refresh().catch((err: Error) => (lastError = err.message));
      const range = this.locate(req.key);
      if (range) {
        const stores = range.replicas.map((r) => r.store);
        const store = this.leaders.get(range.id) ?? stores[attempt % stores.length];
        const outcome = await this.attempt(store, range, { ...req, rangeId: range.id, epoch: range.epoch, retry: req.retry === true || attempt > 0 });
        if (outcome.kind === 'answer') {
          const res = outcome.res;
          if (!ROUTING_ERRORS.has(res.error)) {
            this.leaders.set(range.id, store);
            return res;
          }
          lastError = `${res.error}: ${res.message}`;
          if (res.error === 'OUTCOME_UNKNOWN') unsettled = true;
          if ((res.error === 'NOT_LEADER' || res.error === 'OUTCOME_UNKNOWN') && res.leaderStore !== 0 && res.leaderStore !== store) this.leaders.set(range.id, res.leaderStore);
          else this.leaders.delete(range.id);
          if (res.error === 'EPOCH_NOT_MATCH' || res.error === 'KEY_NOT_IN_RANGE') {
            for (const d of res.ranges) this.learn(d);
            if (res.ranges.length === 0 || !this.locate(req.key)) await this.refresh().catch(() => {});
            // A transactional command names many keys: its sender regroups them by the ranges just learned.
            if (req.op === 'txn') {
              if (unsettled) throw new OutcomeUnknownError(`the ranges changed while a transactional command's outcome was unknown (${lastError})`);
              throw new KeyNotInRangeError(`the command's keys no longer lie in range ${range.id} (${lastError})`, res.ranges);
            }
          }
          if (res.error === 'RANGE_NOT_FOUND') await this.refresh().catch(() => {});
        } else if (outcome.kind === 'moved') {
          // The range's other replicas name another leader while this attempt is still out:
          // go there now rather than wait the attempt out (the abandoned write may yet apply).
          lastError = `store ${store} stopped answering; store ${outcome.leader} leads range ${range.id}`;
          unsettled ||= isWrite;
          this.leaders.set(range.id, outcome.leader);
        } else {
          lastError = outcome.message;
          unsettled ||= isWrite && outcome.sent;
          this.leaders.delete(range.id);
          if (!outcome.sent) await this.refresh().catch(() => {});
        }
      } else {
        await this.refresh().catch((err: Error) => (lastError = err.message));
      }
      attempt++;
      this.retries++;
      const left = deadline - this.clock.monotonic();
      if (left <= 0) {
        if (unsettled) throw new OutcomeUnknownError(`the write was sent but its outcome could not be learned within ${this.deadlineMs} ms (${lastError})`);
        throw new UnavailableError(`no answer within ${this.deadlineMs} ms (${lastError})`);
      }
      // A leader named by a hint is tried at once; otherwise back off.
      if (!this.leaders.has(range?.id ?? -1)) await new Promise<void>((r) => this.timers.setTimeout(r, Math.min(left, Math.min(500, 5 * 2 ** Math.min(attempt, 7)))));
    }
  }

  /**
   * One attempt on one store. While it is out longer than the hedge delay,
   * the range's other replicas are asked who leads (a `leader` probe, no Raft
   * round); if they name another store, the attempt is abandoned: a leader cut
   * off by a partition costs the requests routed to it one hedge delay plus an
   * election, never a whole attempt deadline. Outstanding attempts are swept
   * by one timer, so an attempt that answers in time costs no timer of its own.
   */
  private attempt(store: number, range: RangeDescriptor, req: Request): Promise<Attempt> {
    const client = this.client(store);
    if (!client) return Promise.resolve({ kind: 'failed', sent: false, message: `store ${store} has no known address` });
    return new Promise((resolve) => {
      const out: Outstanding = {
        store,
        range,
        startedAt: this.clock.monotonic(),
        probing: false,
        settle: (a) => {
          if (!this.outstanding.delete(out)) return;
          resolve(a);
        },
      };
      this.outstanding.add(out);
      if (!this.hedgeTimer) {
        this.hedgeTimer = this.timers.setInterval(() => this.hedgeSlowAttempts(), this.hedgeMs / 2);
        this.hedgeTimer.unref();
      }
      client.kv(req).then(
        (res) => out.settle({ kind: 'answer', res }),
        (err: Error) => out.settle({ kind: 'failed', sent: true, message: err.message }),
      );
    });
  }

  /** Probes for the leader of each range with an attempt out longer than the hedge delay. */
  private hedgeSlowAttempts(): void {
    const now = this.clock.monotonic();
    for (const out of this.outstanding) {
      if (out.probing || now - out.startedAt < this.hedgeMs) continue;
      const others = out.range.replicas.map((r) => r.store).filter((s) => s !== out.store);
      if (others.length === 0) continue;
      out.probing = true;
      void this.probeLeader(out.range, others, out.store).then((leader) => {
        out.probing = false;
        if (leader !== undefined) out.settle({ kind: 'moved', leader });
      });
    }
  }

  /**
   * A leader other than `current` named by any of `stores` (a replica that
   * leads, or a hint), if one is. Slow attempts on one range share one probe.
   */
  private probeLeader(range: RangeDescriptor, stores: readonly number[], current: number): Promise<number | undefined> {
    const key = `${range.id}/${current}`;
    let probe = this.probing.get(key);
    if (!probe) {
      probe = this.askForLeader(range, stores, current).finally(() => this.probing.delete(key));
      this.probing.set(key, probe);
    }
    return probe;
  }

  /** Resolves with the first leader other than `current` that an answer names; undefined when none does in time. */
  private askForLeader(range: RangeDescriptor, stores: readonly number[], current: number): Promise<number | undefined> {
    this.probes++;
    return new Promise((resolve) => {
      let pending = stores.length;
      let hinted: number | undefined;
      let finished = false;
      const done = (leader: number | undefined) => {
        if (finished) return;
        finished = true;
        resolve(leader);
      };
      // A replica that is down too must not hold the probe for a whole call deadline.
      this.timers.setTimeout(() => done(hinted), 2 * this.hedgeMs);
      for (const s of stores) {
        const answered = (named: number) => {
          // A replica that leads outranks a hint; a hint is used once everyone answered.
          if (named === s) done(s);
          else if (named !== 0 && named !== current) hinted ??= named;
          if (--pending === 0) done(hinted);
        };
        const client = this.client(s);
        if (!client) answered(0);
        else
          client.kv({ op: 'leader', rangeId: range.id, key: EMPTY }).then(
            (res) => answered(res.error === '' ? s : res.error === 'NOT_LEADER' ? res.leaderStore : 0),
            () => answered(0),
          );
      }
    });
  }

  close(): void {
    if (this.hedgeTimer) this.timers.clearInterval(this.hedgeTimer);
    for (const c of this.clients.values()) c.close();
    this.pd.close();
  }
}

