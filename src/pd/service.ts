/**
 * The placement driver's gRPC service (PdHandlers): store registration and
 * heartbeats, timestamps, ids, the range map, the store list, the member list
 * and admin commands. Every method but GetMembers is served by the leader
 * only; the other members redirect (Leadership.serve).
 */
import { DbError, logicalOf, physicalOf } from '../common/index.js';
import { secondsSince } from '../runtime/index.js';
import type { PdHandlers, PdMemberCalls, WireRangeStat, WireStoreInfo } from '../transport/index.js';
import { isNewer, overlaps } from '../transport/index.js';
import { parseAdminBody, runAdmin } from './admin.js';
import { gcRound, safePoint, safePointJson } from './gc.js';
import type { StoreState } from './cluster-state.js';
import type { PdConfig, PdDeps } from './config.js';
import type { PdGroup } from './group.js';
import type { Leadership, LeaderTerm } from './leadership.js';
import { TSO_KEY } from './meta-keys.js';
import type { PdMetrics } from './metrics.js';

export interface PdServiceDeps extends PdDeps {
  readonly cfg: PdConfig;
  readonly group: PdGroup;
  readonly leadership: Leadership;
  readonly metrics: PdMetrics;
  /** Runs an operator once no other is running (the scheduler's operators take turns with admin commands). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export class PdService {
  private regQueue: Promise<unknown> = Promise.resolve();
  /** "store/range" pairs being given a missing replica. */
  private readonly recreating = new Set<string>();
  private readonly memberClients = new Map<number, PdMemberCalls>();

  constructor(private readonly d: PdServiceDeps) {}

  readonly handlers: PdHandlers = {
    RegisterStore: (req) =>
      this.d.leadership.serve((l) => this.registration(() => this.register(l, req))) as ReturnType<PdHandlers['RegisterStore']>,

    StoreHeartbeat: (req) =>
      this.d.leadership.serve(async (l) => {
        const s = l.state.stores.get(req.store);
        if (!s) throw new DbError('STORE_NOT_REGISTERED', `store ${req.store} is not registered`);
        s.address = req.address;
        s.pid = req.pid;
        s.lastHeartbeat = this.d.clock.monotonic();
        const destroy: number[] = [];
        for (const stat of req.ranges) {
          await l.saveRange(stat.range);
          const known = l.state.ranges.get(stat.range.id)!;
          if (stat.leaderStore === req.store) {
            known.leader = req.store;
            known.approxBytes = stat.approxBytes;
            known.approxKeys = stat.approxKeys;
          }
          // A replica removed from its range that never learned it: garbage.
          if (isNewer(known.desc, stat.range) && known.desc.epoch.confVer > stat.range.epoch.confVer && !known.desc.replicas.some((r) => r.store === req.store)) destroy.push(stat.range.id);
        }
        // Only a full report shows what the store lacks.
        if (req.full) this.recreateMissing(l, s, req.ranges);
        return { stores: this.storeInfos(l), destroyRanges: destroy };
      }) as ReturnType<PdHandlers['StoreHeartbeat']>,

    Tso: (req) =>
      this.d.leadership.serve(async (l) => {
        const start = this.d.clock.monotonic();
        try {
          await l.tsoLease.hold();
          const first = await l.tso.take(Math.max(1, req.count));
          // Taken under the lease, or else confirmed by a quorum after it was taken: a leader
          // deposed meanwhile fails here instead of answering below what its successor hands out.
          if (!l.tsoLease.held()) await this.d.group.get(TSO_KEY);
          if (this.d.group.term() !== l.term) throw new DbError('UNAVAILABLE', 'placement driver leadership changed');
          return { physical: physicalOf(first), logical: logicalOf(first) };
        } finally {
          this.d.metrics.tso.observe(secondsSince(start, this.d.clock.monotonic()));
        }
      }) as ReturnType<PdHandlers['Tso']>,

    AllocId: () => this.d.leadership.serve(async (l) => ({ id: Number(await l.ids.take(1)) })) as ReturnType<PdHandlers['AllocId']>,

    GetRanges: () =>
      this.d.leadership.serve(async (l) => ({
        ranges: l.state.sortedRanges().map((r): WireRangeStat => ({ range: r.desc, leaderStore: r.leader, approxBytes: r.approxBytes, approxKeys: r.approxKeys })),
      })) as ReturnType<PdHandlers['GetRanges']>,

    GetStores: () => this.d.leadership.serve(async (l) => ({ stores: this.storeInfos(l) })) as ReturnType<PdHandlers['GetStores']>,

    GetMembers: async (req) => {
      const { group, cfg } = this.d;
      const self = { id: group.memberId, address: cfg.members.get(group.memberId) ?? '', pid: process.pid, leader: group.isLeader() };
      if (req.selfOnly) return { members: [self], term: group.term() };
      const leaderId = group.leaderId();
      const members = await Promise.all(
        [...cfg.members].map(async ([id, address]) => {
          if (id === group.memberId) return self;
          const pid = await this.client(id, address)
            .call('GetMembers', { selfOnly: true }, 1_000)
            .then((r) => r.members[0]?.pid ?? 0)
            .catch(() => 0);
          return { id, address, pid, leader: id === leaderId };
        }),
      );
      return { members, term: group.term() };
    },

    Admin: (req) =>
      this.d.leadership.serve(async (l) => {
        const body = parseAdminBody(req.json);
        // GC runs beside the operators: it changes no placement.
        if (req.op === 'gc') {
          const round = await gcRound(l, this.d.group, this.d.cfg.gcLifetimeMs);
          return { json: JSON.stringify({ ...safePointJson(round.safePoint), ranges: round.ranges, failed: round.failed }) };
        }
        if (req.op === 'gc-safe-point') return { json: JSON.stringify(safePointJson(await safePoint(this.d.group))) };
        const result = await this.d.exclusive(() => runAdmin(l, this.d, this.d.cfg.replicas, req.op, body));
        return { json: JSON.stringify(result) };
      }) as ReturnType<PdHandlers['Admin']>,
  };

  close(): void {
    for (const c of this.memberClients.values()) c.close();
  }

  /** Registrations one at a time: a retried registration of a new address must find the first one's id. */
  private registration<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.regQueue.then(fn);
    this.regQueue = run.catch(() => {});
    return run;
  }

  private async register(l: LeaderTerm, req: { id: number; address: string; pid: number; fresh: boolean }): Promise<{ id: number }> {
    const hostsReplicas = (store: number) => [...l.state.ranges.values()].some((r) => r.desc.replicas.some((rep) => rep.store === store));
    // A store that comes back without the data its replicas acknowledged must not vote as them again.
    if (req.id !== 0 && req.fresh && hostsReplicas(req.id)) {
      throw new DbError('STORE_REFUSED', `store ${req.id} has replicas but started on an empty data directory: it lost its data; start it with a new id (or without --id) so that the placement driver replaces its replicas`);
    }
    let id = req.id;
    // Reusing an address's id is for a retried registration, never for a store whose replicas are gone.
    // A decommissioned store's id stays retired: a new store at its address gets a new id.
    if (id === 0) id = [...l.state.stores.values()].find((s) => s.address === req.address && !hostsReplicas(s.id) && s.retire === undefined)?.id ?? Number(await l.ids.take(1));
    const known = l.state.stores.get(id);
    if (!known || known.address !== req.address) {
      await l.saveStore(id, { address: req.address, pid: req.pid, lastHeartbeat: this.d.clock.monotonic() });
      this.d.logger.info({ store: id, address: req.address }, 'store registered');
    }
    return { id };
  }

  /**
   * A store listed as a replica of a range that it neither hosts nor covers
   * with an older replica (which would still apply the split that made the
   * range) missed the range's creation: e.g. it was down during a split and
   * then caught up the parent by snapshot. Give it an empty replica with the
   * listed id; the leader brings it up to date by snapshot.
   */
  private recreateMissing(l: LeaderTerm, store: StoreState, reported: readonly WireRangeStat[]): void {
    // Bootstrap creates the first replicas itself (with their initial state); an empty one must not win that race.
    if (!l.bootstrapped) return;
    const hosted = new Set(reported.map((s) => s.range.id));
    for (const r of l.state.ranges.values()) {
      if (hosted.has(r.desc.id) || !r.desc.replicas.some((rep) => rep.store === store.id)) continue;
      if (reported.some((s) => overlaps(s.range, r.desc))) continue;
      const key = `${store.id}/${r.desc.id}`;
      if (this.recreating.has(key)) continue;
      this.recreating.add(key);
      this.d.logger.warn({ store: store.id, range: r.desc.id }, 'store lacks a replica it is listed for; creating it');
      const c = this.d.dialer.store(store.address);
      c.createReplica(r.desc, false, 5_000)
        .catch((err: Error) => this.d.logger.warn({ store: store.id, range: r.desc.id, err: err.message }, 'could not recreate replica'))
        .finally(() => {
          c.close();
          this.recreating.delete(key);
        });
    }
  }

  private client(id: number, address: string) {
    let c = this.memberClients.get(id);
    if (!c) this.memberClients.set(id, (c = this.d.dialer.pdMember(address)));
    return c;
  }

  private storeInfos(l: LeaderTerm): WireStoreInfo[] {
    const now = this.d.clock.monotonic();
    const replicas = l.state.replicaCounts();
    const leaders = l.state.leaderCounts();
    return [...l.state.stores.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, address: s.address, pid: s.pid, state: s.retire ?? l.state.liveness(s, now), ranges: replicas.get(s.id) ?? 0, leaders: leaders.get(s.id) ?? 0 }));
  }
}
