/**
 * Linearizable reads without log writes (Raft dissertation §6.4): ReadIndex
 * confirmed by a heartbeat round ('safe'), and the leader lease (§6.4.1).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './index.js';
import { Network, bytes, text } from '../../test/support/raft-harness.js';

const ET = DEFAULT_CONFIG.electionTick;
const reads = (net: Network, id: number) => net.readStates.get(id)!.map((r) => ({ index: r.index, ctx: text(r.ctx) }));

describe('§6.4 ReadIndex (safe)', () => {
  it('the leader answers only after a majority acknowledged a heartbeat carrying the request', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const idx = net.propose(1, 'w');
    net.stabilize();
    const from = net.sent.length;
    net.node(1).readIndex(bytes('r1'));
    net.flush();
    expect(reads(net, 1)).toEqual([]);
    const hbs = net.queue.filter((m) => m.kind === 'heartbeat');
    expect(hbs.map((m) => m.to).sort()).toEqual([2, 3]);
    expect(hbs.every((m) => m.kind === 'heartbeat' && text(m.ctx) === 'r1')).toBe(true);
    // One acknowledgement (plus the leader's own) is a majority of 3.
    net.cut(3, 1);
    net.stabilize();
    expect(reads(net, 1)).toEqual([{ index: idx, ctx: 'r1' }]);
    expect(net.sent.length).toBeGreaterThan(from);
  });

  it('a leader cut off from the majority never answers (and a later heal serves the pending read)', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    net.node(1).readIndex(bytes('r'));
    net.stabilize();
    net.tick([1], 3);
    expect(reads(net, 1)).toEqual([]);
    net.heal();
    net.tick([1], 1); // the next heartbeat carries the pending ctx again
    expect(reads(net, 1)).toEqual([{ index: net.status(1).commit, ctx: 'r' }]);
  });

  it('a heartbeat quorum for a later request also releases earlier ones', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    net.node(1).readIndex(bytes('a'));
    net.stabilize();
    net.heal();
    net.node(1).readIndex(bytes('b'));
    net.filter = (m) => !(m.kind === 'heartbeatResp' && text(m.ctx) === 'a');
    net.stabilize();
    expect(reads(net, 1).map((r) => r.ctx)).toEqual(['a', 'b']);
  });

  it('a single voter answers at once', () => {
    const net = new Network([1]);
    net.elect(1);
    net.node(1).readIndex(bytes('solo'));
    net.stabilize();
    expect(reads(net, 1)).toEqual([{ index: net.status(1).commit, ctx: 'solo' }]);
    expect(net.sent).toEqual([]);
  });

  it('a follower’s request is forwarded to the leader and the answer covers every write committed before it', () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    const idx = net.propose(1, 'w');
    net.stabilize();
    net.node(2).readIndex(bytes('f'));
    net.stabilize();
    expect(net.count('readIndex', { from: 2, to: 1 })).toBe(1);
    expect(net.count('readIndexResp', { from: 1, to: 2 })).toBe(1);
    expect(reads(net, 2)).toEqual([{ index: idx, ctx: 'f' }]);
    expect(reads(net, 1)).toEqual([]);
  });

  it('a new leader defers reads until its no-op commits (its commit index may lag the old leader’s)', () => {
    const net = new Network([1, 2, 3]);
    net.filter = (m) => m.kind !== 'app';
    net.elect(1);
    const noop = net.status(1).lastIndex;
    expect(net.status(1).commit).toBeLessThan(noop);
    net.node(1).readIndex(bytes('early'));
    net.stabilize();
    expect(reads(net, 1)).toEqual([]);
    net.filter = undefined;
    net.tick([1], 1);
    expect(reads(net, 1)).toEqual([{ index: noop, ctx: 'early' }]);
  });
});

/**
 * A lease-reading node refuses votes for one election timeout after it starts
 * (it may have promised a leader just before a crash): let that pass with the
 * nodes cut off from each other, so that elect() works as usual.
 */
function leaseNetwork(seed?: number): Network {
  const net = new Network([1, 2, 3], { cfg: { readOnly: 'lease' }, seed });
  net.partition([1], [2], [3]);
  net.tickAll(ET);
  net.heal();
  return net;
}

/** One tick of node 1, every message delivered (a heartbeat round); then its lease read index. */
function leaseAfterHeartbeat(net: Network): number | undefined {
  net.tick([1], 1);
  return net.node(1).leaseReadIndex();
}

describe('§6.4.1 leader lease', () => {
  it('the leader answers from its lease without a round trip, once a heartbeat round established it', () => {
    const net = leaseNetwork();
    net.elect(1);
    const idx = net.propose(1, 'w');
    net.stabilize();
    expect(net.node(1).leaseReadIndex()).toBeUndefined(); // no heartbeat round acknowledged yet
    net.tick([1], 1); // a heartbeat round acknowledged by a quorum starts the lease
    net.stabilize();
    const from = net.sent.length;
    expect(net.node(1).leaseReadIndex()).toBe(idx);
    expect(net.node(2).leaseReadIndex()).toBeUndefined(); // followers never
    net.node(1).readIndex(bytes('l'));
    net.flush();
    expect(reads(net, 1)).toEqual([{ index: idx, ctx: 'l' }]);
    expect(net.sent.length).toBe(from);
  });

  it('the lease lapses electionTick - margin ticks after the last acknowledged heartbeat', () => {
    const net = leaseNetwork();
    net.elect(1);
    net.tick([1], 1);
    net.stabilize();
    expect(net.node(1).leaseReadIndex()).toBeDefined();
    net.isolate(1); // no acknowledgement renews it
    let lapsedAfter = 0;
    while (net.node(1).leaseReadIndex() !== undefined && lapsedAfter < 2 * ET) {
      net.tick([1], 1);
      lapsedAfter++;
    }
    expect(lapsedAfter).toBe(ET - 2); // 2: the margin for drift between tick rates (LEASE_MARGIN)
  });

  it('acknowledgements that arrive after the lease was dropped do not bring it back', () => {
    const net = leaseNetwork();
    net.elect(1);
    net.stabilize();
    net.node(1).tick(); // heartbeats out
    net.flush();
    for (const m of net.queue.splice(0)) net.deliver(m);
    net.flush(); // their acknowledgements queued, not yet delivered
    expect(net.queue.some((m) => m.kind === 'heartbeatResp')).toBe(true);
    net.node(1).dropLease(); // woken from quiescence, say
    net.stabilize();
    expect(net.node(1).leaseReadIndex()).toBeUndefined();
    expect(leaseAfterHeartbeat(net)).toBeDefined(); // a heartbeat sent after the drop renews it
  });

  it('an abandoned leadership transfer leaves no lease on the heartbeats acknowledged during it', () => {
    const net = leaseNetwork();
    net.elect(1);
    expect(leaseAfterHeartbeat(net)).toBeDefined();
    net.isolate(3); // the transfer cannot finish
    net.node(1).transferLeader(3);
    // Each tick's heartbeats are acknowledged by node 2 within the tick, the abandoning one's too.
    for (let ticks = 0; net.status(1).leadTransferee !== 0 && ticks < 2 * ET; ticks++) net.tick([1], 1);
    expect(net.status(1).leadTransferee).toBe(0);
    expect(net.node(1).leaseReadIndex()).toBeUndefined();
    expect(leaseAfterHeartbeat(net)).toBeDefined();
  });

  it("'safe' reads never skip the round", () => {
    const net = new Network([1, 2, 3]);
    net.elect(1);
    expect(leaseAfterHeartbeat(net)).toBeUndefined();
  });

  it('no lease reads during a leadership transfer', () => {
    const net = leaseNetwork();
    net.elect(1);
    net.tick([1], 1);
    net.isolate(3);
    net.node(1).transferLeader(3);
    expect(net.node(1).leaseReadIndex()).toBeUndefined();
    net.node(1).readIndex(bytes('t'));
    net.flush();
    expect(net.queue.some((m) => m.kind === 'heartbeat' && text(m.ctx) === 't')).toBe(true);
  });

  it('lease needs checkQuorum', () => {
    expect(() => new Network([1, 2, 3], { cfg: { readOnly: 'lease', checkQuorum: false } })).toThrow(/checkQuorum/);
  });

  // Perfect clocks: every node ticks in lockstep. CheckQuorum alone (etcd's lease) is not enough:
  // the old leader checks its quorum once per election timeout, so it may keep leading for up to
  // two timeouts after it last heard from the majority, which may elect a new leader after one.
  // The lease must run from the send tick of the last heartbeat a quorum acknowledged.
  it('an old leader never serves a lease read after a new leader has committed a write (zero clock drift)', () => {
    const violations: string[] = [];
    for (const seed of [1, 2, 3]) {
      for (let offset = 0; offset < ET; offset++) {
        const net = leaseNetwork(seed);
        net.elect(1);
        net.tickAll(offset); // vary where in its check-quorum period the leader is cut off
        net.partition([1], [2, 3]);
        let write: { index: number; at: number; leader: number } | undefined;
        for (let t = 1; t <= 3 * ET && !violations.some((v) => v.startsWith(`seed ${seed} offset ${offset}:`)); t++) {
          net.tickAll(1);
          const nl = [2, 3].find((id) => net.status(id).role === 'leader');
          if (nl !== undefined && write === undefined) {
            write = { index: net.propose(nl, 'new'), at: t, leader: nl };
            net.stabilize();
            expect(net.status(nl).commit).toBe(write.index);
          }
          if (write && net.status(1).role === 'leader') {
            const ctx = `s${seed}o${offset}t${t}`;
            net.node(1).readIndex(bytes(ctx));
            net.flush();
            const r = reads(net, 1).find((x) => x.ctx === ctx);
            const now = net.node(1).leaseReadIndex();
            if (now !== undefined && now < write.index) violations.push(`seed ${seed} offset ${offset}: ${t} ticks after the partition, old leader 1 had a lease read index ${now}`);
            if (r && r.index < write.index) {
              violations.push(
                `seed ${seed} offset ${offset}: ${t} ticks after the partition, old leader 1 (term ${net.status(1).term}) served a lease read at index ${r.index}; ` +
                  `node ${write.leader} (term ${net.status(write.leader).term}) committed a write at index ${write.index} at tick ${write.at}`,
              );
            }
          }
        }
      }
    }
    expect(violations, `${violations.length} stale lease reads, e.g.\n${violations.slice(0, 3).join('\n')}`).toEqual([]);
  });
});
