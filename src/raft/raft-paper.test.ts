/**
 * The Raft core against the paper, section by section (in the style of
 * etcd-io/raft's raft_paper_test.go / raft_test.go; our own code).
 * Elections §5.2, the election restriction §5.4.1, terms §5.1, replication §5.3,
 * commitment §5.4.2, PreVote/CheckQuorum (dissertation §9.6, §6.2), log
 * compaction §7, restart from stable storage §5.1/Figure 2.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, RawNode } from './index.js';
import type { Entry, Message, MsgApp, RaftConfig } from './types.js';
import { Network, SeededRng, bytes, entsWithTerms, storageWith } from '../../test/support/raft-harness.js';

const ET = DEFAULT_CONFIG.electionTick;
const EMPTY = new Uint8Array(0);

/** One node of {1,2,3} on a hand-built log, driven directly (no network). */
function lone(ents: Entry[], hs: { term: number; vote?: number; commit?: number }, cfg: Partial<RaftConfig> = {}, id = 1): RawNode {
  const st = storageWith([1, 2, 3], ents, hs);
  return new RawNode({ ...DEFAULT_CONFIG, preVote: false, checkQuorum: false, ...cfg, id, applied: 0 }, st, new SeededRng(id));
}

/** Messages the node wants sent (its Readys drained; nothing persisted anywhere). */
function outbox(n: RawNode): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    out.push(...rd.messages);
    n.advance(rd);
  }
  return out;
}

const vote = (from: number, term: number, index: number, logTerm: number, kind: 'vote' | 'preVote' = 'vote', transfer = false): Message => ({ kind, from, to: 1, term, index, logTerm, transfer });
const heartbeat = (from: number, term: number, commit = 0): Message => ({ kind: 'heartbeat', from, to: 1, term, commit, ctx: EMPTY });

describe('§5.2 leader election', () => {
  it('a single-node group elects itself at once on campaign, then by timeout after a restart', () => {
    const net = new Network([1]);
    net.node(1).campaign();
    expect(net.status(1)).toMatchObject({ role: 'leader', term: 2, lead: 1 });
    expect(net.propose(1, 'solo')).toBeGreaterThan(0);
    net.stabilize();
    expect(net.sm.get(1)).toEqual(['solo']);
    expect(net.sent).toHaveLength(0);

    net.start(1); // restart: a follower again
    expect(net.status(1).role).toBe('follower');
    net.tickAll(2 * ET);
    expect(net.status(1)).toMatchObject({ role: 'leader', term: 3 });
  });

  it.each([1, 2, 3, 4, 5, 6])('three nodes elect exactly one leader by timeouts and keep it (seed %i)', (seed) => {
    const net = new Network([1, 2, 3], { seed });
    let ticks = 0;
    while (net.leaders().length === 0 && ticks < 10 * ET) {
      net.tickAll(1);
      ticks++;
    }
    expect(net.leaders()).toHaveLength(1);
    expect(ticks).toBeLessThan(2 * ET + 1); // the first timeout wins: nobody else is campaigning
    const leader = net.leaders()[0];
    const { term } = net.status(leader);
    for (const id of [1, 2, 3]) expect(net.status(id)).toMatchObject({ lead: leader, term });
    net.tickAll(10 * ET);
    expect(net.leaders()).toEqual([leader]);
    expect(net.status(leader).term).toBe(term);
  });

  it('a node grants at most one vote per term, first come first served (§5.2)', () => {
    const n = lone(entsWithTerms(1, [1]), { term: 1 });
    const steps: { m: Message; reject: boolean | undefined; vote: number }[] = [
      { m: vote(2, 2, 1, 1), reject: false, vote: 2 },
      { m: vote(3, 2, 1, 1), reject: true, vote: 2 }, // already voted for 2 in term 2
      { m: vote(2, 2, 1, 1), reject: false, vote: 2 }, // a retransmission from the same candidate
      { m: vote(3, 3, 1, 1), reject: false, vote: 3 }, // a new term: a new vote
      { m: vote(2, 3, 1, 1), reject: true, vote: 3 },
      { m: vote(2, 2, 1, 1), reject: undefined, vote: 3 }, // stale term: ignored
    ];
    for (const [i, s] of steps.entries()) {
      n.step(s.m);
      const resps = outbox(n).filter((m) => m.kind === 'voteResp');
      if (s.reject === undefined) expect(resps, `step ${i}`).toEqual([]);
      else expect(resps.map((m) => (m.kind === 'voteResp' ? m.reject : null)), `step ${i}`).toEqual([s.reject]);
      expect(n.status().vote, `step ${i}`).toBe(s.vote);
    }
  });

  it('the vote is durable before the response is sent (it is in the same Ready as the grant)', () => {
    const n = lone(entsWithTerms(1, [1]), { term: 1 });
    n.step(vote(2, 2, 1, 1));
    const rd = n.ready();
    expect(rd.hardState).toMatchObject({ term: 2, vote: 2 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.some((m) => m.kind === 'voteResp' && !m.reject)).toBe(true);
  });

  // Voter log: terms [1, 2, 2] (last index 3, last term 2).
  describe.each(['vote', 'preVote'] as const)('§5.4.1 the election restriction (%s)', (kind) => {
    it.each([
      { index: 3, logTerm: 2, grant: true },
      { index: 4, logTerm: 2, grant: true },
      { index: 1, logTerm: 3, grant: true }, // shorter, but a later last term
      { index: 2, logTerm: 2, grant: false }, // same last term, shorter
      { index: 5, logTerm: 1, grant: false }, // longer, but an older last term
      { index: 0, logTerm: 0, grant: false },
    ])('candidate with last entry ($index, term $logTerm) → grant $grant', ({ index, logTerm, grant }) => {
      const n = lone(entsWithTerms(1, [1, 2, 2]), { term: 2 }, { preVote: kind === 'preVote' });
      n.step(vote(2, 3, index, logTerm, kind));
      const resps = outbox(n).filter((m) => m.kind === (kind === 'vote' ? 'voteResp' : 'preVoteResp'));
      expect(resps).toHaveLength(1);
      expect(resps[0].kind !== 'app' && 'reject' in resps[0] && resps[0].reject).toBe(!grant);
      // A real vote moves the voter to the candidate's term either way; a pre-vote moves nothing.
      expect(n.status().term).toBe(kind === 'vote' ? 3 : 2);
      expect(n.status().vote).toBe(kind === 'vote' && grant ? 2 : 0);
    });
  });

  it('§5.4.1 in a cluster: a candidate missing a committed entry cannot win', () => {
    const net = new Network([1, 2, 3], { cfg: { preVote: false } });
    net.elect(1);
    net.partition([1, 2], [3]);
    const idx = net.propose(1, 'committed');
    net.stabilize();
    expect(net.status(1).commit).toBe(idx);
    // The leader dies; 3 (stale) campaigns against 2 (up to date).
    net.stop(1);
    net.partition([2, 3]);
    net.node(3).campaign();
    net.stabilize();
    expect(net.status(3).role).not.toBe('leader');
    net.tick([2, 3], 4 * ET);
    expect(net.leaders()).toEqual([2]);
    expect(net.sm.get(3)).toEqual(['committed']);
  });

  it('§5.2 a candidate that neither wins nor loses starts a new election after a timeout (PreVote: without raising its term)', () => {
    for (const preVote of [false, true]) {
      const net = new Network([1, 2, 3], { cfg: { preVote } });
      net.isolate(1);
      net.node(1).campaign();
      net.stabilize();
      const first = net.status(1);
      expect(first.role).toBe(preVote ? 'preCandidate' : 'candidate');
      net.tick([1], 2 * ET);
      const votes = net.count(preVote ? 'preVote' : 'vote', { from: 1 }, net.sent);
      expect(votes, `preVote=${preVote}`).toBeGreaterThanOrEqual(4); // at least two rounds to two peers
      if (preVote) expect(net.status(1)).toMatchObject({ role: 'preCandidate', term: first.term });
      else expect(net.status(1).term).toBeGreaterThan(first.term);
    }
  });

  it('§5.2 a candidate steps down on a heartbeat/append from a leader of its term', () => {
    for (const preVote of [false, true]) {
      const n = lone(entsWithTerms(1, [1]), { term: 1 }, { preVote });
      n.campaign();
      outbox(n);
      const { term, role } = n.status();
      expect(role).toBe(preVote ? 'preCandidate' : 'candidate');
      n.step(heartbeat(2, term));
      expect(n.status()).toMatchObject({ role: 'follower', lead: 2, term });
    }
  });

  it('the new leader appends a no-op entry of its own term, and everyone commits and applies it (§5.4.2, §8)', () => {
    const net = new Network([1, 2, 3]);
    const before = net.status(1).lastIndex;
    net.elect(1);
    const s = net.status(1);
    expect(s.lastIndex).toBe(before + 1);
    for (const id of [1, 2, 3]) {
      const last = net.appliedEntries.get(id)!.at(-1)!;
      expect(last).toMatchObject({ index: before + 1, term: s.term, type: 'normal' });
      expect(last.data.length).toBe(0);
      expect(net.status(id).commit).toBe(before + 1);
    }
    expect(net.sm.get(2)).toEqual([]); // the no-op is not a command
  });
});

describe('§5.1 terms', () => {
  const roles = [
    { role: 'follower', preVote: false, make: (net: Network) => void net },
    { role: 'preCandidate', preVote: true, make: (net: Network) => net.node(1).campaign() },
    { role: 'candidate', preVote: false, make: (net: Network) => net.node(1).campaign() },
    { role: 'leader', preVote: false, make: (net: Network) => net.elect(1) },
  ] as const;
  const incoming = [
    { kind: 'heartbeat', m: (term: number) => heartbeat(2, term), lead: 2, vote: 0 },
    { kind: 'app', m: (term: number): Message => ({ kind: 'app', from: 2, to: 1, term, index: 0, logTerm: 0, entries: [], commit: 0 }), lead: 2, vote: 0 },
    { kind: 'vote', m: (term: number) => vote(3, term, 100, 100), lead: 0, vote: 3 },
    { kind: 'appResp', m: (term: number): Message => ({ kind: 'appResp', from: 2, to: 1, term, index: 0, reject: false, rejectHint: 0, hintTerm: 0 }), lead: 0, vote: 0 },
  ] as const;
  for (const r of roles) {
    it.each(incoming)(`a ${r.role} that sees a higher term in $kind becomes a follower of that term`, ({ m, lead, vote: v }) => {
      const net = new Network([1, 2, 3], { cfg: { preVote: r.preVote, checkQuorum: false } });
      r.make(net);
      expect(net.status(1).role).toBe(r.role);
      net.node(1).step(m(10));
      expect(net.status(1)).toMatchObject({ role: 'follower', term: 10, lead, vote: v });
    });
  }

  it('a message from a stale term is not acted on; a stale leader is told the newer term', () => {
    const n = lone(entsWithTerms(1, [1, 2]), { term: 3, commit: 1 }, { preVote: true, checkQuorum: true });
    n.step({ kind: 'app', from: 2, to: 1, term: 2, index: 2, logTerm: 2, entries: entsWithTerms(3, [2]), commit: 3 });
    n.step(heartbeat(2, 2, 2));
    n.step(vote(2, 2, 9, 9));
    const out = outbox(n);
    expect(n.status()).toMatchObject({ term: 3, lead: 0, vote: 0, lastIndex: 2, commit: 1 });
    expect(out.map((m) => [m.kind, m.to, m.term])).toEqual([
      ['appResp', 2, 3],
      ['appResp', 2, 3],
    ]);
  });
});

describe('PreVote (dissertation §9.6) and CheckQuorum (§6.2)', () => {
  it.each([
    { preVote: true, checkQuorum: true, disrupts: false },
    { preVote: true, checkQuorum: false, disrupts: false },
    { preVote: false, checkQuorum: false, disrupts: true }, // the problem PreVote solves
  ])('a partitioned node that rejoins (preVote $preVote, checkQuorum $checkQuorum) disrupts the leader: $disrupts', ({ preVote, checkQuorum, disrupts }) => {
    const net = new Network([1, 2, 3], { cfg: { preVote, checkQuorum } });
    net.elect(1);
    const { term } = net.status(1);
    net.isolate(3);
    net.tickAll(5 * ET);
    expect(net.status(1)).toMatchObject({ role: 'leader', term });
    if (preVote) expect(net.status(3).term).toBe(term);
    net.heal();
    net.tickAll(3 * ET);
    if (disrupts) {
      expect(net.status(1).term).toBeGreaterThan(term);
    } else {
      for (const id of [1, 2, 3]) expect(net.status(id)).toMatchObject({ term, lead: 1 });
      expect(net.status(1).role).toBe('leader');
    }
  });

  it('a follower that hears from a leader ignores (pre)votes for a later term until an election timeout passes', () => {
    const n = lone(entsWithTerms(1, [1]), { term: 2 }, { preVote: true, checkQuorum: true });
    n.step(heartbeat(2, 2));
    outbox(n);
    n.step(vote(3, 3, 5, 5, 'preVote'));
    n.step(vote(3, 3, 5, 5, 'vote'));
    expect(outbox(n)).toEqual([]);
    expect(n.status()).toMatchObject({ term: 2, lead: 2 });
    // ... unless the leader handed over (TimeoutNow).
    n.step(vote(3, 3, 5, 5, 'vote', true));
    expect(outbox(n).map((m) => m.kind === 'voteResp' && !m.reject)).toEqual([true]);
    expect(n.status()).toMatchObject({ term: 3, vote: 3 });
  });

  it('once the lease ran out, a follower grants again', () => {
    const n = lone(entsWithTerms(1, [1]), { term: 2 }, { preVote: true, checkQuorum: true, electionTick: 1000 });
    n.step(heartbeat(2, 2));
    outbox(n);
    for (let i = 0; i < 1000; i++) n.tick();
    outbox(n);
    n.step(vote(3, 3, 5, 5, 'preVote'));
    const out = outbox(n);
    expect(out.map((m) => m.kind === 'preVoteResp' && !m.reject)).toEqual([true]);
  });

  it.each([
    { checkQuorum: true, stepsDown: true },
    { checkQuorum: false, stepsDown: false },
  ])('an isolated leader steps down within two election timeouts iff checkQuorum ($checkQuorum)', ({ checkQuorum, stepsDown }) => {
    const net = new Network([1, 2, 3], { cfg: { checkQuorum, preVote: checkQuorum } });
    net.elect(1);
    net.tickAll(3 * ET); // a connected leader keeps leading
    expect(net.status(1).role).toBe('leader');
    net.isolate(1);
    net.tick([1], 2 * ET);
    expect(net.status(1).role).toBe(stepsDown ? 'follower' : 'leader');
  });

  it('after CheckQuorum deposes an isolated leader, the majority elects a new one and the old one follows it on healing', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const { term } = net.status(1);
    net.partition([1], [2, 3]);
    net.tickAll(4 * ET);
    expect(net.status(1).role).not.toBe('leader');
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    expect([2, 3]).toContain(leaders[0]);
    net.heal();
    net.tickAll(2);
    expect(net.leaders()).toEqual(leaders);
    expect(net.status(1)).toMatchObject({ lead: leaders[0], term: net.status(leaders[0]).term });
    expect(net.status(leaders[0]).term).toBeGreaterThan(term);
  });
});

describe('§5.3 log replication', () => {
  it('commits and applies proposals in order on every node', () => {
    const net = new Network([1, 2, 3, 4, 5]);
    net.elect(1);
    for (const s of ['a', 'b', 'c']) net.propose(1, s);
    net.stabilize();
    net.propose(1, 'd');
    net.stabilize();
    for (const id of [1, 2, 3, 4, 5]) expect(net.sm.get(id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a proposal to a follower is refused with the leader id', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    expect(net.node(2).propose(bytes('x'))).toEqual({ kind: 'notLeader', leader: 1 });
  });

  // Raft Figure 7: the leader of term 8 and followers (a)-(f); plus long divergent suffixes.
  const leader7 = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const rep = (t: number, n: number) => new Array<number>(n).fill(t);
  it.each([
    { name: 'Figure 7 (a): missing one entry', leader: leader7, follower: [1, 1, 1, 4, 4, 5, 5, 6, 6], maxRejects: 1 },
    { name: 'Figure 7 (b): missing many', leader: leader7, follower: [1, 1, 1, 4], maxRejects: 1 },
    { name: 'Figure 7 (c): one extra uncommitted entry', leader: leader7, follower: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], maxRejects: 0 },
    { name: 'Figure 7 (d): extra entries of a later term', leader: leader7, follower: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], maxRejects: 0 },
    { name: 'Figure 7 (e): missing and extra', leader: leader7, follower: [1, 1, 1, 4, 4, 4, 4], maxRejects: 1 },
    { name: 'Figure 7 (f): missing and extra of older terms', leader: leader7, follower: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], maxRejects: 1 },
    { name: '150 divergent entries of older terms', leader: [1, 1, 1, ...rep(5, 50)], follower: [1, 1, 1, ...rep(2, 100), ...rep(3, 50)], maxRejects: 1 },
    { name: '100 divergent entries of a later term than the leader has there', leader: [1, 1, 1, ...rep(4, 10), ...rep(6, 50)], follower: [1, 1, 1, ...rep(5, 100)], maxRejects: 2 },
    { name: 'far behind', leader: [1, 1, 1, ...rep(2, 200)], follower: [1, 1, 1], maxRejects: 1 },
  ])('fast backtracking: $name converges with at most $maxRejects rejections', ({ leader, follower, maxRejects }) => {
    const hsTerm = Math.max(...leader, ...follower);
    const storages = new Map([
      [1, storageWith([1, 2, 3], entsWithTerms(1, leader), { term: hsTerm, commit: 3 })],
      [2, storageWith([1, 2, 3], entsWithTerms(1, follower), { term: hsTerm, commit: 3 })],
      [3, storageWith([1, 2, 3], entsWithTerms(1, leader), { term: hsTerm, commit: 3 })],
    ]);
    const net = new Network([1, 2, 3], { storages });
    net.elect(1);
    net.propose(1, 'after');
    net.stabilize();
    const rejects = net.count('appResp', { from: 2, where: (m) => m.kind === 'appResp' && m.reject });
    expect(rejects).toBeLessThanOrEqual(maxRejects);
    expect(net.diskTerms(2)).toEqual(net.diskTerms(1));
    expect(net.status(2).commit).toBe(net.status(1).lastIndex);
    expect(net.sm.get(2)).toEqual(net.sm.get(1));
  });

  it('a MsgApp lost in the replicate state is recovered on the next heartbeat', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    expect(net.status(1).progress.get(2)?.state).toBe('replicate');
    net.filter = (m) => !(m.kind === 'app' && m.to === 2);
    const idx = net.propose(1, 'lost once');
    net.stabilize();
    expect(net.status(2).lastIndex).toBeLessThan(idx);
    net.filter = undefined;
    net.tick([1], DEFAULT_CONFIG.heartbeatTick);
    expect(net.status(2).lastIndex).toBe(idx);
    expect(net.sm.get(2)).toEqual(['lost once']);
  });

  it('proposals made between two Readys travel in one MsgApp per follower', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const from = net.sent.length;
    for (let i = 0; i < 10; i++) net.propose(1, `p${i}`);
    net.stabilize();
    const apps = net.sent.slice(from).filter((m): m is MsgApp => m.kind === 'app' && m.to === 2 && m.entries.length > 0);
    expect(apps).toHaveLength(1);
    expect(apps[0].entries).toHaveLength(10);
    expect(net.sm.get(2)).toHaveLength(10);
  });

  it.each([
    { maxInflightMsgs: 256, proposals: 4, inFlight: 4 },
    { maxInflightMsgs: 2, proposals: 4, inFlight: 2 },
    { maxInflightMsgs: 1, proposals: 3, inFlight: 1 },
  ])('pipelining: up to maxInflightMsgs ($maxInflightMsgs) MsgApps are in flight to a follower in replicate', ({ maxInflightMsgs, proposals, inFlight }) => {
    const net = new Network([1, 2, 3], { cfg: { maxInflightMsgs } });
    net.elect(1);
    expect(net.status(1).progress.get(2)?.state).toBe('replicate');
    for (let i = 0; i < proposals; i++) {
      net.propose(1, `p${i}`);
      net.flush(); // send, but deliver nothing
    }
    const apps = net.queue.filter((m): m is MsgApp => m.kind === 'app' && m.to === 2);
    expect(apps).toHaveLength(inFlight);
    // Optimistic: each starts where the previous one ended.
    for (let i = 1; i < apps.length; i++) expect(apps[i].index).toBe(apps[i - 1].index + apps[i - 1].entries.length);
    net.stabilize();
    expect(net.sm.get(2)).toHaveLength(proposals);
    expect(net.status(1).progress.get(2)).toMatchObject({ state: 'replicate', match: net.status(1).lastIndex });
  });

  it('maxSizePerMsg bounds the entry bytes of each MsgApp (at least one entry each)', () => {
    const maxSizePerMsg = 100;
    const net = new Network([1, 2, 3], { cfg: { maxSizePerMsg } });
    net.elect(1);
    net.isolate(3); // 3 will catch up later in bulk
    const from = net.sent.length;
    net.node(1).proposeBatch(Array.from({ length: 20 }, (_, i) => bytes(String(i).padStart(30, '.'))));
    net.node(1).propose(bytes('x'.repeat(250))); // bigger than the limit alone
    net.stabilize();
    net.heal();
    net.tickAll(1);
    const apps = net.sent.slice(from).filter((m): m is MsgApp => m.kind === 'app' && m.entries.length > 0);
    expect(apps.length).toBeGreaterThanOrEqual(2 * Math.ceil((20 * 30) / maxSizePerMsg));
    for (const m of apps) {
      const size = m.entries.reduce((s, e) => s + e.data.length, 0);
      if (m.entries.length > 1) expect(size).toBeLessThanOrEqual(maxSizePerMsg);
    }
    expect(apps.some((m) => m.entries.length === 1 && m.entries[0].data.length === 250)).toBe(true);
    for (const id of [2, 3]) expect(net.sm.get(id)).toEqual(net.sm.get(1));
    expect(net.sm.get(1)).toHaveLength(21);
  });

  it('a follower rejects a MsgApp that does not match its log and tells the leader where to retry (§5.3)', () => {
    const n = lone(entsWithTerms(1, [1, 1, 2]), { term: 3, commit: 1 }, {}, 1);
    n.step({ kind: 'app', from: 2, to: 1, term: 3, index: 3, logTerm: 3, entries: entsWithTerms(4, [3]), commit: 4 });
    const [resp] = outbox(n);
    expect(resp).toMatchObject({ kind: 'appResp', reject: true, index: 3, rejectHint: 3, hintTerm: 2 });
    expect(n.status()).toMatchObject({ lastIndex: 3, commit: 1 });
    // An append below our commit index is answered with the commit index.
    n.step({ kind: 'app', from: 2, to: 1, term: 3, index: 0, logTerm: 0, entries: entsWithTerms(1, [1]), commit: 1 });
    expect(outbox(n)).toEqual([expect.objectContaining({ kind: 'appResp', reject: false, index: 1 })]);
  });

  it('a follower commits no further than the leader told it AND than what it verified it holds', () => {
    const n = lone(entsWithTerms(1, [1, 1, 1, 1, 1]), { term: 2, commit: 1 });
    // The leader (commit 5) only verified our log up to index 2.
    n.step({ kind: 'app', from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries: entsWithTerms(2, [1]), commit: 5 });
    expect(n.status().commit).toBe(2);
    n.step(heartbeat(2, 2, 4));
    expect(n.status().commit).toBe(4);
  });
});

describe('§5.4.2 committing entries from previous terms (Figure 8)', () => {
  it('a leader does not commit an older-term entry held by a majority until an entry of its term is', () => {
    // 1 and 2 hold [t1, t2, t2]; 3 holds [t1]. 1 becomes leader of term 3 and replicates index 3 (term 2)
    // to 3; its no-op (term 3) is lost. Index 3 is then on all three nodes, yet it must stay uncommitted.
    const storages = new Map([
      [1, storageWith([1, 2, 3], entsWithTerms(1, [1, 2, 2]), { term: 2, commit: 1 })],
      [2, storageWith([1, 2, 3], entsWithTerms(1, [1, 2, 2]), { term: 2, commit: 1 })],
      [3, storageWith([1, 2, 3], entsWithTerms(1, [1]), { term: 2, commit: 1 })],
    ]);
    const net = new Network([1, 2, 3], { storages, cfg: { maxSizePerMsg: 0 } });
    const carriesCurrentTerm = (m: Message) => m.kind === 'app' && m.entries.some((e) => e.term === 3);
    // The first probe to 3 must get through (3 rejects it: it lacks index 3); every other
    // MsgApp carrying the no-op is lost.
    let probed3 = false;
    net.filter = (m) => {
      if (!carriesCurrentTerm(m)) return true;
      if (m.to === 3 && !probed3) return (probed3 = true);
      return false;
    };
    net.elect(1);
    expect(net.status(1).term).toBe(3);
    expect(net.diskTerms(3)).toEqual([1, 2, 2]);
    expect(net.status(1).progress.get(3)?.match).toBe(3);
    for (const id of [1, 2, 3]) expect(net.status(id).commit, `node ${id}`).toBe(1);
    net.tick([1, 2, 3], 2);
    for (const id of [1, 2, 3]) expect(net.status(id).commit, `node ${id}`).toBe(1);

    net.filter = undefined;
    net.tick([1], DEFAULT_CONFIG.heartbeatTick);
    for (const id of [1, 2, 3]) expect(net.status(id).commit, `node ${id}`).toBe(4);
  });
});

describe('§7 log compaction and InstallSnapshot', () => {
  it('a follower that missed compacted entries receives a snapshot, installs it and catches up', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1, `b${i}`);
    net.stabilize();
    const snap = net.compact(1);
    expect(net.disks.get(1)!.firstIndex()).toBe(snap.meta.index + 1);
    net.heal();
    net.tickAll(1);
    expect(net.count('snap', { from: 1, to: 3 })).toBe(1);
    expect(net.snapshotsReceived.get(3)!.map((s) => s.meta.index)).toEqual([snap.meta.index]);
    expect(net.disks.get(3)!.snapshot().meta.index).toBe(snap.meta.index);
    expect(net.sm.get(3)).toEqual(net.sm.get(1));
    expect(net.status(1).progress.get(3)).toMatchObject({ state: 'replicate', match: net.status(1).lastIndex });
    net.propose(1, 'after');
    net.stabilize();
    expect(net.sm.get(3)).toEqual(['a', ...Array.from({ length: 10 }, (_, i) => `b${i}`), 'after']);
    expect(net.status(3).conf.voters).toEqual([1, 2, 3]);
  });

  it('a member added after compaction starts from a snapshot carrying the membership', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    for (let i = 0; i < 5; i++) net.propose(1, `v${i}`);
    net.stabilize();
    const snap = net.compact(1);
    net.addNode(4);
    expect(net.node(1).proposeConfChange({ kind: 'addVoter', node: 4 }).kind).toBe('ok');
    net.stabilize();
    expect(net.count('snap', { to: 4 })).toBe(1);
    expect(snap.meta.conf).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(net.sm.get(4)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(net.status(4)).toMatchObject({ commit: net.status(1).commit, conf: { voters: [1, 2, 3, 4], learners: [] } });
    // And it is a full voter now: with two of the others down it still makes a majority of 4.
    net.stop(3);
    net.propose(1, 'w');
    net.stabilize();
    expect(net.sm.get(4)).toContain('w');
    expect(net.status(1).commit).toBe(net.status(1).lastIndex);
  });

  it('a snapshot older than what the follower already committed is not installed', () => {
    const n = lone(entsWithTerms(1, [1, 1, 1, 1]), { term: 2, commit: 3 });
    const snap = { meta: { index: 2, term: 1, conf: { voters: [1, 2, 3], learners: [] } }, data: EMPTY };
    n.step({ kind: 'snap', from: 2, to: 1, term: 2, snapshot: snap });
    const out = outbox(n);
    expect(out).toEqual([expect.objectContaining({ kind: 'appResp', reject: false, index: 3 })]);
    expect(n.status()).toMatchObject({ lastIndex: 4, commit: 3 });
  });

  it('a snapshot matching an entry the follower holds only advances its commit', () => {
    const n = lone(entsWithTerms(1, [1, 1, 1, 1]), { term: 2, commit: 1 });
    n.step({ kind: 'snap', from: 2, to: 1, term: 2, snapshot: { meta: { index: 3, term: 1, conf: { voters: [1, 2, 3], learners: [] } }, data: EMPTY } });
    const rd = n.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(n.status()).toMatchObject({ lastIndex: 4, commit: 3 });
  });
});

describe('restart from stable storage (§5.1, Figure 2)', () => {
  it('a restarted node recovers term, vote, log and commit, and re-applies committed entries', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.propose(1, 'a');
    net.propose(1, 'b');
    net.stabilize();
    for (const id of [1, 2]) {
      const before = net.status(id);
      net.start(id);
      const after = net.status(id);
      expect(after).toMatchObject({ term: before.term, vote: before.vote, lastIndex: before.lastIndex, commit: before.commit, role: 'follower' });
      expect(after.conf).toEqual(before.conf);
    }
    expect(net.status(1).vote).toBe(1);
    net.stabilize();
    expect(net.sm.get(2)).toEqual(['a', 'b']);
    // The group carries on: someone leads again, nothing committed is lost.
    net.tickAll(3 * ET);
    const [leader] = net.leaders();
    expect(leader).toBeDefined();
    net.propose(leader, 'c');
    net.stabilize();
    for (const id of [1, 2, 3]) expect(net.sm.get(id)).toEqual(['a', 'b', 'c']);
  });

  it('a restarted node whose disk holds a snapshot resumes from it', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    for (let i = 0; i < 4; i++) net.propose(1, `s${i}`);
    net.stabilize();
    net.compact(2);
    net.propose(1, 'tail');
    net.stabilize();
    net.start(2);
    expect(net.status(2).conf.voters).toEqual([1, 2, 3]);
    net.stabilize();
    expect(net.sm.get(2)).toEqual(['s0', 's1', 's2', 's3', 'tail']);
  });
});
