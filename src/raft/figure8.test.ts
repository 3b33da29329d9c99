/**
 * Figure 8 of the Raft paper (§5.4.2): a leader must not commit an entry of an
 * earlier term by counting replicas, or a later leader may overwrite it.
 * Five nodes, messages delivered one at a time under explicit link control.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../runtime/index.js';
import { DEFAULT_CONFIG, MemoryStorage, RawNode } from './index.js';
import type { Message } from './index.js';

class Cluster {
  readonly disks = new Map<number, MemoryStorage>();
  readonly nodes = new Map<number, RawNode>();
  private queue: Message[] = [];

  constructor(ids: number[]) {
    for (const id of ids) {
      this.disks.set(id, MemoryStorage.bootstrap(ids));
      this.restart(id);
    }
  }

  /** A crash and restart: the node comes back from its disk as a follower. */
  restart(id: number): void {
    // One entry per MsgApp, one in flight: old-term entries and the new leader's no-op travel apart.
    const cfg = { ...DEFAULT_CONFIG, id, applied: 0, preVote: false, checkQuorum: false, maxSizePerMsg: 1, maxInflightMsgs: 1 };
    this.nodes.set(id, new RawNode(cfg, this.disks.get(id)!, new SeededRng(id)));
  }

  node(id: number): RawNode {
    return this.nodes.get(id)!;
  }

  /** Persists and collects every node's Ready. */
  private flush(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        const disk = this.disks.get(id)!;
        if (rd.snapshot) disk.applySnapshot(rd.snapshot);
        disk.append(rd.entries);
        if (rd.hardState) disk.setHardState(rd.hardState);
        this.queue.push(...rd.messages);
        n.advance(rd);
      }
    }
  }

  /** Campaigns until `id` leads (a first try may only catch up on the term). */
  elect(id: number, up: number[], check?: () => void, votesOnly = false): void {
    for (let i = 0; i < 3 && this.node(id).status().role !== 'leader'; i++) {
      this.node(id).campaign();
      this.run(up, check, votesOnly);
    }
    expect(this.node(id).status().role).toBe('leader');
  }

  /**
   * Delivers messages one at a time among `up` (others are lost) until quiet,
   * calling `check` after each delivery.
   */
  run(up: number[], check: () => void = () => {}, votesOnly = false): void {
    this.flush();
    while (this.queue.length > 0) {
      const m = this.queue.shift()!;
      const kindOk = !votesOnly || m.kind === 'vote' || m.kind === 'voteResp';
      if (kindOk && up.includes(m.from) && up.includes(m.to)) this.node(m.to).step(m);
      this.flush();
      check();
    }
  }
}

describe('Raft §5.4.2, Figure 8', () => {
  it('an entry from an earlier term is not committed by counting replicas', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    // (a) S1 leads term 2 and replicates index X only to S2.
    c.elect(1, [1, 2, 3, 4, 5]);
    const x = c.node(1).status().lastIndex + 1;
    c.node(1).propose(new TextEncoder().encode('from S1'));
    c.run([1, 2]);
    expect(c.disks.get(2)!.term(x)).toBe(2);

    // (b) S5 leads term 3 with votes from S3, S4 and appends its own entry at X, which nobody receives.
    c.elect(5, [3, 4, 5], undefined, true);
    expect(c.disks.get(5)!.term(x)).toBe(3);
    expect(c.disks.get(3)!.term(x)).toBeUndefined();

    // (c) S1 leads term 4 with S2, S3 and re-replicates X (term 2) to S3: a majority holds it,
    //     but it must not commit until an entry of term 4 is replicated too.
    c.restart(1);
    c.elect(1, [1, 2, 3], () => {
      const s = c.node(1).status();
      if (s.commit >= x) {
        const holders = [1, 2, 3, 4, 5].filter((id) => (c.disks.get(id)!.term(x + 1) ?? 0) === s.term);
        expect(holders.length, `S1 committed ${s.commit} >= X=${x} with its term-${s.term} entry on only ${holders}`).toBeGreaterThanOrEqual(3);
      }
    });
    expect(c.node(1).status().term).toBeGreaterThanOrEqual(4);
  });

  it('(d) a later leader may overwrite an old-term entry that was never committed', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    c.elect(1, [1, 2, 3, 4, 5]);
    const x = c.node(1).status().lastIndex + 1;
    c.node(1).propose(new TextEncoder().encode('from S1'));
    c.run([1, 2]);
    c.elect(5, [3, 4, 5], undefined, true);
    // S1 is down; S5 restarts and (last term 3) wins again with S2, S3, S4; its entry at X replaces S2's.
    c.restart(5);
    c.elect(5, [2, 3, 4, 5]);
    for (const id of [2, 3, 4, 5]) expect(c.disks.get(id)!.term(x)).toBe(3);
    expect(c.node(5).status().commit).toBeGreaterThanOrEqual(x);
  });
});
