/**
 * Membership changes one server at a time (Raft dissertation §4.1, §4.2.2 for
 * removing the leader, §4.2.1 learners/catch-up) and leadership transfer
 * (dissertation §3.10). A configuration is in force as soon as its entry is in
 * a node's log.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './index.js';
import type { Message } from './types.js';
import { Network, bytes } from '../../test/support/raft-harness.js';

const ET = DEFAULT_CONFIG.electionTick;
const isCampaign = (m: Message) => m.kind === 'vote' || m.kind === 'preVote';

describe('§4.1 membership changes', () => {
  it('a learner receives the log but neither votes, campaigns, nor counts toward commit', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.propose(1, 'before');
    net.stabilize();
    net.addNode(4);
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    net.propose(1, 'after');
    net.stabilize();
    expect(net.sm.get(4)).toEqual(['before', 'after']);
    for (const id of [1, 2, 3, 4]) expect(net.status(id).conf).toEqual({ voters: [1, 2, 3], learners: [4] });

    // Leader + learner are not a majority of {1,2,3}.
    net.partition([1, 4], [2, 3]);
    const commit = net.status(1).commit;
    const idx = net.propose(1, 'stuck');
    net.stabilize();
    expect(net.status(4).lastIndex).toBe(idx);
    expect(net.status(1).commit).toBe(commit);

    // An isolated learner never campaigns, and nobody asks it for a vote.
    net.heal();
    net.stabilize();
    net.isolate(4);
    net.tick([4], 10 * ET);
    expect(net.status(4)).toMatchObject({ role: 'follower', term: net.status(1).term });
    net.heal();
    net.isolate(1);
    net.tickAll(4 * ET);
    expect(net.leaders().filter((id) => id !== 1)).toHaveLength(1);
    expect(net.sent.filter((m) => isCampaign(m) && (m.from === 4 || m.to === 4))).toEqual([]);
  });

  it('a promoted learner counts toward the quorum of the larger configuration', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.addNode(4);
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    net.stabilize();
    expect(net.node(1).proposeConfChange({ kind: 'addVoter', node: 4 }).kind).toBe('ok');
    net.stabilize();
    for (const id of [1, 2, 3, 4]) expect(net.status(id).conf).toEqual({ voters: [1, 2, 3, 4], learners: [] });

    // Two of four is not a majority ...
    net.partition([1, 4], [2, 3]);
    const commit = net.status(1).commit;
    net.propose(1, 'x');
    net.stabilize();
    expect(net.status(1).commit).toBe(commit);
    // ... three of four is, and 4 is one of them (without it, {1,2} would be two of four).
    net.partition([1, 2, 4], [3]);
    net.tick([1, 2, 4], 1);
    expect(net.status(1).commit).toBe(net.status(1).lastIndex);
    net.partition([1, 2], [3, 4]);
    net.propose(1, 'y');
    net.stabilize();
    expect(net.status(1).commit).toBeLessThan(net.status(1).lastIndex);
  });

  it('removing a dead voter takes effect on append and restores availability (config in force before commit)', () => {
    const net = new Network([1, 2, 3, 4]);
    net.elect(1);
    net.stop(3);
    net.stop(4);
    const idx = net.propose(1, 'waiting');
    net.stabilize();
    expect(net.status(1).commit).toBeLessThan(idx); // 2 of 4
    const r = net.node(1).proposeConfChange({ kind: 'remove', node: 4 });
    expect(r.kind).toBe('ok');
    expect(net.status(1).conf.voters).toEqual([1, 2, 3]); // before anything is committed
    net.stabilize();
    // 2 of {1,2,3}: the removal and the entry before it commit.
    expect(net.status(1).commit).toBe(r.kind === 'ok' ? r.index : -1);
    expect(net.sm.get(2)).toEqual(['waiting']);
  });

  it('a removed follower receives nothing more and does not disturb the group', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    expect(net.node(1).proposeConfChange({ kind: 'remove', node: 3 }).kind).toBe('ok');
    net.stabilize();
    expect([...net.status(1).progress.keys()].sort()).toEqual([1, 2]);
    const { term } = net.status(1);
    const from = net.sent.length;
    net.propose(1, 'without 3');
    net.tickAll(5 * ET);
    expect(net.sent.slice(from).filter((m) => m.to === 3)).toEqual([]);
    // 3 never learns of its removal (the entry is in force on the leader before it is sent), so it
    // may keep pre-voting; the remaining voters, hearing from their leader, must ignore it.
    expect(net.sent.slice(from).filter((m) => m.from === 3 && m.kind !== 'preVote')).toEqual([]);
    expect(net.sm.get(2)).toEqual(['without 3']);
    expect(net.leaders()).toEqual([1]);
    for (const id of [1, 2, 3]) expect(net.status(id).term).toBe(term);
  });

  it('§4.2.2 removing the leader: it steps down once the removal commits and hands over to a caught-up voter', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const { term } = net.status(1);
    net.propose(1, 'a');
    net.stabilize();
    const from = net.sent.length;
    const r = net.node(1).proposeConfChange({ kind: 'remove', node: 1 });
    expect(r.kind).toBe('ok');
    expect(net.status(1).role).toBe('leader'); // still leads until the removal commits
    net.stabilize(); // no ticks: the handover must not wait for an election timeout
    expect(net.status(1).role).toBe('follower');
    expect(net.count('timeoutNow', { from: 1 })).toBe(1);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    const [l] = leaders;
    expect([2, 3]).toContain(l);
    expect(net.status(l).term).toBe(term + 1);
    expect(net.status(l).conf).toEqual({ voters: [2, 3], learners: [] });
    net.propose(l, 'b');
    net.tickAll(5 * ET);
    for (const id of [2, 3]) expect(net.sm.get(id)).toEqual(['a', 'b']);
    expect(net.leaders()).toEqual([l]);
    expect(net.sent.slice(from).filter((m) => isCampaign(m) && m.from === 1)).toEqual([]);
  });

  it('removing the leader while one follower is down: the other still takes over', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.stop(3);
    expect(net.node(1).proposeConfChange({ kind: 'remove', node: 1 }).kind).toBe('ok');
    net.stabilize();
    // {2,3} needs both: nothing commits and 1 keeps leading.
    expect(net.status(1).role).toBe('leader');
    net.start(3);
    net.tickAll(3 * ET);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    expect([2, 3]).toContain(leaders[0]);
    expect(net.status(1).role).toBe('follower');
  });

  it('refuses a conf change while another is uncommitted', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.addNode(4);
    net.addNode(5);
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 5 })).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/pending/) });
    net.stabilize();
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 5 }).kind).toBe('ok');
    net.stabilize();
    expect(net.status(1).conf).toEqual({ voters: [1, 2, 3], learners: [4, 5] });
  });

  it('refuses a conf change before the leader committed an entry of its term', () => {
    const net = new Network([1, 2, 3]);
    net.filter = (m) => m.kind !== 'app'; // votes get through, the no-op does not
    net.elect(1);
    expect(net.status(1).commit).toBeLessThan(net.status(1).lastIndex);
    expect(net.node(1).proposeConfChange({ kind: 'remove', node: 3 })).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/term/) });
    net.filter = undefined;
    net.tick([1], 1);
    expect(net.status(1).commit).toBe(net.status(1).lastIndex);
    expect(net.node(1).proposeConfChange({ kind: 'remove', node: 3 }).kind).toBe('ok');
  });

  it.each([
    { name: 'removing the last voter', voters: [1], cc: { kind: 'remove', node: 1 } as const, reason: /last voter/ },
    { name: 'adding an existing voter', voters: [1, 2, 3], cc: { kind: 'addVoter', node: 2 } as const, reason: /nothing/ },
    { name: 'removing a non-member', voters: [1, 2, 3], cc: { kind: 'remove', node: 9 } as const, reason: /nothing/ },
    { name: 'node id 0', voters: [1, 2, 3], cc: { kind: 'addVoter', node: 0 } as const, reason: /invalid/ },
  ])('refuses $name', ({ voters, cc, reason }) => {
    const net = new Network(voters);
    net.elect(1);
    expect(net.node(1).proposeConfChange(cc)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(reason) });
  });

  it('a follower answers a conf change with notLeader', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    expect(net.node(2).proposeConfChange({ kind: 'remove', node: 3 })).toEqual({ kind: 'notLeader', leader: 1 });
  });

  it('an uncommitted conf entry is in force on append, and rolled back when a new leader truncates it', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.partition([1], [2, 3]);
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    net.stabilize();
    expect(net.status(1).conf).toEqual({ voters: [1, 2, 3], learners: [4] });
    net.tick([2, 3], 4 * ET);
    const [l] = net.leaders().filter((id) => id !== 1);
    expect(l).toBeDefined();
    net.propose(l, 'new era');
    net.stabilize();
    net.heal();
    net.tickAll(2);
    expect(net.status(1)).toMatchObject({ role: 'follower', lead: l, conf: { voters: [1, 2, 3], learners: [] } });
    expect(net.sm.get(1)).toEqual(['new era']);
    // Its configuration history is consistent again: a later change applies cleanly.
    net.addNode(4);
    expect(net.node(l).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    net.stabilize();
    for (const id of [1, 2, 3, 4]) expect(net.status(id).conf).toEqual({ voters: [1, 2, 3], learners: [4] });
  });
});

describe('§3.10 leadership transfer', () => {
  it('to an up-to-date follower: TimeoutNow, and the target wins at once (despite the other voters’ leader lease)', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const { term } = net.status(1);
    net.node(1).transferLeader(2);
    net.stabilize();
    expect(net.count('timeoutNow', { from: 1, to: 2 })).toBe(1);
    expect(net.leaders()).toEqual([2]);
    expect(net.status(2).term).toBe(term + 1);
    expect(net.status(1)).toMatchObject({ role: 'follower', lead: 2 });
    expect(net.status(3)).toMatchObject({ role: 'follower', lead: 2 });
  });

  it('to a lagging follower: catches it up first, refuses proposals meanwhile', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.propose(1, `m${i}`);
    net.stabilize();
    net.heal();
    net.node(1).transferLeader(3);
    expect(net.node(1).propose(bytes('during'))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/transfer/) });
    expect(net.node(1).proposeConfChange({ kind: 'remove', node: 2 })).toMatchObject({ kind: 'rejected' });
    net.flush();
    expect(net.queue.filter((m) => m.kind === 'timeoutNow')).toEqual([]); // not before 3 caught up
    net.stabilize();
    expect(net.leaders()).toEqual([3]);
    expect(net.sm.get(3)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    net.propose(3, 'next');
    net.stabilize();
    expect(net.sm.get(1)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'next']);
  });

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.isolate(3);
    net.node(1).transferLeader(3);
    expect(net.node(1).propose(bytes('x')).kind).toBe('rejected');
    net.tick([1, 2], ET);
    expect(net.status(1).role).toBe('leader');
    expect(net.node(1).propose(bytes('x')).kind).toBe('ok');
  });

  it.each([
    { name: 'itself', target: 1 },
    { name: 'a non-member', target: 9 },
    { name: 'a learner', target: 4 },
  ])('a transfer to $name is ignored', ({ target }) => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.addNode(4);
    expect(net.node(1).proposeConfChange({ kind: 'addLearner', node: 4 }).kind).toBe('ok');
    net.stabilize();
    net.node(1).transferLeader(target);
    expect(net.node(1).propose(bytes('still leading')).kind).toBe('ok');
    net.tickAll(3);
    expect(net.leaders()).toEqual([1]);
    expect(net.count('timeoutNow')).toBe(0);
  });

  it('a transfer requested on a follower is forwarded to the leader', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.node(2).transferLeader(3);
    net.stabilize();
    expect(net.count('transferLeader', { from: 2, to: 1 })).toBe(1);
    expect(net.leaders()).toEqual([3]);
  });

  it('TimeoutNow makes even a PreVote node campaign immediately with a real vote', () => {
    const net = new Network([1, 2, 3], { cfg: { preVote: true } });
    net.elect(1);
    const from = net.sent.length;
    net.node(1).transferLeader(2);
    net.stabilize();
    const campaign = net.sent.slice(from).filter(isCampaign);
    expect(campaign.every((m) => m.kind === 'vote' && m.transfer)).toBe(true);
    expect(campaign.length).toBeGreaterThan(0);
  });
});
