/**
 * The seeded, fault-injecting simulation of one Raft group (FoundationDB /
 * TigerBeetle style): the production replica and Ready loop (see
 * sim-node.ts) over simulated disks, network and clock, a nemesis, and
 * clients. Phase one injects faults and checks safety as every Ready is
 * persisted; phase two heals everything and demands progress within a bound;
 * finally the client history must be linearizable.
 *
 * Time is a SimScheduler ticked by hand: a step does the tick's work, then
 * runs the loops it woke until every node is idle again (the disks are
 * in-memory, so that is a drain of promise continuations). Everything is
 * derived from the seed: the same seed replays bit for bit.
 */
import type { NodeId, RangeDescriptor } from '../common/index.js';
import type { Message, RaftConfig, Ready } from '../raft/index.js';
import { decodeConfChange } from '../raft/index.js';
import { replicaIdFor } from '../replica/index.js';
import { SeededRng, SimScheduler } from '../runtime/index.js';
import { SafetyChecker } from './checkers.js';
import type { HistoryOp } from './clients.js';
import { OP_DEADLINE_TICKS, SimClient } from './clients.js';
import { DiskFault } from './crashable-engine.js';
import { CALM, SimNetwork } from './network.js';
import { RANGE_ID, SimNode } from './sim-node.js';
import type { NodeEvents, SimNodeOptions, SnapshotData } from './sim-node.js';

export interface SimOptions {
  readonly seed: number;
  /** Ticks of the fault phase. */
  readonly steps: number;
  /** Initial voters. */
  readonly nodes: number;
  readonly clients: number;
  readonly readOnly: RaftConfig['readOnly'];
  readonly commitBroadcast: RaftConfig['commitBroadcast'];
  /** Probability per tick of a nemesis action. */
  readonly nemesisRate: number;
  readonly membershipChanges: boolean;
  /** Ticks allowed, after healing, for a leader and every pending operation to complete. */
  readonly livenessTicks: number;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
}

export const DEFAULT_SIM: Omit<SimOptions, 'seed'> = {
  steps: 2000,
  nodes: 3,
  clients: 4,
  readOnly: 'safe',
  commitBroadcast: 'lazy',
  nemesisRate: 0.04,
  membershipChanges: true,
  livenessTicks: 600,
  maxSizePerMsg: 4096,
  maxInflightMsgs: 8,
};

export interface SimStats {
  leaders: number;
  committed: number;
  messages: number;
  dropped: number;
  ops: number;
  crashes: number;
  confChanges: number;
  snapshotsSent: number;
  diskFaults: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly stats: SimStats;
  readonly history: readonly HistoryOp[];
}

export class Simulation {
  now = 0;
  private stamps = 0;
  /** The simulated TSO: strictly increasing. */
  private lastTs = 0n;
  readonly time = new SimScheduler();
  readonly nodes = new Map<NodeId, SimNode>();
  private readonly removed = new Set<NodeId>();
  /** Node n is replica 1 of "store" n, so a NOT_LEADER hint names it. */
  private nextStore: number;
  readonly net: SimNetwork;
  /** Snapshot data travelling with a snapshot message (a real store streams it beside the message). */
  private readonly snapshots = new WeakMap<Message, SnapshotData>();
  private readonly nodeOpts: SimNodeOptions;
  private failure: unknown;
  readonly checker = new SafetyChecker();
  readonly history: HistoryOp[] = [];
  readonly clients: SimClient[] = [];
  private readonly rng: SeededRng;
  private readonly nemesisRng: SeededRng;
  private readonly events: NodeEvents;
  readonly stats: SimStats = { leaders: 0, committed: 0, messages: 0, dropped: 0, ops: 0, crashes: 0, confChanges: 0, snapshotsSent: 0, diskFaults: 0 };
  /** Clients start new operations only in the fault phase. */
  private clientsActive = true;

  constructor(readonly opts: SimOptions) {
    const root = new SeededRng(opts.seed);
    this.rng = root.fork();
    this.nemesisRng = root.fork();
    this.net = new SimNetwork(root.fork());
    this.events = this.makeEvents();
    // A client's retries must end before its exactly-once record may be dropped (two rotations later).
    this.nodeOpts = { readOnly: opts.readOnly, commitBroadcast: opts.commitBroadcast, snapshotInterval: 40, maxSizePerMsg: opts.maxSizePerMsg, maxInflightMsgs: opts.maxInflightMsgs, dedupRotateTicks: OP_DEADLINE_TICKS + opts.livenessTicks + 100 };
    const stores = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    this.nextStore = opts.nodes + 1;
    const desc: RangeDescriptor = { id: RANGE_ID, start: new Uint8Array(0), end: new Uint8Array(0), epoch: { version: 1, confVer: 1 }, replicas: stores.map((s) => ({ store: s, replicaId: replicaIdFor(s, 1), role: 'voter' })) };
    for (const s of stores) this.addNode(s, desc, true);
    // Odd seeds write at TSO timestamps (the gateway's /kv), even seeds without (the placement driver's
    // metadata group). Never both in one run, as never in one range: a write without a timestamp takes the
    // key's next free one as its version's name, which a timestamped write's retry would take for its own.
    const tso = opts.seed % 2 === 1 ? () => ++this.lastTs : undefined;
    for (let i = 0; i < opts.clients; i++) {
      const c = new SimClient(i, root.fork(), () => ++this.stamps, () => [...this.nodes.values()], this.history, tso);
      this.clients.push(c);
    }
  }

  private makeEvents(): NodeEvents {
    return {
      send: (m, snapshot) => {
        if (snapshot) {
          this.stats.snapshotsSent++;
          this.snapshots.set(m, snapshot);
        }
        this.net.send(m, this.now);
      },
      persisted: (node, rd) => this.persisted(node, rd),
      failed: (node, err) => {
        // A failed fsync ends the process, as it ends a store (it cannot know what is durable); it restarts later.
        if (err instanceof DiskFault) {
          if (this.nodes.get(node.id) === node) this.crash(node);
        } else {
          this.failure ??= err instanceof Error ? err : new Error(`node ${node.id}: ${String(err)}`);
        }
      },
    };
  }

  /** The safety checks of a persisted Ready (raised into the node's loop, which reports them as `failed`). */
  private persisted(node: SimNode, rd: Ready): void {
    if (rd.entries.length > 0) this.checker.persisted(node, rd.entries, this.nodes.values());
    for (const e of rd.committedEntries) {
      this.checker.applied(node, e);
      if (e.type !== 'conf') continue;
      const cc = decodeConfChange(e.data);
      // A committed removal: the host garbage-collects the replica.
      if (cc.kind === 'remove') this.removed.add(cc.node);
    }
    if (rd.softState?.role === 'leader') {
      this.stats.leaders++;
      this.checker.leaderElected(node, node.raw!.status().term);
    }
  }

  private addNode(store: number, desc: RangeDescriptor, bootstrap: boolean): SimNode {
    const id = replicaIdFor(store, 1);
    const node = new SimNode(id, desc, bootstrap, this.time, this.rng.fork(), this.nodeOpts, this.events);
    this.nodes.set(id, node);
    return node;
  }

  /** One tick of simulated time. */
  async step(faults: boolean): Promise<void> {
    this.now++;
    if (faults) {
      this.restartDue();
      if (this.nemesisRng.chance(this.opts.nemesisRate)) this.nemesis();
    }
    for (const c of this.clients) {
      if (!c.busy) {
        if (this.clientsActive && this.rng.chance(0.3)) c.begin(this.now);
      } else c.tick(this.now);
    }
    for (const n of this.nodes.values()) n.tick();
    for (const { msg, ok } of this.net.arrivals(this.now)) this.deliver(msg, ok);
    await this.time.runUntil(this.now);
    if (this.failure) throw this.failure;
    for (const id of this.removed) {
      const n = this.nodes.get(id);
      if (n) {
        n.crash();
        this.nodes.delete(id);
      }
    }
  }

  private deliver(msg: Message, ok: boolean): void {
    const target = this.nodes.get(msg.to);
    const delivered = ok && target !== undefined && target.alive;
    const snapshot = this.snapshots.get(msg);
    if (delivered) target.deliver(msg, snapshot);
    // A streaming transport knows whether a snapshot got through.
    if (snapshot) this.nodes.get(msg.from)?.snapshotDelivered(msg.to, delivered);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const s = n.raw?.status();
      if (s?.role === 'leader' && (!best || s.term > best.raw!.status().term)) best = n;
    }
    return best;
  }

  // ---- nemesis ---------------------------------------------------------------

  /** Crashed nodes come back on their own after a while (a supervisor restarting the process). */
  private readonly restartAt = new Map<NodeId, number>();

  private crash(node: SimNode): void {
    node.crash();
    this.stats.crashes++;
    this.restartAt.set(node.id, this.now + 20 + this.nemesisRng.int(150));
  }

  private restartDue(): void {
    for (const [id, at] of this.restartAt) {
      if (at > this.now) continue;
      this.restartAt.delete(id);
      const n = this.nodes.get(id);
      if (n && !n.alive) n.start();
    }
  }

  private nemesis(): void {
    const r = this.nemesisRng;
    const ids = [...this.nodes.keys()];
    const live = [...this.nodes.values()].filter((n) => n.alive);
    const dead = [...this.nodes.values()].filter((n) => !n.alive);
    switch (r.int(14)) {
      case 0: {
        const side = ids.filter(() => r.chance(0.5));
        this.net.partition([side, ids.filter((x) => !side.includes(x))]);
        break;
      }
      case 1:
        this.net.isolate(r.pick(ids), ids);
        break;
      case 2:
        this.net.cutOneWay(r.pick(ids), r.pick(ids));
        break;
      case 3:
        this.net.heal();
        break;
      case 4:
        if (live.length > 0) this.crash(r.pick(live));
        break;
      case 5:
        if (dead.length > 0) r.pick(dead).start();
        break;
      case 6:
        if (live.length > 0) {
          const victim = r.pick(live);
          victim.crashDuringReady = r.chance(0.5) ? 'beforePersist' : 'afterPersist';
          this.stats.crashes++;
          this.restartAt.set(victim.id, this.now + 20 + r.int(150));
        }
        break;
      case 7:
        this.net.faults = { dropRate: r.float() * 0.2, dupRate: r.float() * 0.1, minDelay: 1, maxDelay: 1 + r.int(6) };
        break;
      case 8:
        this.net.faults = { ...CALM };
        break;
      case 9:
      case 11:
      case 12:
        if (this.opts.membershipChanges) this.changeMembership();
        break;
      case 10: {
        const lead = this.leader();
        const voters = lead?.raw!.status().conf.voters ?? [];
        if (lead && voters.length > 1) lead.raw!.transferLeader(r.pick(voters));
        break;
      }
      case 13:
        // An fsync error: the batch may or may not have landed.
        if (live.length > 0) {
          r.pick(live).failNextWrite();
          this.stats.diskFaults++;
        }
        break;
    }
  }

  /** Proposes one single-server membership change through the current leader. */
  changeMembership(): void {
    const lead = this.leader();
    if (!lead) return;
    const { voters, learners } = lead.raw!.status().conf;
    const r = this.nemesisRng;
    const choice = r.int(4);
    let result;
    if (choice === 0 && voters.length + learners.length < 6) {
      // The new replica starts from the range's descriptor, as the placement driver hands it out, and waits for a snapshot.
      const store = this.nextStore++;
      const desc = lead.replica!.desc.current;
      const node = this.addNode(store, { ...desc, replicas: [...desc.replicas, { store, replicaId: replicaIdFor(store, 1), role: 'learner' }] }, false);
      result = lead.raw!.proposeConfChange({ kind: 'addLearner', node: node.id });
    } else if (choice === 1 && learners.length > 0) {
      result = lead.raw!.proposeConfChange({ kind: 'addVoter', node: r.pick(learners) });
    } else if (choice === 2 && voters.length > 3) {
      result = lead.raw!.proposeConfChange({ kind: 'remove', node: r.pick(voters) });
    } else if (choice === 3 && learners.length > 0) {
      result = lead.raw!.proposeConfChange({ kind: 'remove', node: r.pick(learners) });
    }
    if (result?.kind === 'ok') this.stats.confChanges++;
  }

  // ---- phases -------------------------------------------------------------------

  /** Heals every fault and runs until all pending operations complete and replicas converge. */
  async runLiveness(): Promise<string | undefined> {
    this.net.heal();
    this.net.faults = { ...CALM };
    this.clientsActive = false;
    for (const n of this.nodes.values()) {
      n.calm();
      n.start();
    }
    const deadline = this.now + this.opts.livenessTicks;
    for (const c of this.clients) c.extendDeadline(deadline);
    while (this.now < deadline) {
      await this.step(false);
      if (this.converged()) return this.divergence();
    }
    const lead = this.leader();
    const busy = this.clients.filter((c) => c.busy).length;
    const states = [...this.nodes.values()].map((n) => {
      const s = n.raw?.status();
      if (!s) return `${n.id}:down`;
      return `${n.id}:${s.role}/t${s.term}/c${s.commit}/a${n.replica!.applied}/v[${s.conf.voters}]`;
    });
    return `liveness: after ${this.opts.livenessTicks} healed ticks leader=${lead?.id ?? 'none'}, ${busy} clients still waiting; nodes ${states.join(' ')}`;
  }

  /** State Machine Safety on the engines themselves: members that applied the same log hold the same range state. */
  private async divergence(): Promise<string | undefined> {
    const lead = this.leader()!;
    const expected = await lead.stateImage();
    const { voters, learners } = lead.raw!.status().conf;
    for (const id of [...voters, ...learners]) {
      if ((await this.nodes.get(id)!.stateImage()) !== expected) return `state: node ${id} holds other range state than leader ${lead.id} at applied index ${lead.replica!.applied}`;
    }
    return undefined;
  }

  private converged(): boolean {
    if (this.clients.some((c) => c.busy)) return false;
    const lead = this.leader();
    if (!lead) return false;
    const ls = lead.raw!.status();
    const members = [...ls.conf.voters, ...ls.conf.learners];
    return members.every((id) => {
      const n = this.nodes.get(id);
      return n !== undefined && n.alive && n.replica!.applied === ls.commit && n.raw!.status().lead === lead.id;
    });
  }

  finishStats(): SimStats {
    this.stats.committed = this.checker.committedCount;
    this.stats.messages = this.net.sent;
    this.stats.dropped = this.net.dropped;
    this.stats.ops = this.history.filter((h) => h.output !== undefined).length;
    return this.stats;
  }
}
