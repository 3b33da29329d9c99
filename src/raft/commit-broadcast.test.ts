/**
 * RaftConfig.commitBroadcast: 'eager' sends every follower an append as soon
 * as the leader's commit index moves; 'lazy' lets the new commit index ride
 * the next append or heartbeat, except for a node a conf change removes, a
 * follower's ReadIndex and the host's broadcastCommit.
 */
import { describe, expect, it } from 'vitest';
import type { Message, RaftConfig } from './index.js';
import { bytes, TestCluster } from '../../test/support/raft-harness.js';

/** Three nodes; node 1 leads; traffic recorded from here on. */
function cluster(commitBroadcast: RaftConfig['commitBroadcast']): TestCluster {
  const c = new TestCluster([1, 2, 3], { commitBroadcast });
  c.elect(1);
  c.sent.length = 0;
  return c;
}

const emptyAppends = (msgs: readonly Message[]) => msgs.filter((m) => m.kind === 'app' && m.entries.length === 0).length;

describe('commit broadcast', () => {
  it('eager: the followers learn the commit index at once, by an empty append', () => {
    const c = cluster('eager');
    c.propose(1, 'a');
    c.run();
    for (const id of [1, 2, 3]) expect(c.applied.get(id)).toEqual(['a']);
    expect(emptyAppends(c.sent)).toBe(2);
  });

  it('lazy: the commit index waits for the next heartbeat, and sends nothing of its own', () => {
    const c = cluster('lazy');
    c.propose(1, 'a');
    c.run();
    expect(c.applied.get(1)).toEqual(['a']);
    expect(c.applied.get(2)).toEqual([]);
    expect(c.applied.get(3)).toEqual([]);
    expect(emptyAppends(c.sent)).toBe(0);
    c.node(1).tick();
    c.run();
    for (const id of [1, 2, 3]) expect(c.applied.get(id)).toEqual(['a']);
  });

  it('lazy: the next append carries the commit index of the entries before it', () => {
    const c = cluster('lazy');
    c.propose(1, 'a');
    c.run();
    c.propose(1, 'b');
    c.run();
    expect(c.applied.get(1)).toEqual(['a', 'b']);
    for (const id of [2, 3]) expect(c.applied.get(id)).toEqual(['a']);
  });

  it('lazy: a node a conf change removes learns the commit index before it leaves', () => {
    const c = cluster('lazy');
    c.propose(1, 'a');
    c.run();
    expect(c.node(1).proposeConfChange({ kind: 'remove', node: 3 }).kind).toBe('ok');
    c.run();
    expect(c.applied.get(3)).toEqual(['a']);
  });

  it('lazy: broadcastCommit sends the commit index at once', () => {
    const c = cluster('lazy');
    c.propose(1, 'a');
    c.run();
    c.node(1).broadcastCommit();
    c.run();
    for (const id of [1, 2, 3]) expect(c.applied.get(id)).toEqual(['a']);
  });

  it("lazy: a follower's ReadIndex is followed by the commit index it needs", () => {
    const c = cluster('lazy');
    c.propose(1, 'a');
    c.run();
    expect(c.node(2).status().commit).toBeLessThan(c.node(1).status().commit);
    c.node(2).readIndex(bytes('r1'));
    c.run();
    expect(c.reads.get(2)).toEqual([{ index: c.node(1).status().commit, ctx: 'r1' }]);
    expect(c.applied.get(2)).toEqual(['a']);
  });
});
