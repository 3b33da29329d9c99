/**
 * Figure 8 of the Raft paper (§5.4.2): a leader must not commit an entry of an
 * earlier term by counting replicas, or a later leader may overwrite it.
 * Five nodes, messages delivered one at a time under explicit link control.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from './index.js';
import { TestCluster } from '../../test/support/raft-harness.js';

// One entry per MsgApp, one in flight: old-term entries and the new leader's no-op travel apart.
const cluster = () => new TestCluster([1, 2, 3, 4, 5], { preVote: false, checkQuorum: false, maxSizePerMsg: 1, maxInflightMsgs: 1 });
const votesOnly = (m: Message) => m.kind === 'vote' || m.kind === 'voteResp';

/** (a)+(b): S1 (term 2) puts X on S2 only; S5 (term 3) puts its own X on itself only. Returns X. */
function setUp(c: TestCluster): number {
  c.elect(1);
  const x = c.node(1).status().lastIndex + 1;
  c.propose(1, 'from S1');
  c.run([1, 2]);
  expect(c.disks.get(2)!.term(x)).toBe(2);
  c.elect(5, [3, 4, 5], votesOnly);
  expect(c.disks.get(5)!.term(x)).toBe(3);
  expect(c.disks.get(3)!.term(x)).toBeUndefined();
  return x;
}

describe('Raft §5.4.2, Figure 8', () => {
  it('(c) an entry from an earlier term is not committed by counting replicas', () => {
    const c = cluster();
    const x = setUp(c);
    // S1 restarts and leads term 4 with S2, S3, re-replicating X (term 2) to S3: a majority
    // holds X, but it must not commit until an entry of term 4 is on a majority too.
    c.restart(1);
    c.elect(1, [1, 2, 3], undefined, () => {
      const s = c.node(1).status();
      if (s.commit < x) return;
      const holders = [1, 2, 3, 4, 5].filter((id) => (c.disks.get(id)!.term(x + 1) ?? 0) === s.term);
      expect(holders.length, `S1 committed ${s.commit} >= X=${x} with its term-${s.term} entry on only ${holders}`).toBeGreaterThanOrEqual(3);
    });
    expect(c.node(1).status().term).toBeGreaterThanOrEqual(4);
  });

  it('(d) a later leader may overwrite an old-term entry that was never committed', () => {
    const c = cluster();
    const x = setUp(c);
    // S1 is down; S5 restarts and (last term 3) wins with S2, S3, S4; its X replaces S2's.
    c.restart(5);
    c.elect(5, [2, 3, 4, 5]);
    for (const id of [2, 3, 4, 5]) expect(c.disks.get(id)!.term(x)).toBe(3);
    expect(c.node(5).status().commit).toBeGreaterThanOrEqual(x);
  });
});
