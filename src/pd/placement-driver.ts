/**
 * The placement driver: the authoritative range map and store registry, id
 * allocation, the timestamp oracle, cluster bootstrap, and the scheduler with
 * its operators. Only the leader of the PD group serves; the other members
 * answer with a redirect. On becoming leader a member reloads the metadata
 * from the group (so it sees everything earlier leaders committed) and
 * reserves fresh id and timestamp windows above theirs.
 */
import { BadRequestError, composeTimestamp, DbError, logicalOf, physicalOf } from '../common/index.js';
import type { Clock, Logger, Timers } from '../runtime/index.js';
import { secondsSince } from '../runtime/index.js';
import { decodeDescriptor, encodeDescriptor, rangesFromSplits } from '../replica/index.js';
import type { PdHandlers, PdMemberClient, PdRedirect, WireRangeStat, WireStoreInfo } from '../transport/index.js';
import { isNewer, overlaps, StoreClient } from '../transport/index.js';
import { ClusterState } from './cluster-state.js';
import type { StoreState } from './cluster-state.js';
import type { PdGroup } from './group.js';
import { Operators } from './operators.js';
import { planLeaderTransfer, planRepair, planReplacement, planReplicaMove, planSplit } from './scheduler.js';
import { WindowAllocator } from './window-allocator.js';
import { PdMetrics } from './metrics.js';
import type { RangeDescriptor } from '../common/index.js';

export interface PdConfig {
  /** Every PD member's id and gRPC address. */
  readonly members: ReadonlyMap<number, string>;
  /** Replicas per range (the first range is created once this many stores registered). */
  readonly replicas: number;
  /** A store is "down" after this long without a heartbeat. */
  readonly downAfterMs: number;
  /** Replicas on a store down this long are rebuilt elsewhere. */
  readonly replaceAfterMs: number;
  /** A range over this many bytes is split in two. */
  readonly splitBytes: number;
  /** How often the scheduler looks for work. */
  readonly scheduleMs: number;
  /** Balance replicas and leaders on its own (not only on `rebalance`). */
  readonly autoBalance: boolean;
}

export const DEFAULT_PD_CONFIG: Omit<PdConfig, 'members'> = { replicas: 3, downAfterMs: 5_000, replaceAfterMs: 60_000, splitBytes: 64 << 20, scheduleMs: 1_000, autoBalance: true };

export interface PdDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
}

/** Ids below this are left for stores given an explicit --id. */
const FIRST_ALLOCATED_ID = 1000;
const BOOTSTRAP_RANGE_ID = 1;

const rangeKey = (id: number) => `ranges/${String(id).padStart(12, '0')}`;
const storeKey = (id: number) => `stores/${String(id).padStart(12, '0')}`;

interface Leadership {
  readonly term: number;
  readonly state: ClusterState;
  readonly tso: WindowAllocator;
  readonly ids: WindowAllocator;
  readonly operators: Operators;
  bootstrapped: boolean;
}

export class PlacementDriver {
  private leadership: Leadership | undefined;
  private loading: Promise<Leadership> | undefined;
  /** One operator at a time: scheduler and operator commands take turns. */
  private opQueue: Promise<unknown> = Promise.resolve();
  private regQueue: Promise<unknown> = Promise.resolve();
  /** "store/range" pairs being given a missing replica. */
  private readonly recreating = new Set<string>();
  private busy = false;
  private readonly timer: { unref(): void };
  private closed = false;
  private readonly memberClients = new Map<number, PdMemberClient>();
  readonly metrics: PdMetrics;

  constructor(
    private readonly cfg: PdConfig,
    private readonly group: PdGroup,
    private readonly deps: PdDeps,
    private readonly memberClient: (address: string) => PdMemberClient,
  ) {
    this.timer = deps.timers.setInterval(() => void this.background(), cfg.scheduleMs);
    this.metrics = new PdMetrics(group);
  }

  // ---- leadership ---------------------------------------------------------------------

  private redirect(): PdRedirect | undefined {
    if (this.group.isLeader()) return undefined;
    return { notLeader: true, leaderAddress: this.cfg.members.get(this.group.leaderId()) ?? '' };
  }

  /** The current leadership's state, loading it first if this member just became leader. */
  private async lead(): Promise<Leadership> {
    const term = this.group.term();
    if (this.leadership?.term === term) return this.leadership;
    this.loading ??= this.load(term).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(term: number): Promise<Leadership> {
    this.leadership?.operators.close();
    this.leadership = undefined;
    const now = this.deps.clock.monotonic();
    const state = new ClusterState(this.cfg.downAfterMs, now);
    for (const [, v] of await this.group.scan('stores/')) {
      const s = JSON.parse(v) as { id: number; address: string };
      state.stores.set(s.id, { id: s.id, address: s.address, pid: 0, lastHeartbeat: 0 });
    }
    for (const [, v] of await this.group.scan('ranges/')) state.offer(decodeDescriptor(Buffer.from(v, 'base64')));
    // A window of 3 s of timestamps: one Raft write per 3 s of TSO traffic at most.
    const tso = new WindowAllocator(this.group, 'meta/tso', composeTimestamp(3_000, 0), () => composeTimestamp(this.deps.clock.now(), 0));
    const ids = new WindowAllocator(this.group, 'meta/next-id', 100n, () => BigInt(FIRST_ALLOCATED_ID));
    await tso.init();
    await ids.init();
    const bootstrapped = (await this.group.get('meta/bootstrapped')) === '1';
    const l: Leadership = {
      term,
      state,
      tso,
      ids,
      bootstrapped,
      operators: new Operators({
        state,
        clock: this.deps.clock,
        timers: this.deps.timers,
        logger: this.deps.logger,
        allocId: async () => Number(await ids.take(1)),
        stillLeader: () => this.group.isLeader() && this.group.term() === term,
        saveRange: (d) => this.saveRange(state, d),
      }),
    };
    if (this.group.term() !== term || !this.group.isLeader()) throw new DbError('UNAVAILABLE', 'lost the placement driver leadership while loading');
    this.leadership = l;
    this.deps.logger.info({ term, stores: state.stores.size, ranges: state.ranges.size }, 'placement driver leader ready');
    return l;
  }

  private async saveRange(state: ClusterState, desc: RangeDescriptor): Promise<void> {
    if (state.offer(desc)) await this.group.put(rangeKey(desc.id), Buffer.from(encodeDescriptor(state.ranges.get(desc.id)!.desc)).toString('base64'));
  }

  private async serve<T>(fn: (l: Leadership) => Promise<T>): Promise<T | { redirect: PdRedirect }> {
    const redirect = this.redirect();
    if (redirect) return { redirect };
    return fn(await this.lead());
  }

  // ---- the service --------------------------------------------------------------------

  readonly handlers: PdHandlers = {
    RegisterStore: (req) =>
      this.serve((l) => this.registration(() => this.register(l, req))) as ReturnType<PdHandlers['RegisterStore']>,

    StoreHeartbeat: (req) =>
      this.serve(async (l) => {
        const s = l.state.stores.get(req.store);
        if (!s) throw new DbError('STORE_NOT_REGISTERED', `store ${req.store} is not registered`);
        s.address = req.address;
        s.pid = req.pid;
        s.lastHeartbeat = this.deps.clock.monotonic();
        const destroy: number[] = [];
        for (const stat of req.ranges) {
          await this.saveRange(l.state, stat.range);
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
      this.serve(async (l) => {
        const start = this.deps.clock.monotonic();
        try {
          const first = await l.tso.take(Math.max(1, req.count));
          // Taken first, then leadership confirmed by a quorum (a linearizable read): a leader
          // deposed meanwhile fails here instead of answering below what its successor hands out.
          await this.group.get('meta/tso');
          if (this.group.term() !== l.term) throw new DbError('UNAVAILABLE', 'placement driver leadership changed');
          return { physical: physicalOf(first), logical: logicalOf(first) };
        } finally {
          this.metrics.tso.observe(secondsSince(start, this.deps.clock.monotonic()));
        }
      }) as ReturnType<PdHandlers['Tso']>,

    AllocId: () => this.serve(async (l) => ({ id: Number(await l.ids.take(1)) })) as ReturnType<PdHandlers['AllocId']>,

    GetRanges: () =>
      this.serve(async (l) => ({
        ranges: l.state.sortedRanges().map((r): WireRangeStat => ({ range: r.desc, leaderStore: r.leader, approxBytes: r.approxBytes, approxKeys: r.approxKeys })),
      })) as ReturnType<PdHandlers['GetRanges']>,

    GetStores: () => this.serve(async (l) => ({ stores: this.storeInfos(l) })) as ReturnType<PdHandlers['GetStores']>,

    GetMembers: async (req) => {
      const self = { id: this.group.memberId, address: this.cfg.members.get(this.group.memberId) ?? '', pid: process.pid, leader: this.group.isLeader() };
      if (req.selfOnly) return { members: [self], term: this.group.term() };
      const leaderId = this.group.leaderId();
      const members = await Promise.all(
        [...this.cfg.members].map(async ([id, address]) => {
          if (id === this.group.memberId) return self;
          const pid = await this.client(id, address)
            .call('GetMembers', { selfOnly: true }, 1_000)
            .then((r) => r.members[0]?.pid ?? 0)
            .catch(() => 0);
          return { id, address, pid, leader: id === leaderId };
        }),
      );
      return { members, term: this.group.term() };
    },

    Admin: (req) =>
      this.serve(async (l) => {
        const body = parseAdminBody(req.json);
        const result = await this.exclusive(() => this.admin(l, req.op, body));
        return { json: JSON.stringify(result) };
      }) as ReturnType<PdHandlers['Admin']>,
  };

  /** Registrations one at a time: a retried registration of a new address must find the first one's id. */
  private registration<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.regQueue.then(fn);
    this.regQueue = run.catch(() => {});
    return run;
  }

  private async register(l: Leadership, req: { id: number; address: string; pid: number; fresh: boolean }): Promise<{ id: number }> {
    const hostsReplicas = (store: number) => [...l.state.ranges.values()].some((r) => r.desc.replicas.some((rep) => rep.store === store));
    // A store that comes back without the data its replicas acknowledged must not vote as them again.
    if (req.id !== 0 && req.fresh && hostsReplicas(req.id)) {
      throw new DbError('STORE_REFUSED', `store ${req.id} has replicas but started on an empty data directory: it lost its data; start it with a new id (or without --id) so that the placement driver replaces its replicas`);
    }
    let id = req.id;
    // Reusing an address's id is for a retried registration, never for a store whose replicas are gone.
    if (id === 0) id = [...l.state.stores.values()].find((s) => s.address === req.address && !hostsReplicas(s.id))?.id ?? Number(await l.ids.take(1));
    const known = l.state.stores.get(id);
    if (!known || known.address !== req.address) {
      await this.group.put(storeKey(id), JSON.stringify({ id, address: req.address }));
      l.state.stores.set(id, { id, address: req.address, pid: req.pid, lastHeartbeat: this.deps.clock.monotonic() });
      this.deps.logger.info({ store: id, address: req.address }, 'store registered');
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
  private recreateMissing(l: Leadership, store: StoreState, reported: readonly WireRangeStat[]): void {
    // Bootstrap creates the first replicas itself (with their initial state); an empty one must not win that race.
    if (!l.bootstrapped) return;
    const hosted = new Set(reported.map((s) => s.range.id));
    for (const r of l.state.ranges.values()) {
      if (hosted.has(r.desc.id) || !r.desc.replicas.some((rep) => rep.store === store.id)) continue;
      if (reported.some((s) => overlaps(s.range, r.desc))) continue;
      const key = `${store.id}/${r.desc.id}`;
      if (this.recreating.has(key)) continue;
      this.recreating.add(key);
      this.deps.logger.warn({ store: store.id, range: r.desc.id }, 'store lacks a replica it is listed for; creating it');
      const c = new StoreClient(store.address, this.deps.clock);
      c.createReplica(r.desc, false, 5_000)
        .catch((err: Error) => this.deps.logger.warn({ store: store.id, range: r.desc.id, err: err.message }, 'could not recreate replica'))
        .finally(() => {
          c.close();
          this.recreating.delete(key);
        });
    }
  }

  private client(id: number, address: string) {
    let c = this.memberClients.get(id);
    if (!c) this.memberClients.set(id, (c = this.memberClient(address)));
    return c;
  }

  private storeInfos(l: Leadership): WireStoreInfo[] {
    const now = this.deps.clock.monotonic();
    const replicas = l.state.replicaCounts();
    const leaders = l.state.leaderCounts();
    return [...l.state.stores.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, address: s.address, pid: s.pid, state: l.state.liveness(s, now), ranges: replicas.get(s.id) ?? 0, leaders: leaders.get(s.id) ?? 0 }));
  }

  private async admin(l: Leadership, op: string, body: Record<string, unknown>): Promise<unknown> {
    const int = (field: string): number => {
      const v = body[field];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new DbError('BAD_REQUEST', `"${field}" must be a non-negative integer`);
      return v;
    };
    switch (op) {
      case 'split': {
        if (typeof body.key !== 'string' || body.key.length === 0) throw new DbError('BAD_REQUEST', '"key" must be a non-empty string');
        return l.operators.split(new TextEncoder().encode(body.key));
      }
      case 'move': {
        const [range, from, to] = [int('range'), int('from'), int('to')];
        if (!l.state.ranges.has(range)) throw new DbError('NOT_FOUND', `range ${range} does not exist`);
        for (const s of [from, to]) if (!l.state.stores.has(s)) throw new DbError('NOT_FOUND', `store ${s} does not exist`);
        const target = l.state.stores.get(to)!;
        if (l.state.liveness(target, this.deps.clock.monotonic()) !== 'up' || target.lastHeartbeat === 0) throw new DbError('UNAVAILABLE', `store ${to} is not up`);
        return l.operators.move(range, from, to);
      }
      case 'transfer-leader': {
        const [range, to] = [int('range'), int('to')];
        if (!l.state.ranges.has(range)) throw new DbError('NOT_FOUND', `range ${range} does not exist`);
        if (!l.state.stores.has(to)) throw new DbError('NOT_FOUND', `store ${to} does not exist`);
        await l.operators.transferLeader(range, to);
        return { ok: true };
      }
      case 'rebalance':
        return { moves: await this.rebalance(l) };
      default:
        throw new DbError('NOT_FOUND', `unknown admin operation "${op}"`);
    }
  }

  /** Moves replicas, then leaderships, until the up stores are within one of each other. */
  private async rebalance(l: Leadership): Promise<unknown[]> {
    const moves: unknown[] = [];
    for (let i = 0; i < 1_000; i++) {
      const m = planReplicaMove(l.state, this.deps.clock.monotonic());
      if (!m) break;
      await l.operators.move(m.range, m.from, m.to);
      moves.push({ kind: 'replica', ...m });
    }
    for (let i = 0; i < 1_000; i++) {
      const t = planLeaderTransfer(l.state, this.deps.clock.monotonic());
      if (!t) break;
      await l.operators.transferLeader(t.range, t.to);
      moves.push({ kind: 'leader', ...t });
    }
    return moves;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.opQueue.then(async () => {
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    });
    this.opQueue = run.catch(() => {});
    return run;
  }

  // ---- background: bootstrap and scheduling ---------------------------------------------

  private async background(): Promise<void> {
    if (this.closed || !this.group.isLeader() || this.busy) return;
    try {
      const l = await this.lead();
      if (!l.bootstrapped) return await this.bootstrap(l);
      await this.exclusive(() => this.scheduleOnce(l));
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'scheduling failed');
    }
  }

  /** Creates the first range, over all keys, on the first `replicas` stores that registered. */
  private async bootstrap(l: Leadership): Promise<void> {
    const now = this.deps.clock.monotonic();
    const up = l.state.upStores(now).sort((a, b) => a.id - b.id);
    const existing = l.state.ranges.get(BOOTSTRAP_RANGE_ID)?.desc;
    if (!existing && up.length < this.cfg.replicas) return;
    const desc = existing ?? rangesFromSplits([], up.slice(0, this.cfg.replicas).map((s) => s.id), BOOTSTRAP_RANGE_ID)[0];
    await this.saveRange(l.state, desc);
    for (const rep of desc.replicas) {
      const store = l.state.stores.get(rep.store)!;
      const c = new StoreClient(store.address, this.deps.clock);
      try {
        await c.createReplica(desc, true, 5_000);
      } finally {
        c.close();
      }
    }
    await this.group.put('meta/bootstrapped', '1');
    l.bootstrapped = true;
    this.deps.logger.info({ stores: desc.replicas.map((r) => r.store) }, 'cluster bootstrapped: one range over all keys');
  }

  /** At most one operator per round: replace a dead replica, repair a replica count, split a big range, or balance. */
  private async scheduleOnce(l: Leadership): Promise<void> {
    const now = this.deps.clock.monotonic();
    const replace = planReplacement(l.state, now, this.cfg.replaceAfterMs);
    if (replace) {
      this.deps.logger.warn({ ...replace }, 'rebuilding a replica of a down store');
      await l.operators.move(replace.range, replace.from, replace.to);
      return;
    }
    const repair = planRepair(l.state, now, this.cfg.replicas);
    if (repair) {
      this.deps.logger.warn({ ...repair }, 'repairing a range with the wrong number of replicas');
      if (repair.kind === 'add') await l.operators.addVoter(repair.range, repair.store);
      else await l.operators.removeReplica(repair.range, repair.store);
      return;
    }
    const big = planSplit(l.state, this.cfg.splitBytes);
    if (big) {
      big.approxBytes = 0; // until the next heartbeat says otherwise
      await l.operators.split(undefined, big.desc.id);
      return;
    }
    if (!this.cfg.autoBalance) return;
    const move = planReplicaMove(l.state, now);
    if (move) {
      await l.operators.move(move.range, move.from, move.to);
      return;
    }
    const transfer = planLeaderTransfer(l.state, now);
    if (transfer) await l.operators.transferLeader(transfer.range, transfer.to);
  }

  close(): void {
    this.closed = true;
    this.deps.timers.clearInterval(this.timer);
    this.leadership?.operators.close();
    for (const c of this.memberClients.values()) c.close();
  }
}

function parseAdminBody(json: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(json || '{}');
  } catch {
    throw new BadRequestError('the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object');
  return body as Record<string, unknown>;
}
