/**
 * The seeded, fault-injecting simulation of one Raft group (FoundationDB /
 * TigerBeetle style): real core, simulated disk, network and clock, a nemesis,
 * and clients. Phase one injects faults and checks safety after every step;
 * phase two heals everything and demands progress within a bound; finally the
 * client history must be linearizable.
 *
 * Everything is derived from the seed: the same seed replays bit for bit.
 */
import type { NodeId } from '../common/index.js';
import type { Message, RaftConfig } from '../raft/index.js';
import { decodeConfChange } from '../raft/index.js';
import { SeededRng } from '../runtime/index.js';
import { SafetyChecker } from './checkers.js';
import type { HistoryOp } from './clients.js';
import { SimClient } from './clients.js';
import { CALM, SimNetwork } from './network.js';
import { SimNode } from './sim-node.js';
import type { NodeHooks } from './sim-node.js';

export interface SimOptions {
  readonly seed: number;
  /** Ticks of the fault phase. */
  readonly steps: number;
  /** Initial voters. */
  readonly nodes: number;
  readonly clients: number;
  readonly readOnly: RaftConfig['readOnly'];
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
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly stats: SimStats;
  readonly history: readonly HistoryOp[];
}

const decoder = new TextDecoder();

export class Simulation {
  now = 0;
  private events = 0;
  readonly nodes = new Map<NodeId, SimNode>();
  private readonly removed = new Set<NodeId>();
  private nextId: NodeId;
  readonly net: SimNetwork;
  readonly checker = new SafetyChecker();
  readonly history: HistoryOp[] = [];
  readonly clients: SimClient[] = [];
  private readonly clientsByName = new Map<string, SimClient>();
  private readonly rng: SeededRng;
  private readonly nemesisRng: SeededRng;
  private readonly hooks: NodeHooks;
  readonly stats: SimStats = { leaders: 0, committed: 0, messages: 0, dropped: 0, ops: 0, crashes: 0, confChanges: 0, snapshotsSent: 0 };
  /** Clients start new operations only in the fault phase. */
  private clientsActive = true;

  constructor(readonly opts: SimOptions) {
    const root = new SeededRng(opts.seed);
    this.rng = root.fork();
    this.nemesisRng = root.fork();
    this.net = new SimNetwork(root.fork());
    this.hooks = this.makeHooks();
    const voters = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    this.nextId = opts.nodes + 1;
    for (const id of voters) this.addNode(id, voters);
    for (let i = 0; i < opts.clients; i++) {
      const c = new SimClient(i, root.fork(), () => ++this.events, () => [...this.nodes.values()], this.history);
      this.clients.push(c);
      this.clientsByName.set(c.name, c);
    }
  }

  private makeHooks(): NodeHooks {
    return {
      send: (m: Message) => {
        if (m.kind === 'snap') this.stats.snapshotsSent++;
        this.net.send(m, this.now);
      },
      persisted: (node, entries) => this.checker.persisted(node, entries, this.nodes.values()),
      applied: (node, e, outcome) => {
        this.checker.applied(node, e);
        if (e.type === 'conf') {
          const cc = decodeConfChange(e.data);
          // A committed removal: the host garbage-collects the replica.
          if (cc.kind === 'remove') this.removed.add(cc.node);
        } else if (outcome && outcome.kind !== 'stale') {
          this.clientsByName.get(outcome.client)?.onApplied(outcome.seq, outcome.result);
        }
      },
      snapshotApplied: () => {},
      readReady: (node, rs) => {
        const ctx = decoder.decode(rs.ctx);
        this.clientsByName.get(ctx.slice(0, ctx.indexOf('/')))?.onReadReady(ctx, node);
      },
      becameLeader: (node) => {
        this.stats.leaders++;
        this.checker.leaderElected(node, node.raw!.status().term);
      },
    };
  }

  private addNode(id: NodeId, bootstrapVoters: readonly NodeId[] = []): SimNode {
    const node = new SimNode(id, bootstrapVoters, this.rng.fork(), { readOnly: this.opts.readOnly, snapshotInterval: 40, maxSizePerMsg: this.opts.maxSizePerMsg, maxInflightMsgs: this.opts.maxInflightMsgs }, this.hooks);
    this.nodes.set(id, node);
    return node;
  }

  /** One tick of simulated time. */
  step(faults: boolean): void {
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
    for (const n of this.nodes.values()) n.raw?.tick();
    for (const { msg, ok } of this.net.arrivals(this.now)) this.deliver(msg, ok);
    for (const n of this.nodes.values()) n.processReadies();
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
    if (delivered) target.raw!.step(msg);
    // A streaming transport knows whether a snapshot got through.
    if (msg.kind === 'snap') this.nodes.get(msg.from)?.raw?.reportSnapshot(msg.to, delivered);
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
    switch (r.int(13)) {
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
      const id = this.nextId++;
      this.addNode(id);
      result = lead.raw!.proposeConfChange({ kind: 'addLearner', node: id });
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
  runLiveness(): string | undefined {
    this.net.heal();
    this.net.faults = { ...CALM };
    this.clientsActive = false;
    for (const n of this.nodes.values()) {
      n.crashDuringReady = 'no';
      if (!n.alive) n.start();
    }
    const deadline = this.now + this.opts.livenessTicks;
    while (this.now < deadline) {
      this.step(false);
      if (this.converged()) return undefined;
    }
    const lead = this.leader();
    const busy = this.clients.filter((c) => c.busy).length;
    const states = [...this.nodes.values()].map((n) => {
      const s = n.raw!.status();
      return `${n.id}:${s.role}/t${s.term}/c${s.commit}/a${n.applied}/v[${s.conf.voters}]`;
    });
    return `liveness: after ${this.opts.livenessTicks} healed ticks leader=${lead?.id ?? 'none'}, ${busy} clients still waiting; nodes ${states.join(' ')}`;
  }

  private converged(): boolean {
    if (this.clients.some((c) => c.busy)) return false;
    const lead = this.leader();
    if (!lead) return false;
    const ls = lead.raw!.status();
    const members = [...ls.conf.voters, ...ls.conf.learners];
    return members.every((id) => {
      const n = this.nodes.get(id);
      return n !== undefined && n.alive && n.applied === ls.commit && n.raw!.status().lead === lead.id;
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
