/**
 * A tiny deterministic network of RawNodes for unit tests: per-node
 * MemoryStorage "disks", a FIFO of messages delivered one at a time between
 * nodes that are up, restart from disk. Not used by production code.
 */
import { SeededRng } from '../runtime/index.js';
import type { Message, RaftConfig } from './index.js';
import { DEFAULT_CONFIG, MemoryStorage, RawNode } from './index.js';

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

  /** Persists every node's Ready, queues its messages, records applied normal entries. */
  flush(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        const disk = this.disks.get(id)!;
        if (rd.snapshot) disk.applySnapshot(rd.snapshot);
        disk.append(rd.entries);
        if (rd.hardState) disk.setHardState(rd.hardState);
        this.queue.push(...rd.messages);
        this.sent.push(...rd.messages);
        for (const rs of rd.readStates) this.reads.get(id)!.push({ index: rs.index, ctx: new TextDecoder().decode(rs.ctx) });
        for (const e of rd.committedEntries) if (e.type === 'normal' && e.data.length > 0) this.applied.get(id)!.push(new TextDecoder().decode(e.data));
        n.advance(rd);
      }
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

  propose(id: number, text: string): void {
    const r = this.node(id).propose(new TextEncoder().encode(text));
    if (r.kind !== 'ok') throw new Error(`proposal rejected: ${JSON.stringify(r)}`);
  }
}
