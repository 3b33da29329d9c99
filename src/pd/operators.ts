/**
 * Operators: the multi-step changes the PD drives on stores (TiKV PD's
 * operators). Each step is one idempotent request to the range's leader, so a
 * step that timed out can simply be asked again:
 *   split            one Split through the range's log (new range id from the allocator)
 *   move A→B         create an empty replica on B; add it as a learner; let the leader
 *                    catch it up by snapshot; promote it; hand leadership away from A
 *                    if needed; remove A. Every step is a single-server membership
 *                    change, so quorum is never lost.
 *   transfer-leader  Raft leadership transfer, waited for.
 */
import { BadRequestError, DbError, isRetryable, NotFoundError, UnavailableError } from '../common/index.js';
import type { Clock, Logger, Timers } from '../runtime/index.js';
import { replicaIdFor } from '../replica/index.js';
import { fromWireError } from '../transport/index.js';
import type { Dialer, StoreCalls } from '../transport/index.js';
import type { ClusterState, RangeState } from './cluster-state.js';
import type { RangeDescriptor } from '../common/index.js';

const STEP_DEADLINE_MS = 30_000;
const TRANSFER_DEADLINE_MS = 15_000;
/** How long a learner may take to catch up (the store's own limit), and how long one promote call waits for it. */
const CATCH_UP_DEADLINE_MS = 60_000;
const PROMOTE_CALL_MS = 10_000;

export interface OperatorDeps {
  readonly state: ClusterState;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly dialer: Dialer;
  allocId(): Promise<number>;
  /** Whether this PD member still leads in the term the operator started in. */
  stillLeader(): boolean;
  /** Records a descriptor (newer epochs only) and persists it in the PD group. */
  saveRange(desc: RangeDescriptor): Promise<void>;
}

export class Operators {
  private readonly clients = new Map<string, StoreCalls>();

  constructor(private readonly deps: OperatorDeps) {}

  private client(store: number): StoreCalls {
    const s = this.deps.state.stores.get(store);
    if (!s) throw new NotFoundError(`store ${store} is not registered`);
    let c = this.clients.get(s.address);
    if (!c) this.clients.set(s.address, (c = this.deps.dialer.store(s.address)));
    return c;
  }

  private range(id: number): RangeState {
    const r = this.deps.state.ranges.get(id);
    if (!r) throw new NotFoundError(`range ${id} does not exist`);
    return r;
  }

  private assertUp(rangeId: number, store: number): void {
    const s = this.deps.state.stores.get(store);
    if (s && this.deps.state.liveness(s, this.deps.clock.monotonic()) === 'down') throw new UnavailableError(`range ${rangeId}: store ${store} is down`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => this.deps.timers.setTimeout(res, ms));
  }

  /**
   * Runs `step` on the range's leader: the reported one first, then the other
   * replicas, following NOT_LEADER hints, until it succeeds or the deadline.
   * The step gets the freshest descriptor the leader holds. A step that
   * needs the store `target` gives up as soon as that store is down: an
   * operator waiting on a dead store would hold the operator queue, and with
   * it the repairs that dead store calls for.
   */
  private async onLeader<T>(rangeId: number, step: (client: StoreCalls, desc: RangeDescriptor) => Promise<T>, deadlineMs = STEP_DEADLINE_MS, target?: number): Promise<T> {
    const deadline = this.deps.clock.monotonic() + deadlineMs;
    let lastError = '';
    for (let attempt = 0; ; attempt++) {
      // A deposed PD leader must not keep driving changes next to the new one's.
      if (!this.deps.stillLeader()) throw new UnavailableError('no longer the placement driver leader');
      if (target !== undefined) this.assertUp(rangeId, target);
      const r = this.range(rangeId);
      const stores = r.desc.replicas.map((rep) => rep.store);
      const store = r.leader !== 0 && attempt % 2 === 0 ? r.leader : stores[attempt % stores.length];
      try {
        const client = this.client(store);
        const status = (await client.ranges(2_000)).ranges.find((s) => s.range.id === rangeId);
        if (status) {
          await this.deps.saveRange(status.range);
          if (status.leaderStore !== 0) r.leader = status.leaderStore;
        }
        if (status && status.leaderStore === store) return await step(client, status.range);
        lastError = `store ${store} does not lead range ${rangeId}`;
      } catch (err) {
        // Failed calls and routing races (a leader change, a split) are worth another try; anything else is final.
        if (!(err instanceof DbError) || !isRetryable(err.code)) throw err;
        lastError = err.message;
      }
      if (this.deps.clock.monotonic() > deadline) throw new UnavailableError(`range ${rangeId}: ${lastError}`);
      await this.sleep(Math.min(500, 50 * (attempt + 1)));
    }
  }

  async split(key: Uint8Array | undefined, rangeId?: number): Promise<{ left: RangeDescriptor; right: RangeDescriptor }> {
    const target = key ? this.deps.state.locate(key) : this.range(rangeId!);
    if (!target) throw new UnavailableError('no range holds the key yet');
    if (key && Buffer.compare(key, target.desc.start) === 0) {
      const left = [...this.deps.state.ranges.values()].find((r) => Buffer.compare(r.desc.end, key) === 0);
      if (left) return { left: left.desc, right: target.desc };
    }
    const newId = await this.deps.allocId();
    const res = await this.onLeader(target.desc.id, (c, desc) => c.split({ rangeId: desc.id, epoch: desc.epoch, splitKey: key ?? new Uint8Array(0), newRangeId: newId }));
    await this.deps.saveRange(res.left);
    await this.deps.saveRange(res.right);
    const left = this.range(res.left.id);
    const right = this.range(res.right.id);
    right.leader = left.leader;
    this.deps.logger.info({ range: res.left.id, right: res.right.id }, 'split');
    return res;
  }

  async move(rangeId: number, from: number, to: number): Promise<RangeDescriptor> {
    const r = this.range(rangeId);
    this.client(from);
    this.client(to);
    if (!r.desc.replicas.some((rep) => rep.store === from)) throw new BadRequestError(`range ${rangeId} has no replica on store ${from}`);
    if (from === to) return r.desc;
    if (r.desc.replicas.find((rep) => rep.store === to)?.role === 'voter') throw new BadRequestError(`range ${rangeId} already has a replica on store ${to}`);
    this.deps.logger.info({ range: rangeId, from, to }, 'moving replica');
    await this.addVoter(rangeId, to);
    return this.removeReplica(rangeId, from, to);
  }

  /** Adds a voter on `to`: an empty replica there, a learner, caught up by snapshot, then promoted. */
  async addVoter(rangeId: number, to: number): Promise<RangeDescriptor> {
    // The empty replica must exist, with the id the learner will have, before the leader sends to it.
    const ensureTarget = (desc: RangeDescriptor) => {
      const present = desc.replicas.some((rep) => rep.store === to);
      const learner = { store: to, replicaId: replicaIdFor(to, desc.epoch.confVer + 1), role: 'learner' };
      return this.client(to).createReplica(present ? desc : { ...desc, replicas: [...desc.replicas, learner] }, false);
    };
    await this.onLeader(rangeId, (_c, desc) => ensureTarget(desc), STEP_DEADLINE_MS, to);
    const withLearner = await this.saveFrom(await this.onLeader(rangeId, (c, desc) => c.changeReplicas({ rangeId: rangeId, epoch: desc.epoch, kind: 'add_learner', store: to }), STEP_DEADLINE_MS, to));
    // Again with the applied descriptor: if the leader changed in between, the learner's id may differ.
    await ensureTarget(withLearner);
    // The leader promotes once the learner caught up; asked again meanwhile, it waits again. A short
    // deadline per call lets this loop notice a learner whose store died, rather than wait the catch-up out.
    return this.saveFrom(await this.onLeader(rangeId, (c, desc) => c.changeReplicas({ rangeId: rangeId, epoch: desc.epoch, kind: 'promote', store: to }, PROMOTE_CALL_MS), CATCH_UP_DEADLINE_MS, to));
  }

  /** Removes the replica on `from`, first handing the leadership to `heir` (or another voter) if `from` leads. */
  async removeReplica(rangeId: number, from: number, heir?: number): Promise<RangeDescriptor> {
    // The leader as the range itself reports it now (heartbeats may be a second old).
    await this.onLeader(rangeId, async () => undefined);
    const r = this.range(rangeId);
    if (r.leader === from) {
      const to = heir ?? r.desc.replicas.find((rep) => rep.store !== from && rep.role === 'voter')?.store;
      if (to === undefined) throw new BadRequestError(`range ${rangeId} has no other voter to lead it`);
      await this.transferLeader(rangeId, to);
    }
    const done = await this.onLeader(rangeId, async (c, desc) => {
      // Leadership moves asynchronously: wait for it, as for any other leader change.
      if (desc.replicas.some((rep) => rep.store === from) && this.range(rangeId).leader === from) throw new UnavailableError(`store ${from} still leads range ${rangeId}`);
      return c.changeReplicas({ rangeId: rangeId, epoch: desc.epoch, kind: 'remove', store: from });
    });
    return this.saveFrom(done);
  }

  private async saveFrom(desc: RangeDescriptor): Promise<RangeDescriptor> {
    await this.deps.saveRange(desc);
    return desc;
  }

  /** Drops the range's MVCC versions that no reader at or above `safePoint` can see (through its log). */
  async gc(rangeId: number, safePoint: bigint): Promise<void> {
    await this.onLeader(rangeId, async (c, desc) => {
      const [res] = await c.kv([{ op: 'gc', rangeId: desc.id, epoch: desc.epoch, key: desc.start, requestId: `gc/${desc.id}/${safePoint}`, ts: safePoint }]);
      const failed = fromWireError({ code: res.error, message: `gc of range ${desc.id}: ${res.message}`, leaderStore: res.leaderStore, ranges: res.ranges });
      if (failed) throw failed;
    });
  }

  async transferLeader(rangeId: number, to: number): Promise<void> {
    const r = this.range(rangeId);
    this.client(to);
    if (!r.desc.replicas.some((rep) => rep.store === to && rep.role === 'voter')) throw new BadRequestError(`range ${rangeId} has no voter on store ${to}`);
    const deadline = this.deps.clock.monotonic() + TRANSFER_DEADLINE_MS;
    const target = this.deps.state.stores.get(to)!;
    for (let attempt = 0; ; attempt++) {
      // A target that went down will not take over: give up now rather than hold the operator queue.
      if (this.deps.state.liveness(target, this.deps.clock.monotonic()) === 'down') throw new UnavailableError(`range ${rangeId}: store ${to} is down`);
      const status = await this.client(to)
        .ranges(2_000)
        .then((res) => res.ranges.find((s) => s.range.id === rangeId))
        .catch(() => undefined);
      if (status?.leaderStore === to) {
        r.leader = to;
        return;
      }
      if (attempt % 20 === 0) await this.onLeader(rangeId, (c) => c.transferLeader(rangeId, to), 3_000).catch(() => {});
      if (this.deps.clock.monotonic() > deadline) throw new UnavailableError(`range ${rangeId}: leadership did not move to store ${to}`);
      await this.sleep(100);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
