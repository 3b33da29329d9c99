/**
 * Three placement driver members in one process, wired as `raftshard pd`
 * wires one (src/cli/pd-command.ts): a Store hosting range PD_RANGE_ID with
 * the PD service registered before it listens, a StorePdGroup over it, and a
 * PlacementDriver. Reached through PdClient over gRPC on loopback: timestamps
 * and ids keep increasing across the death of the leader, store registration
 * is idempotent by address, and GetMembers names exactly one leader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PD_CONFIG, deferredPdHandlers, PD_RANGE_ID, PlacementDriver, StorePdGroup } from '../../src/pd/index.js';
import type { PdConfig } from '../../src/pd/index.js';
import { physicalOf } from '../../src/common/index.js';
import { rangesFromSplits } from '../../src/replica/index.js';
import { SeededRng, silentLogger, systemClock, systemTimers } from '../../src/runtime/index.js';
import { Store, storePdRangeHost } from '../../src/store/index.js';
import { grpcDialer, grpcStoreNetwork, PdClient } from '../../src/transport/index.js';
import { LevelEngine } from '../../src/storage/index.js';
import { freePort } from '../support/ports.js';

interface Member {
  readonly id: number;
  readonly store: Store;
  readonly group: StorePdGroup;
  readonly pd: PlacementDriver;
  dead: boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'raftshard-pd-'));
const members = new Map<number, string>();
const running = new Map<number, Member>();
let client: PdClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One member, as pdCommand builds it. */
async function startMember(id: number): Promise<Member> {
  // More replicas than this test ever registers stores: the PD never tries to bootstrap a user range on them.
  const cfg: PdConfig = { ...DEFAULT_PD_CONFIG, members, replicas: 5 };
  let pd: PlacementDriver | undefined;
  const handlers = deferredPdHandlers(() => pd);
  const store = await Store.open(
    { id, dir: join(dir, `pd-${id}`), listen: members.get(id)!, peers: members, tickMs: 100, electionTick: 10 },
    { engine: await LevelEngine.open(join(dir, `pd-${id}`)), network: grpcStoreNetwork, clock: systemClock, timers: systemTimers, rng: new SeededRng(id), logger: silentLogger },
    handlers,
  );
  await store.createReplica(rangesFromSplits([], [...members.keys()].sort((a, b) => a - b), PD_RANGE_ID)[0], true);
  const group = new StorePdGroup(storePdRangeHost(store), id);
  pd = new PlacementDriver(cfg, group, { clock: systemClock, timers: systemTimers, logger: silentLogger, dialer: grpcDialer });
  return { id, store, group, pd, dead: false };
}

async function kill(m: Member): Promise<void> {
  if (m.dead) return;
  m.dead = true;
  m.pd.close();
  await m.store.close();
}

const leaderMember = (): Member | undefined => [...running.values()].find((m) => !m.dead && m.group.isLeader());

/** The leader, once it serves (Tso answers through the client). */
async function servingLeader(): Promise<Member> {
  const m = await waitFor('a placement driver leader', leaderMember);
  await client.call('Tso', { count: 1 }, 15_000);
  return m;
}

/** Many timestamp windows and ids; returns the largest number handed out of each, and the smallest. */
async function drawNumbers(rounds: number): Promise<{ tsMin: bigint; tsMax: bigint; idMin: number; idMax: number }> {
  let tsMin: bigint | undefined;
  let tsMax = 0n;
  let idMin = Infinity;
  let idMax = -Infinity;
  let prevTs = 0n;
  let prevId = -Infinity;
  for (let i = 0; i < rounds; i++) {
    const [a, b] = await Promise.all([client.tso(10), client.tso(10)]);
    const { id } = await client.call('AllocId', {});
    for (const first of [a, b]) {
      // A Timestamp: physical milliseconds of about now in the high bits.
      expect(Math.abs(physicalOf(first) - Date.now())).toBeLessThan(60_000);
      if (tsMin === undefined || first < tsMin) tsMin = first;
      if (first + 9n > tsMax) tsMax = first + 9n;
    }
    // The two concurrent windows do not overlap, and each round is above the previous one.
    expect(a > b ? a - b : b - a).toBeGreaterThanOrEqual(10n);
    expect(a < b ? a : b).toBeGreaterThan(prevTs);
    prevTs = (a > b ? a : b) + 9n;
    expect(id).toBeGreaterThan(prevId);
    prevId = id;
    idMin = Math.min(idMin, id);
    idMax = Math.max(idMax, id);
  }
  tsMin ??= 0n;
  return { tsMin, tsMax, idMin, idMax };
}

function leadersIn(res: Awaited<ReturnType<PdClient['members']>>): number[] {
  return res.members.filter((m) => m.leader).map((m) => m.id);
}

beforeAll(async () => {
  for (const id of [1, 2, 3]) members.set(id, `127.0.0.1:${await freePort()}`);
  for (const id of [1, 2, 3]) running.set(id, await startMember(id));
  client = new PdClient([...members.values()], systemClock, systemTimers, grpcDialer);
});

afterAll(async () => {
  client?.close();
  for (const m of running.values()) await kill(m).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('three placement driver members in one process', () => {
  let before: Awaited<ReturnType<typeof drawNumbers>>;
  let firstLeader: Member;
  let storeA = 0;

  it('elects a leader; GetMembers names exactly that one', async () => {
    firstLeader = await servingLeader();
    const res = await waitFor('members to agree on the leader', async () => {
      const r = await client.members();
      return leadersIn(r).length === 1 && r.members.length === 3 ? r : undefined;
    });
    expect(leadersIn(res)).toEqual([firstLeader.id]);
    expect(res.members.map((m) => m.id).sort()).toEqual([1, 2, 3]);
    for (const m of res.members) expect(m.address).toBe(members.get(m.id));
    expect(res.term).toBeGreaterThan(0);
    // Asking a follower directly: it names the same leader, and answers data calls with a redirect.
    const follower = [...running.values()].find((m) => m !== firstLeader)!;
    const direct = grpcDialer.pdMember(members.get(follower.id)!);
    try {
      const fromFollower = await direct.call('GetMembers', { selfOnly: false }, 5_000);
      expect(leadersIn(fromFollower)).toEqual([firstLeader.id]);
      const redirected = await direct.call('Tso', { count: 1 }, 5_000);
      expect(redirected.redirect).toMatchObject({ notLeader: true, leaderAddress: members.get(firstLeader.id) });
    } finally {
      direct.close();
    }
  });

  it('hands out increasing timestamps and ids', async () => {
    before = await drawNumbers(40);
    expect(before.tsMax).toBeGreaterThan(before.tsMin);
    expect(before.idMax).toBeGreaterThan(before.idMin);
  });

  it('registers a store by address: the same address twice gets the same id, another address another id', async () => {
    const a1 = await client.call('RegisterStore', { id: 0, address: '127.0.0.1:1', pid: 11, fresh: true });
    const a2 = await client.call('RegisterStore', { id: 0, address: '127.0.0.1:1', pid: 11, fresh: true });
    const b = await client.call('RegisterStore', { id: 0, address: '127.0.0.1:2', pid: 12, fresh: true });
    expect(a1.id).toBeGreaterThan(0);
    expect(a2.id).toBe(a1.id);
    expect(b.id).not.toBe(a1.id);
    // Store ids come from the same allocator as AllocId: above everything it handed out.
    expect(a1.id).toBeGreaterThan(before.idMax);
    storeA = a1.id;
    const stores = await client.call('GetStores', {});
    expect(stores.stores.filter((s) => s.address === '127.0.0.1:1').map((s) => s.id)).toEqual([storeA]);
  });

  it('after the leader dies, a new leader continues above every timestamp and id handed out before', async () => {
    const { idMax: idsBeforeRegistration } = before;
    // Ids handed out by registrations count too.
    const idBefore = Math.max(idsBeforeRegistration, storeA);
    const t0 = Date.now();
    await kill(firstLeader);
    const next = await servingLeader();
    expect(next.id).not.toBe(firstLeader.id);
    const after = await drawNumbers(40);
    expect(after.tsMin).toBeGreaterThan(before.tsMax);
    expect(after.idMin).toBeGreaterThan(idBefore);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('the new leader knows the stores registered before: the same address still gets the same id', async () => {
    const again = await client.call('RegisterStore', { id: 0, address: '127.0.0.1:1', pid: 11, fresh: true });
    expect(again.id).toBe(storeA);
    const c = await client.call('RegisterStore', { id: 0, address: '127.0.0.1:3', pid: 13, fresh: true });
    expect(c.id).not.toBe(storeA);
    expect(c.id).toBeGreaterThan(0);
  });

  it('GetMembers marks exactly one leader (the new one); the dead member is listed without a pid', async () => {
    const live = leaderMember()!;
    const res = await waitFor('members to agree on the new leader', async () => {
      const r = await client.members().catch(() => undefined);
      return r && leadersIn(r).length === 1 ? r : undefined;
    });
    expect(leadersIn(res)).toEqual([live.id]);
    expect(res.members).toHaveLength(3);
    expect(res.members.find((m) => m.id === firstLeader.id)).toMatchObject({ leader: false, pid: 0 });
  });

  it('concurrent registrations of one new address (a retried RegisterStore) get one id', async () => {
    const res = await Promise.all(Array.from({ length: 4 }, () => client.call('RegisterStore', { id: 0, address: '127.0.0.1:4', pid: 14, fresh: true })));
    expect(new Set(res.map((r) => r.id)).size).toBe(1);
    const stores = await client.call('GetStores', {});
    expect(stores.stores.filter((s) => s.address === '127.0.0.1:4')).toHaveLength(1);
  });
});
