/**
 * Deterministic networks of RawNodes for the Raft unit tests (src/raft/*.test.ts):
 * per-node MemoryStorage "disks", messages queued in memory and delivered by
 * the test, restarts from disk. Not used by production code; it lives here,
 * outside src/raft, so that the core imports nothing but src/common.
 *
 * Two harnesses share one Ready loop (`drainReady`):
 * - TestCluster delivers one message at a time among the nodes that are up,
 *   with a check after every delivery (figure8.test.ts, raft.test.ts);
 * - Network delivers in rounds under explicit topology control (isolate / cut /
 *   partition / filter), with per-node config, snapshots of a toy state
 *   machine and a record of delivered traffic (raft-paper, raft-membership, ...).
 */
import type { NodeId } from '../../src/common/index.js';
import type { Entry, Message, MessageKind, RaftConfig, ReadState, Ready, Snapshot, Status } from '../../src/raft/index.js';
import { DEFAULT_CONFIG, MemoryStorage, RawNode } from '../../src/raft/index.js';
import { SeededRng } from '../../src/runtime/index.js';

/** The seeded Rng the harnesses hand their nodes, for tests that build RawNodes themselves. */
export { SeededRng };

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The harnesses' one Ready loop: handles every pending Ready of `node` in the
 * order types.ts prescribes. Each Ready is made durable on `disk` (snapshot,
 * then entries, then hard state) before `host` sees it (sends its messages,
 * applies its snapshot and committed entries, takes its read states), and is
 * acknowledged with advance() last.
 */
function drainReady(id: NodeId, node: RawNode, disk: MemoryStorage, host: (rd: Ready) => void): void {
  for (let guard = 0; node.hasReady(); guard++) {
    if (guard > 10_000) throw new Error(`node ${id} never stops producing Readys`);
    const rd = node.ready();
    if (rd.snapshot) disk.applySnapshot(rd.snapshot);
    disk.append(rd.entries);
    if (rd.hardState) disk.setHardState(rd.hardState);
    host(rd);
    node.advance(rd);
  }
}

/**
 * Delivers messages one at a time, in the order they were sent, among the
 * nodes that are up; a check may run after every delivery. Snapshot transfers
 * are not reported back to the leader (tests call reportSnapshot themselves).
 */
export class TestCluster {
  readonly disks = new Map<number, MemoryStorage>();
  readonly nodes = new Map<number, RawNode>();
  readonly applied = new Map<number, string[]>();
  /** Read states each node's host received, as text. */
  readonly reads = new Map<number, { index: number; ctx: string }[]>();
  /** Every message ever sent, for assertions on traffic. */
  readonly sent: Message[] = [];
  private queue: Message[] = [];

  constructor(
    readonly ids: number[],
    private readonly cfg: Partial<RaftConfig> = {},
  ) {
    for (const id of ids) {
      this.disks.set(id, MemoryStorage.bootstrap(ids));
      this.restart(id);
    }
  }

  /** A crash and restart: the node comes back from its disk as a follower. */
  restart(id: number): void {
    this.applied.set(id, []);
    this.reads.set(id, []);
    this.nodes.set(id, new RawNode({ ...DEFAULT_CONFIG, ...this.cfg, id, applied: 0 }, this.disks.get(id)!, new SeededRng(id)));
  }

  /** Adds an empty node (to be added by a conf change). */
  addEmpty(id: number): void {
    this.ids.push(id);
    this.disks.set(id, new MemoryStorage());
    this.restart(id);
  }

  node(id: number): RawNode {
    return this.nodes.get(id)!;
  }

  /** Handles every node's Ready: queues its messages, records applied normal entries and read states. */
  flush(): void {
    for (const [id, n] of this.nodes) {
      drainReady(id, n, this.disks.get(id)!, (rd) => {
        this.queue.push(...rd.messages);
        this.sent.push(...rd.messages);
        for (const rs of rd.readStates) this.reads.get(id)!.push({ index: rs.index, ctx: text(rs.ctx) });
        for (const e of rd.committedEntries) if (e.type === 'normal' && e.data.length > 0) this.applied.get(id)!.push(text(e.data));
      });
    }
  }

  /**
   * Delivers messages one at a time among `up` (others are lost) until quiet;
   * `filter` may drop more; `check` runs after every delivery.
   */
  run(up: number[] = this.ids, filter: (m: Message) => boolean = () => true, check: () => void = () => {}): void {
    this.flush();
    while (this.queue.length > 0) {
      const m = this.queue.shift()!;
      const n = this.nodes.get(m.to);
      if (n && up.includes(m.from) && up.includes(m.to) && filter(m)) n.step(m);
      this.flush();
      check();
    }
  }

  /** Takes queued messages without delivering them. */
  takeQueued(): Message[] {
    this.flush();
    const q = this.queue;
    this.queue = [];
    return q;
  }

  tick(times: number, up: number[] = this.ids): void {
    for (let i = 0; i < times; i++) {
      for (const id of up) this.node(id).tick();
      this.run(up);
    }
  }

  /** Campaigns until `id` leads (a first try may only catch up on the term). */
  elect(id: number, up: number[] = this.ids, filter?: (m: Message) => boolean, check?: () => void): void {
    for (let i = 0; i < 3 && this.node(id).status().role !== 'leader'; i++) {
      this.node(id).campaign();
      this.run(up, filter, check);
    }
    if (this.node(id).status().role !== 'leader') throw new Error(`node ${id} did not win`);
  }

  propose(id: number, data: string): void {
    const r = this.node(id).propose(bytes(data));
    if (r.kind !== 'ok') throw new Error(`proposal rejected: ${JSON.stringify(r)}`);
  }
}

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'applied'>>;

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function text(b: Uint8Array): string {
  return dec.decode(b);
}

/** A plain entry for hand-built logs. */
export function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: 'normal', data: enc.encode(data) };
}

/** Entries with the given terms at indices first, first+1, ... */
export function entsWithTerms(first: number, terms: readonly number[]): Entry[] {
  return terms.map((t, i) => ent(first + i, t, `e${first + i}t${t}`));
}

export interface NetworkOptions {
  /** Config overrides for every node. */
  readonly cfg?: NodeOptions;
  /** Per-node config overrides. */
  readonly perNode?: Readonly<Record<number, NodeOptions>>;
  /** Seed for the nodes' election-timeout randomness. */
  readonly seed?: number;
  /** Pre-built disks (ids not listed get MemoryStorage.bootstrap(ids)). */
  readonly storages?: ReadonlyMap<NodeId, MemoryStorage>;
}

/**
 * Delivers in rounds (flush every node, then deliver the whole queue) under
 * topology control, with per-node config, a toy state machine that snapshots
 * to JSON, and a record of delivered traffic. Like a real host, reports the
 * outcome of each snapshot transfer to its sender.
 */
export class Network {
  readonly ids: NodeId[];
  readonly disks = new Map<NodeId, MemoryStorage>();
  readonly nodes = new Map<NodeId, RawNode>();
  /** Every committed entry each node applied (all types, including no-ops and conf entries). */
  readonly appliedEntries = new Map<NodeId, Entry[]>();
  /** The state machine: data of the non-empty normal entries applied, in order. */
  readonly sm = new Map<NodeId, string[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly snapshotsReceived = new Map<NodeId, Snapshot[]>();
  /** Messages produced but not yet delivered. */
  queue: Message[] = [];
  /** Every message produced (whether or not delivered). */
  readonly sent: Message[] = [];
  /** Every message delivered. */
  readonly delivered: Message[] = [];
  /** Extra drop rule: return false to lose the message. */
  filter: ((m: Message) => boolean) | undefined;

  private readonly opts: NetworkOptions;
  private readonly isolated = new Set<NodeId>();
  private readonly cuts = new Set<string>();
  private groups: NodeId[][] | undefined;
  private readonly perNode = new Map<NodeId, NodeOptions>();

  constructor(ids: readonly NodeId[], opts: NetworkOptions = {}) {
    this.ids = [...ids];
    this.opts = opts;
    for (const id of ids) {
      const disk = opts.storages?.get(id) ?? MemoryStorage.bootstrap(ids);
      this.disks.set(id, disk);
      if (opts.perNode?.[id]) this.perNode.set(id, opts.perNode[id]);
      this.start(id);
    }
  }

  config(id: NodeId, applied: number): RaftConfig {
    return { ...DEFAULT_CONFIG, ...this.opts.cfg, ...this.perNode.get(id), id, applied };
  }

  /** (Re)creates node `id` from its disk, as after a crash: the state machine restarts from the disk's snapshot. */
  start(id: NodeId): RawNode {
    const disk = this.disks.get(id)!;
    const snap = disk.snapshot();
    const node = new RawNode(this.config(id, snap.meta.index), disk, new SeededRng((this.opts.seed ?? 0) * 1000 + id));
    this.nodes.set(id, node);
    this.sm.set(id, snap.meta.index > 0 ? decodeSm(snap.data) : []);
    if (!this.appliedEntries.has(id)) this.appliedEntries.set(id, []);
    if (!this.readStates.has(id)) this.readStates.set(id, []);
    if (!this.snapshotsReceived.has(id)) this.snapshotsReceived.set(id, []);
    return node;
  }

  /** Adds a brand-new (empty) node that is not yet a member anywhere. */
  addNode(id: NodeId, opts?: NodeOptions): RawNode {
    if (!this.ids.includes(id)) this.ids.push(id);
    this.disks.set(id, new MemoryStorage());
    if (opts) this.perNode.set(id, opts);
    return this.start(id);
  }

  /** Crash-stops a node: it receives nothing until `start(id)`. */
  stop(id: NodeId): void {
    this.nodes.delete(id);
  }

  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`node ${id} is not running`);
    return n;
  }

  status(id: NodeId): Status {
    return this.node(id).status();
  }

  // ---- topology ---------------------------------------------------------------

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Drops messages from `a` to `b` (one direction). */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}-${b}`);
  }

  /** Only nodes within the same group can talk. */
  partition(...groups: NodeId[][]): void {
    this.groups = groups;
  }

  heal(): void {
    this.isolated.clear();
    this.cuts.clear();
    this.groups = undefined;
    this.filter = undefined;
  }

  allowed(m: Message): boolean {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return false;
    if (this.cuts.has(`${m.from}-${m.to}`)) return false;
    if (this.groups && !this.groups.some((g) => g.includes(m.from) && g.includes(m.to))) return false;
    return this.filter ? this.filter(m) : true;
  }

  // ---- driving ----------------------------------------------------------------

  /** Handles every pending Ready of node `id` (see drainReady). */
  processReady(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    drainReady(id, n, this.disks.get(id)!, (rd) => {
      for (const m of rd.messages) {
        this.sent.push(m);
        this.queue.push(m);
      }
      if (rd.snapshot) {
        this.snapshotsReceived.get(id)!.push(rd.snapshot);
        this.sm.set(id, decodeSm(rd.snapshot.data));
      }
      for (const e of rd.committedEntries) {
        this.appliedEntries.get(id)!.push(e);
        if (e.type === 'normal' && e.data.length > 0) this.sm.get(id)!.push(text(e.data));
      }
      this.readStates.get(id)!.push(...rd.readStates);
    });
  }

  /** Processes every node's Ready (collecting messages) without delivering anything. */
  flush(): void {
    for (const id of [...this.nodes.keys()].sort((a, b) => a - b)) this.processReady(id);
  }

  /**
   * Delivers (or drops) one message. Returns true if it was delivered. Like a
   * real host, reports the outcome of a snapshot transfer to its sender.
   */
  deliver(m: Message): boolean {
    const to = this.nodes.get(m.to);
    const ok = to !== undefined && this.allowed(m);
    if (ok) {
      this.delivered.push(m);
      to.step(m);
    }
    if (m.kind === 'snap') this.nodes.get(m.from)?.reportSnapshot(m.to, ok);
    return ok;
  }

  /** Takes the queued messages matching `pred` (all by default) out of the queue. */
  take(pred: (m: Message) => boolean = () => true): Message[] {
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  /** Flush + deliver until quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; ; round++) {
      if (round > maxRounds) throw new Error('network did not stabilize');
      this.flush();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
  }

  /** Ticks `ids` once each and stabilizes, `n` times. */
  tick(ids: readonly NodeId[], n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.nodes.get(id)?.tick();
      this.stabilize();
    }
  }

  tickAll(n = 1): void {
    this.tick([...this.nodes.keys()].sort((a, b) => a - b), n);
  }

  /** Campaigns on `id` and stabilizes; fails loudly if it did not win. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
    const s = this.status(id);
    if (s.role !== 'leader') throw new Error(`node ${id} did not win: ${s.role} at term ${s.term}`);
  }

  /** Ids of the running nodes that believe they lead. */
  leaders(): NodeId[] {
    return [...this.nodes.entries()].filter(([, n]) => n.status().role === 'leader').map(([id]) => id);
  }

  /** Proposes `data` on `id` (must succeed) and returns its index. */
  propose(id: NodeId, data: string): number {
    const r = this.node(id).propose(bytes(data));
    if (r.kind !== 'ok') throw new Error(`proposal on ${id} failed: ${JSON.stringify(r)}`);
    return r.index;
  }

  /** Takes a snapshot of node `id`'s state machine at its applied index and compacts its disk up to it. */
  compact(id: NodeId): Snapshot {
    const s = this.status(id);
    const disk = this.disks.get(id)!;
    const snap = disk.createSnapshot(s.applied, this.node(id).confStateAt(s.applied), encodeSm(this.sm.get(id)!));
    disk.compact(s.applied);
    return snap;
  }

  /** Messages of `kind` in `list` (default: delivered), optionally from/to given nodes. */
  count(kind: MessageKind, filter: { from?: NodeId; to?: NodeId; where?: (m: Message) => boolean } = {}, list: readonly Message[] = this.delivered): number {
    return list.filter((m) => m.kind === kind && (filter.from === undefined || m.from === filter.from) && (filter.to === undefined || m.to === filter.to) && (!filter.where || filter.where(m))).length;
  }

  /** The terms of node `id`'s durable log, from its first index. */
  diskTerms(id: NodeId): number[] {
    const d = this.disks.get(id)!;
    const out: number[] = [];
    for (let i = d.firstIndex(); i <= d.lastIndex(); i++) out.push(d.term(i)!);
    return out;
  }
}

function encodeSm(sm: readonly string[]): Uint8Array {
  return enc.encode(JSON.stringify(sm));
}

function decodeSm(data: Uint8Array): string[] {
  return data.length === 0 ? [] : (JSON.parse(dec.decode(data)) as string[]);
}

/** A storage pre-loaded with `ents` (after index 0) and a hard state, for a group whose membership is fixed. */
export function storageWith(voters: readonly NodeId[], ents: readonly Entry[], hs: { term: number; vote?: NodeId; commit?: number }): MemoryStorage {
  const st = new MemoryStorage({ voters: [...voters].sort((a, b) => a - b), learners: [] });
  st.append(ents);
  st.setHardState({ term: hs.term, vote: hs.vote ?? 0, commit: hs.commit ?? 0 });
  return st;
}
