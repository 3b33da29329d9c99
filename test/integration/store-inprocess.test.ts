/**
 * Three stores in one process over the real gRPC transport on loopback:
 * many ranges, writes and reads through leaders, a store stopped and restarted
 * catching up, quiesced ranges waking.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng, silentLogger, systemClock, systemTimers } from '../../src/runtime/index.js';
import { Store } from '../../src/store/index.js';
import type { StoreConfig } from '../../src/store/index.js';
import { EpochNotMatchError, NotLeaderError } from '../../src/common/index.js';
import { grpcStoreNetwork, StoreClient } from '../../src/transport/index.js';
import { LevelEngine } from '../../src/storage/index.js';
import { evenRanges, keyFor, RangeClient } from '../support/range-client.js';

const RANGES = 24;
const dir = mkdtempSync(join(tmpdir(), 'raftshard-store-'));
const peers = new Map<number, string>();
const stores = new Map<number, Store>();
const ranges = evenRanges(RANGES, [1, 2, 3]);
let client: RangeClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(id: number, port = 0): Promise<Store> {
  const cfg: StoreConfig = { id, dir: join(dir, `s${id}`), listen: `127.0.0.1:${port}`, peers, tickMs: 50, electionTick: 10, compactLogEntries: 60, dedupRotateMs: 1_000 };
  const s = await Store.open(cfg, { engine: await LevelEngine.open(cfg.dir), network: grpcStoreNetwork, clock: systemClock, timers: systemTimers, rng: new SeededRng(id), logger: silentLogger });
  peers.set(id, `127.0.0.1:${s.port}`);
  stores.set(id, s);
  return s;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(50);
  }
}

function leaders(): number {
  let n = 0;
  for (const s of stores.values()) for (const r of s.replicas.values()) if (r.isLeader()) n++;
  return n;
}

beforeAll(async () => {
  for (const id of [1, 2, 3]) await start(id);
  for (const range of ranges) for (const id of [1, 2, 3]) await new StoreClient(peers.get(id)!).createReplica(range, true);
  client = new RangeClient(peers, ranges);
  await waitFor(() => leaders() === RANGES);
});

afterAll(async () => {
  client?.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stores over gRPC on loopback', () => {
  it('elects a leader for every range and serves linearizable writes and reads', async () => {
    const writes = Array.from({ length: 300 }, (_, i) => client.put(keyFor(i * 3333), `v${i}`));
    for (const r of await Promise.all(writes)) expect(r.error).toBe('');
    for (let i = 0; i < 300; i += 37) {
      const r = await client.get(keyFor(i * 3333));
      expect(r.error).toBe('');
      expect(Buffer.from(r.value).toString()).toBe(`v${i}`);
    }
    const missing = await client.get('k999999x');
    expect(missing.found).toBe(false);
  });

  it('answers routing mistakes as data: wrong store, wrong epoch, key outside the range', async () => {
    const range = ranges[0];
    const leaderStore = [...stores.values()].find((s) => s.replicas.get(range.id)!.isLeader())!.cfg.id;
    const follower = [1, 2, 3].find((id) => id !== leaderStore)!;
    const c = new StoreClient(peers.get(follower)!);
    const base = { op: 'get', rangeId: range.id, epoch: range.epoch, key: new TextEncoder().encode('k000001') };
    const [notLeader] = await c.kv([base]);
    expect(notLeader).toMatchObject({ error: 'NOT_LEADER', leaderStore: leaderStore });
    const [stale] = await c.kv([{ ...base, epoch: { version: 0, confVer: 1 } }]);
    expect(stale.error).toBe('EPOCH_NOT_MATCH');
    expect(stale.ranges[0].id).toBe(range.id);
    const [outside] = await c.kv([{ ...base, key: new TextEncoder().encode('k999999') }]);
    expect(outside.error).toBe('KEY_NOT_IN_RANGE');
    const [unknown] = await c.kv([{ ...base, rangeId: 9999 }]);
    expect(unknown.error).toBe('RANGE_NOT_FOUND');
    const [bad] = await c.kv([{ ...base, op: 'frobnicate' }]);
    expect(bad.error).toBe('BAD_REQUEST');
    // The leader probe answers at once, with no epoch to match.
    const [probe] = await c.kv([{ op: 'leader', rangeId: range.id, key: new Uint8Array(0) }]);
    expect(probe).toMatchObject({ error: 'NOT_LEADER', leaderStore: leaderStore });
    // Admin calls fail with typed errors whose payload travelled as fields.
    const split = c.split({ rangeId: range.id, epoch: range.epoch, splitKey: new TextEncoder().encode('k000002'), newRangeId: 9_000 });
    await expect(split).rejects.toBeInstanceOf(NotLeaderError);
    await expect(split).rejects.toMatchObject({ code: 'NOT_LEADER', leaderStore });
    const staleSplit = new StoreClient(peers.get(leaderStore)!).split({ rangeId: range.id, epoch: { version: 0, confVer: 1 }, splitKey: new TextEncoder().encode('k000002'), newRangeId: 9_000 });
    await expect(staleSplit).rejects.toBeInstanceOf(EpochNotMatchError);
    await expect(staleSplit).rejects.toMatchObject({ code: 'EPOCH_NOT_MATCH', ranges: [expect.objectContaining({ id: range.id })] });
    await expect(c.transferLeader(9_999, 1)).rejects.toMatchObject({ code: 'RANGE_NOT_FOUND' });
    await expect(c.changeReplicas({ rangeId: 9_999, epoch: range.epoch, kind: 'remove', store: 1 })).rejects.toMatchObject({ code: 'RANGE_NOT_FOUND' });
    c.close();
  });

  it('a malformed Raft frame from a peer is counted and dropped; the store carries on', async () => {
    const target = stores.get(1)!;
    const before = target.metrics.malformedFrames;
    const raw = new StoreClient(peers.get(1)!).openRaftStream();
    raw.write(2, Uint8Array.from([1, 0, 0, 0, 9, 1, 2, 3]));
    raw.write(2, new TextEncoder().encode('not a frame at all'));
    await waitFor(() => target.metrics.malformedFrames >= before + 2);
    raw.close();
    const r = await client.put(keyFor(123), 'still-fine');
    expect(r.error).toBe('');
  });

  it('serves Prometheus text from its own registry: latency histograms beside the existing counters', async () => {
    for (let i = 0; i < 20; i++) expect((await client.put(keyFor(i * 77), `m${i}`)).error).toBe('');
    for (let i = 0; i < 20; i++) expect((await client.get(keyFor(i * 77))).error).toBe('');
    const direct = new StoreClient(peers.get(1)!);
    const [bad] = await direct.kv([{ op: 'frobnicate', rangeId: ranges[0].id, epoch: ranges[0].epoch, key: new TextEncoder().encode('k000001') }]);
    direct.close();
    expect(bad.error).toBe('BAD_REQUEST');
    const expectedLeaders = leaders();
    // Three stores in one process, each with its own registry (one shared registry would refuse the second store's series).
    // Collected in one go (no event-loop turn in between): the gauges agree with `leaders()`.
    const texts = await Promise.all([...stores.values()].map((s) => s.renderMetrics()));
    const sample = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? 0);
    const total = (series: string) => texts.reduce((a, t) => a + sample(t, series), 0);
    for (const text of texts) {
      for (const h of ['raftshard_raft_proposal_apply_seconds', 'raftshard_fsync_duration_seconds', 'raftshard_read_index_seconds']) {
        expect(text).toContain(`# TYPE ${h} histogram`);
        expect(text).toMatch(new RegExp(`^${h}_bucket\\{le="0\\.0001"\\} \\d+$`, 'm'));
        expect(text).toMatch(new RegExp(`^${h}_bucket\\{le="10"\\} \\d+$`, 'm'));
        expect(text).toMatch(new RegExp(`^${h}_bucket\\{le="\\+Inf"\\} \\d+$`, 'm'));
        expect(sample(text, `${h}_count`)).toBe(sample(text, `${h}_bucket{le="+Inf"}`));
      }
      // Every synced batch is timed.
      expect(sample(text, 'raftshard_fsync_duration_seconds_count')).toBe(sample(text, 'raftshard_fsyncs_total'));
      expect(text).toContain('# TYPE raftshard_raft_proposals_total counter');
      expect(text).toContain('# TYPE raftshard_kv_errors_total counter');
      expect(text).toMatch(/^raftshard_ranges \d+$/m);
    }
    expect(total('raftshard_raft_proposal_apply_seconds_count')).toBeGreaterThanOrEqual(20);
    expect(total('raftshard_raft_proposal_apply_seconds_sum')).toBeGreaterThan(0);
    // Each read is served at once on the lease or after a timed round.
    expect(total('raftshard_read_index_seconds_count') + total('raftshard_lease_reads_immediate_total')).toBeGreaterThan(0);
    expect(total('raftshard_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(total('raftshard_raft_proposals_total')).toBeGreaterThanOrEqual(total('raftshard_raft_proposal_apply_seconds_count'));
    expect(total('raftshard_ranges')).toBe(RANGES * 3);
    expect(total('raftshard_leaders')).toBe(expectedLeaders);
    expect(total('raftshard_kv_errors_total{code="BAD_REQUEST"}')).toBeGreaterThanOrEqual(1);
  });

  it('cas and delete are exactly-once: a retried request returns the first outcome', async () => {
    const key = new TextEncoder().encode(keyFor(424242));
    const cas = { op: 'cas', key, hasExpect: false, value: new TextEncoder().encode('first'), hasValue: true, requestId: 'cas-once' };
    const first = await client.send(cas);
    expect(first.error).toBe('');
    // The same request id again (as a gateway retry would send it): not applied twice, same answer.
    const again = await client.send({ ...cas, retry: true });
    expect(again.error).toBe('');
    const other = await client.send({ ...cas, requestId: 'cas-other' });
    expect(other.error).toBe('CONFLICT');
    expect(Buffer.from(other.value).toString()).toBe('first');
    const del = await client.send({ op: 'delete', key, requestId: 'del-1' });
    expect(del.deleted).toBe(true);
    const delAgain = await client.send({ op: 'delete', key, requestId: 'del-1', retry: true });
    expect(delAgain.deleted).toBe(true); // the recorded result, not a second delete
  });

  it('idle ranges quiesce, and wake on the next request', async () => {
    await waitFor(() => [...stores.values()].every((s) => [...s.replicas.values()].filter((r) => r.quiesced).length === RANGES));
    const r = await client.put(keyFor(1), 'wake');
    expect(r.error).toBe('');
    expect(Buffer.from((await client.get(keyFor(1))).value).toString()).toBe('wake');
  });

  it('a stopped store misses writes and catches up after restart; a leader on it is replaced', async () => {
    const victim = 3;
    const port = Number(peers.get(victim)!.split(':')[1]);
    await stores.get(victim)!.close();
    stores.delete(victim);
    const writes = Array.from({ length: 200 }, (_, i) => client.put(keyFor(500_000 + i * 17), `late${i}`));
    for (const r of await Promise.all(writes)) expect(r.error).toBe('');
    const back = await start(victim, port);
    await waitFor(() => {
      for (const rep of back.replicas.values()) {
        const leader = [...stores.values()].find((s) => s.replicas.get(rep.rangeId)?.isLeader());
        if (!leader || rep.applied < leader.replicas.get(rep.rangeId)!.applied) return false;
      }
      return true;
    });
    const v = await client.get(keyFor(500_000 + 17 * 199));
    expect(Buffer.from(v.value).toString()).toBe('late199');
  });

  it('a store far behind compacted logs catches up by streamed snapshots, exactly-once records included', async () => {
    const victim = 2;
    const port = Number(peers.get(victim)!.split(':')[1]);
    await stores.get(victim)!.close();
    stores.delete(victim);
    // Enough writes to one range to compact its log well past what the stopped store has.
    const key = (i: number) => keyFor(700_000 + i);
    for (let round = 0; round < 4; round++) {
      const writes = Array.from({ length: 60 }, (_, i) => client.put(key(round * 60 + i), `snap${round * 60 + i}`));
      for (const r of await Promise.all(writes)) expect(r.error).toBe('');
      await sleep(600); // let the tick compact
    }
    const rangeId = client.rangeFor(new TextEncoder().encode(key(0))).id;
    const sentBefore = [...stores.values()].reduce((a, s) => a + s.metrics.snapshotsSent, 0);
    const compactions = [...stores.values()].reduce((a, s) => a + s.metrics.compactions, 0);
    expect(compactions).toBeGreaterThan(0);
    const back = await start(victim, port);
    await waitFor(() => back.metrics.snapshotsInstalled > 0);
    expect([...stores.values()].reduce((a, s) => a + s.metrics.snapshotsSent, 0)).toBeGreaterThan(sentBefore);
    const leader = [...stores.values()].find((s) => s.replicas.get(rangeId)!.isLeader())!;
    await waitFor(() => back.replicas.get(rangeId)!.applied >= leader.replicas.get(rangeId)!.applied);
    // The follower's data and exactly-once records equal the leader's.
    const { rangeStateBounds } = await import('../../src/replica/index.js');
    const dump = async (s: Store) => {
      const out: string[] = [];
      for (const b of rangeStateBounds(s.replicas.get(rangeId)!.desc.current)) {
        for await (const [k, v] of s.engine.range(b.gte, b.lt)) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
      }
      return out;
    };
    const [mine, theirs] = [await dump(back), await dump(leader)];
    expect(mine.length).toBeGreaterThan(240); // 240 values + their dedup records
    expect(mine).toEqual(theirs);
  });

  it('keeps exactly-once records in generations: a retry within the window is recognised, older ones are dropped', async () => {
    const key = new TextEncoder().encode(keyFor(515151));
    const range = client.rangeFor(key);
    const cas = { op: 'cas', key, hasExpect: false, value: new TextEncoder().encode('once'), hasValue: true, requestId: 'gen-cas' };
    expect((await client.send(cas)).error).toBe('');
    expect((await client.send({ ...cas, retry: true })).error).toBe('');
    // Writes for about four rotation periods: the leader rotates once a second while the range takes writes.
    const until = Date.now() + 4_500;
    for (let i = 0; Date.now() < until; i++) expect((await client.put(keyFor(515152 + (i % 20)), `w${i}`)).error).toBe('');
    const leader = [...stores.values()].find((s) => s.replicas.get(range.id)!.isLeader())!;
    const replica = leader.replicas.get(range.id)!;
    expect(replica.dedupGeneration).toBeGreaterThanOrEqual(3);
    // Only the current and the previous generation remain.
    const { keys } = await import('../../src/storage/index.js');
    const old = keys.dedupGenerationBounds(range.id, 0, replica.dedupGeneration - 1);
    let stale = 0;
    for await (const _ of leader.engine.range(old.gte, old.lt)) stale++;
    expect(stale).toBe(0);
    // Beyond the window the first cas is forgotten: a resend executes again and finds the key present.
    const late = await client.send({ ...cas, retry: true });
    expect(late.error).toBe('CONFLICT');
    // Every replica agrees on the generation.
    await waitFor(() => [...stores.values()].every((s) => s.replicas.get(range.id)!.dedupGeneration === replica.dedupGeneration));
  });
});
