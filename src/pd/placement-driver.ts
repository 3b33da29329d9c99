/**
 * The placement driver: wires its leadership, its gRPC service and its
 * scheduler loop. Every scheduleMs the leader bootstraps the cluster until
 * that is done, then runs one scheduling round; operators, from the scheduler
 * or from admin commands, run one at a time.
 */
import type { PdHandlers } from '../transport/index.js';
import { bootstrapCluster } from './bootstrap.js';
import { gcRound } from './gc.js';
import type { PdConfig, PdDeps } from './config.js';
import type { PdGroup } from './group.js';
import { Leadership } from './leadership.js';
import type { LeaderTerm } from './leadership.js';
import { PdMetrics } from './metrics.js';
import { planLeaderTransfer, planRepair, planReplacement, planReplicaMove, planSplit } from './scheduler.js';
import { PdService } from './service.js';

export class PlacementDriver {
  /** One operator at a time: scheduler and operator commands take turns. */
  private opQueue: Promise<unknown> = Promise.resolve();
  private busy = false;
  private readonly timer: { unref(): void };
  private closed = false;
  private gcRunning = false;
  private lastGc = 0;
  private readonly leadership: Leadership;
  private readonly service: PdService;
  readonly metrics: PdMetrics;
  readonly handlers: PdHandlers;

  constructor(
    private readonly cfg: PdConfig,
    private readonly group: PdGroup,
    private readonly deps: PdDeps,
  ) {
    this.timer = deps.timers.setInterval(() => void this.background(), cfg.scheduleMs);
    this.metrics = new PdMetrics(group);
    this.leadership = new Leadership(cfg, group, deps);
    this.service = new PdService({ ...deps, cfg, group, leadership: this.leadership, metrics: this.metrics, exclusive: (fn) => this.exclusive(fn) });
    this.handlers = this.service.handlers;
  }

  close(): void {
    this.closed = true;
    this.deps.timers.clearInterval(this.timer);
    this.leadership.close();
    this.service.close();
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

  private async background(): Promise<void> {
    if (this.closed || !this.group.isLeader() || this.busy) return;
    try {
      const l = await this.leadership.lead();
      if (!l.bootstrapped) return await bootstrapCluster(l, this.cfg.replicas, this.group, this.deps);
      this.maybeCollectGarbage(l);
      await this.exclusive(() => this.scheduleOnce(l));
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'scheduling failed');
    }
  }

  /** Starts a GC round every gcIntervalMs (one at a time; failures are retried by the next). */
  private maybeCollectGarbage(l: LeaderTerm): void {
    const now = this.deps.clock.monotonic();
    if (this.gcRunning || now - this.lastGc < this.cfg.gcIntervalMs) return;
    this.gcRunning = true;
    this.lastGc = now;
    void gcRound(l, this.group, this.cfg.gcLifetimeMs)
      .then((r) => {
        if (r.failed.length > 0) this.deps.logger.warn({ failed: r.failed }, 'GC round missed some ranges');
      })
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'GC round failed'))
      .finally(() => (this.gcRunning = false));
  }

  /** At most one operator per round: finish a decommission, replace a dead or decommissioned replica, repair a replica count, split a big range, or balance. */
  private async scheduleOnce(l: LeaderTerm): Promise<void> {
    const now = this.deps.clock.monotonic();
    // A decommission whose last move was made under an earlier PD leader.
    const drained = [...l.state.stores.values()].find((s) => s.retire === 'decommissioning' && l.state.replicasOn(s.id) === 0);
    if (drained) {
      await l.saveStore(drained.id, { retire: 'removed' });
      this.deps.logger.info({ store: drained.id }, 'store decommissioned: removed');
      return;
    }
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
}
