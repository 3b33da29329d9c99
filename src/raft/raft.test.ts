/**
 * Unit tests of the core's promises, by Raft paper section. The simulator
 * covers the same ground under faults; these pin each rule down alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MsgApp } from './types.js';
import { DEFAULT_CONFIG, MemoryStorage, RawNode } from './index.js';
import { Inflights, Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { SeededRng, TestCluster } from '../../test/support/raft-harness.js';

const text = (s: string) => new TextEncoder().encode(s);
const apps = (c: TestCluster, to: number) => c.sent.filter((m): m is MsgApp => m.kind === 'app' && m.to === to);

describe('§5.2 leader election', () => {
  it('a single voter elects itself on its first timeout and commits alone', () => {
    const c = new TestCluster([1]);
    c.tick(2 * DEFAULT_CONFIG.electionTick);
    expect(c.node(1).status().role).toBe('leader');
    c.propose(1, 'solo');
    c.run();
    expect(c.applied.get(1)).toEqual(['solo']);
  });

  it('three nodes elect exactly one leader by timeouts, and it appends a no-op of its term', () => {
    const c = new TestCluster([1, 2, 3]);
    c.tick(3 * DEFAULT_CONFIG.electionTick);
    const leaders = [1, 2, 3].filter((id) => c.node(id).status().role === 'leader');
    expect(leaders).toHaveLength(1);
    const s = c.node(leaders[0]).status();
    expect(c.disks.get(leaders[0])!.term(s.lastIndex)).toBe(s.term);
    for (const id of [1, 2, 3]) expect(c.node(id).status().lead).toBe(leaders[0]);
  });

  it('a node votes at most once per term', () => {
    const c = new TestCluster([1, 2, 3], { preVote: false });
    c.node(1).campaign();
    c.node(3).campaign();
    // Node 2 sees both requests for term 2; it may grant only one.
    const queued = c.takeQueued();
    for (const m of queued) if (m.to === 2) c.node(2).step(m);
    c.flush();
    const grants = c.takeQueued().filter((m) => m.kind === 'voteResp' && !m.reject);
    expect(grants).toHaveLength(1);
  });

  it('§5.4.1 a candidate whose log is behind is refused', () => {
    const c = new TestCluster([1, 2, 3], { preVote: false });
    c.elect(1);
    c.propose(1, 'x');
    c.run([1, 2]); // node 3 misses the entry
    c.restart(1);
    c.restart(2);
    c.node(3).campaign();
    c.run([2, 3]);
    expect(c.node(3).status().role).not.toBe('leader');
    c.node(2).campaign();
    c.run([2, 3]);
    expect(c.node(2).status().role).toBe('leader');
  });
});

describe('§9.6 PreVote and §6.2 CheckQuorum', () => {
  it('an isolated follower does not inflate its term, so it cannot depose the leader when it returns', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const term = c.node(1).status().term;
    c.tick(10 * DEFAULT_CONFIG.electionTick, [3]);
    expect(c.node(3).status().term).toBe(term);
    expect(c.node(3).status().role).toBe('preCandidate');
    c.tick(2, [1, 2, 3]);
    expect(c.node(1).status()).toMatchObject({ role: 'leader', term });
  });

  it('a leader that hears from no majority for an election timeout steps down', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    // Activity is sampled once per election timeout: the first round still sees the old acks.
    c.tick(2 * DEFAULT_CONFIG.electionTick, [1]);
    expect(c.node(1).status().role).toBe('follower');
  });
});

describe('§5.3 log replication', () => {
  it('batches many proposals into one MsgApp per follower', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const before = apps(c, 2).length;
    for (let i = 0; i < 100; i++) c.propose(1, `p${i}`);
    c.run();
    const sent = apps(c, 2).slice(before);
    expect(sent[0].entries).toHaveLength(100);
    expect(c.applied.get(2)).toHaveLength(100);
  });

  it('respects maxSizePerMsg and pipelines up to maxInflightMsgs appends before any ack', () => {
    const c = new TestCluster([1, 2, 3], { maxSizePerMsg: 10, maxInflightMsgs: 4 });
    c.elect(1);
    for (let i = 0; i < 20; i++) c.propose(1, `entry-${i}`); // 7-8 bytes each: one per message
    const queued = c.takeQueued();
    const out = queued.filter((m): m is MsgApp => m.kind === 'app' && m.to === 2);
    expect(out).toHaveLength(4);
    for (const m of out) expect(m.entries).toHaveLength(1);
    for (const m of queued) c.node(m.to).step(m);
    c.run();
    expect(c.applied.get(2)).toHaveLength(20);
  });

  it('fast backtracking: a follower with a long divergent suffix converges in a few round trips', () => {
    const c = new TestCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.elect(1);
    // Node 1, cut off, appends 50 entries nobody else gets.
    for (let i = 0; i < 50; i++) c.propose(1, `stale-${i}`);
    c.run([1]);
    // Meanwhile 2 and 3 commit 50 entries in a later term.
    c.elect(2, [2, 3]);
    for (let i = 0; i < 50; i++) c.propose(2, `good-${i}`);
    c.run([2, 3]);
    c.restart(1);
    const before = c.sent.length;
    c.tick(2);
    const rejects = c.sent.slice(before).filter((m) => m.kind === 'appResp' && m.from === 1 && m.reject);
    expect(rejects.length).toBeLessThanOrEqual(3);
    expect(c.applied.get(1)!.filter((s) => s.startsWith('good'))).toHaveLength(50);
    expect(c.disks.get(1)!.lastIndex()).toBe(c.disks.get(2)!.lastIndex());
  });
});

describe('§7 log compaction', () => {
  it('a follower behind the compacted log receives and installs a snapshot', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    for (let i = 0; i < 10; i++) c.propose(1, `a${i}`);
    c.run([1, 2]);
    const disk = c.disks.get(1)!;
    const applied = c.node(1).status().applied;
    disk.createSnapshot(applied, c.node(1).confStateAt(applied), text('image'));
    disk.compact(applied);
    c.tick(2);
    expect(c.sent.some((m) => m.kind === 'snap' && m.to === 3)).toBe(true);
    expect(c.disks.get(3)!.snapshot().meta.index).toBe(applied);
    c.node(1).reportSnapshot(3, true);
    c.propose(1, 'after');
    c.tick(2);
    expect(c.applied.get(3)).toEqual(['after']);
  });
});

describe('§4.1 membership changes, one server at a time', () => {
  it('a learner receives the log but neither votes nor counts toward commit', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.addEmpty(4);
    c.run();
    expect(c.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    c.propose(1, 'seen-by-learner');
    c.run();
    expect(c.applied.get(4)).toContain('seen-by-learner');
    // With two voters down, the learner's acknowledgement is not enough.
    const commit = c.node(1).status().commit;
    c.propose(1, 'stuck');
    c.run([1, 4]);
    expect(c.node(1).status().commit).toBe(commit);
    c.tick(5 * DEFAULT_CONFIG.electionTick, [4]);
    expect(c.node(4).status().role).toBe('follower');
  });

  it('promotes a learner, removes a follower, and refuses overlapping changes', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.addEmpty(4);
    expect(c.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    expect(c.node(1).proposeConfChange({ kind: 'addVoter', node: 4 })).toMatchObject({ kind: 'rejected', reason: 'another conf change is pending' });
    c.run();
    expect(c.node(1).proposeConfChange({ kind: 'addVoter', node: 4 }).kind).toBe('ok');
    c.run();
    expect(c.node(1).proposeConfChange({ kind: 'remove', node: 3 }).kind).toBe('ok');
    c.run();
    for (const id of [1, 2, 4]) expect(c.node(id).status().conf).toEqual({ voters: [1, 2, 4], learners: [] });
    c.propose(1, 'without-3');
    c.run([1, 2, 4]);
    expect(c.applied.get(4)).toContain('without-3');
  });

  it('a new leader changes membership only after committing an entry of its term', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1, [1, 2, 3], (m) => m.kind !== 'appResp'); // elected, but its no-op is not yet committed
    expect(c.node(1).proposeConfChange({ kind: 'remove', node: 3 })).toMatchObject({ kind: 'rejected' });
    c.tick(1);
    expect(c.node(1).proposeConfChange({ kind: 'remove', node: 3 }).kind).toBe('ok');
  });

  it('removing the leader: it hands over and steps down once the removal commits', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).proposeConfChange({ kind: 'remove', node: 1 }).kind).toBe('ok');
    c.run();
    expect(c.node(1).status().role).toBe('follower');
    const leaders = [2, 3].filter((id) => c.node(id).status().role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(c.node(leaders[0]).status().conf.voters).toEqual([2, 3]);
  });
});

describe('§3.10 leadership transfer', () => {
  it('TimeoutNow makes the target leader; proposals are refused meanwhile', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).transferLeader(3);
    expect(c.node(1).propose(text('during')).kind).toBe('rejected');
    c.run();
    expect(c.node(3).status().role).toBe('leader');
    expect(c.node(1).status().lead).toBe(3);
  });
});

describe('§6.4 ReadIndex', () => {
  it('the leader answers only after a heartbeat round confirms it still leads; followers forward', () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).readIndex(text('r1'));
    let rd = c.node(1).ready();
    expect(rd.readStates).toHaveLength(0);
    expect(rd.messages.filter((m) => m.kind === 'heartbeat')).toHaveLength(2);
    c.node(1).advance(rd);
    for (const m of rd.messages) c.node(m.to).step(m);
    for (const id of [2, 3]) {
      const r = c.node(id).ready();
      for (const m of r.messages) c.node(1).step(m);
      c.node(id).advance(r);
    }
    rd = c.node(1).ready();
    expect(rd.readStates).toEqual([{ index: c.node(1).status().commit, ctx: text('r1') }]);
    c.node(1).advance(rd);

    c.node(2).readIndex(text('r2'));
    c.run();
    expect(c.sent.some((m) => m.kind === 'readIndex' && m.from === 2 && m.to === 1)).toBe(true);
    expect(c.reads.get(2)).toEqual([{ index: c.node(1).status().commit, ctx: 'r2' }]);
  });

  it('with a lease the leader answers at once', () => {
    const storage = MemoryStorage.bootstrap([1]);
    const n = new RawNode({ ...DEFAULT_CONFIG, id: 1, applied: 0, readOnly: 'lease' }, storage, new SeededRng(1));
    n.campaign();
    const rd = n.ready();
    storage.append(rd.entries);
    n.advance(rd);
    n.readIndex(text('x'));
    expect(n.ready().readStates).toHaveLength(1);
  });
});

describe('flow control and quorum arithmetic', () => {
  it('Inflights frees acknowledged messages and reports fullness', () => {
    const f = new Inflights(3, Infinity);
    f.add(5, 10);
    f.add(8, 10);
    f.add(9, 10);
    expect(f.full()).toBe(true);
    f.freeLE(8);
    expect(f.count).toBe(1);
    f.freeFirstOne();
    expect(f.count).toBe(0);
  });

  it('Progress ignores stale rejections and backs off to the hint in probe state', () => {
    const p = new Progress(11, 4, Infinity, false);
    expect(p.maybeDecrTo(5, 3)).toBe(false); // not the outstanding probe (next-1 = 10)
    expect(p.maybeDecrTo(10, 3)).toBe(true);
    expect(p.next).toBe(4);
    p.maybeUpdate(6);
    p.becomeReplicate();
    expect(p.maybeDecrTo(5, 0)).toBe(false); // below match: stale
  });

  it('committedIndex and voteResult agree with a brute-force model', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 7 }), fc.array(fc.constantFrom(true, false, undefined), { minLength: 7, maxLength: 7 }), (matches, votes) => {
        const voters = matches.map((_, i) => i + 1);
        const quorum = Math.floor(voters.length / 2) + 1;
        let naive = 0;
        for (let i = 0; i <= 20; i++) if (matches.filter((m) => m >= i).length >= quorum) naive = i;
        expect(committedIndex(voters, (id) => matches[id - 1])).toBe(naive);
        const map = new Map(voters.flatMap((id) => (votes[id - 1] === undefined ? [] : [[id, votes[id - 1]!] as [number, boolean]])));
        const yes = voters.filter((id) => map.get(id) === true).length;
        const no = voters.filter((id) => map.get(id) === false).length;
        const expected = yes >= quorum ? 'won' : voters.length - no < quorum ? 'lost' : 'pending';
        expect(voteResult(voters, map)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
