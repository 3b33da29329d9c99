/**
 * One suite, both store networks: the same three stores, unchanged, over gRPC
 * with LevelDB (what src/cli builds) and over the in-memory twins
 * (LoopbackNetwork, MemoryEngine: tests and the simulator). Then what only the
 * twin can do cheaply: cut a leader off and watch its range move on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelEngine, MemoryEngine } from '../../src/storage/index.js';
import type { Engine } from '../../src/storage/index.js';
import { SeededRng, silentLogger, systemClock, systemTimers } from '../../src/runtime/index.js';
import { Store } from '../../src/store/index.js';
import { grpcStoreNetwork, LoopbackNetwork, StoreClient } from '../../src/transport/index.js';
import type { StoreNetwork, WireKvRequest, WireKvResponse } from '../../src/transport/index.js';
import type { RangeDescriptor } from '../../src/common/index.js';
import { evenRanges, keyFor } from '../support/range-client.js';
import { freePort } from '../support/ports.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Cluster {
  readonly stores: Map<number, Store>;
  readonly peers: Map<number, string>;
  kv(store: number, req: Partial<WireKvRequest> & { op: string; key: Uint8Array }): Promise<WireKvResponse>;
  close(): Promise<void>;
}

interface Impl {
  network(): StoreNetwork | LoopbackNetwork;
  /** The network a store at `address` uses. */
  viewFor(network: StoreNetwork | LoopbackNetwork, address: string): StoreNetwork;
  engine(id: number): Promise<Engine>;
  address(id: number): Promise<string>;
  kv(network: StoreNetwork | LoopbackNetwork, address: string, req: WireKvRequest): Promise<WireKvResponse>;
}

const impls: [string, Impl][] = [
  [
    'gRPC + LevelDB',
    {
      network: () => grpcStoreNetwork,
      viewFor: (n) => n as StoreNetwork,
      async engine() {
        const dir = mkdtempSync(join(tmpdir(), 'raftshard-net-'));
        dirs.push(dir);
        return LevelEngine.open(dir);
      },
      address: async () => `127.0.0.1:${await freePort()}`,
      async kv(_n, address, req) {
        const c = new StoreClient(address);
        try {
          return (await c.kv([req]))[0];
        } finally {
          c.close();
        }
      },
    },
  ],
  [
    'loopback + memory',
    {
      network: () => new LoopbackNetwork(systemTimers),
      viewFor: (n, address) => (n as LoopbackNetwork).viewFrom(address),
      engine: async () => new MemoryEngine(),
      address: async (id) => `10.0.0.${id}:7000`,
      kv: (n, address, req) => (n as LoopbackNetwork).kv(address, req),
    },
  ],
];

const FULL: Omit<WireKvRequest, 'op' | 'key'> = { requestId: '', rangeId: 0, epoch: { version: 0, confVer: 0 }, value: new Uint8Array(0), hasValue: false, expect: new Uint8Array(0), hasExpect: false, end: new Uint8Array(0), limit: 0, retry: false, ts: 0n, payload: new Uint8Array(0) };

async function startCluster(impl: Impl, ranges: RangeDescriptor[]): Promise<Cluster & { network: StoreNetwork | LoopbackNetwork }> {
  const network = impl.network();
  const peers = new Map<number, string>();
  for (const id of [1, 2, 3]) peers.set(id, await impl.address(id));
  const stores = new Map<number, Store>();
  for (const id of [1, 2, 3]) {
    const cfg = { id, dir: `store-${id}`, listen: peers.get(id)!, peers, tickMs: 50, electionTick: 10 };
    stores.set(id, await Store.open(cfg, { engine: await impl.engine(id), network: impl.viewFor(network, peers.get(id)!), clock: systemClock, timers: systemTimers, rng: new SeededRng(id), logger: silentLogger }));
  }
  for (const range of ranges) for (const s of stores.values()) await s.createReplica(range, true);
  const byRange = new Map(ranges.map((r) => [r.id, r]));
  return {
    network,
    stores,
    peers,
    kv: (store, req) => impl.kv(network, peers.get(store)!, { ...FULL, ...req, epoch: byRange.get(req.rangeId!)!.epoch }),
    close: async () => {
      for (const s of stores.values()) await s.close();
    },
  };
}

function leaderOf(c: Cluster, rangeId: number): number | undefined {
  for (const [id, s] of c.stores) if (s.replicas.get(rangeId)?.isLeader()) return id;
  return undefined;
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(20);
  }
}

const ranges = evenRanges(4, [1, 2, 3]);
const rangeOf = (key: string) => ranges.find((r) => key >= dec.decode(r.start) && (r.end.byteLength === 0 || key < dec.decode(r.end)))!;

describe.each(impls)('stores over %s', (_name, impl) => {
  it('elect leaders, serve linearizable writes and reads, and answer routing mistakes as data', async () => {
    const c = await startCluster(impl, ranges);
    try {
      await waitFor(() => ranges.every((r) => leaderOf(c, r.id) !== undefined));
      for (let i = 0; i < 40; i++) {
        const key = keyFor(i * 20_000);
        const range = rangeOf(key);
        const res = await c.kv(leaderOf(c, range.id)!, { op: 'put', rangeId: range.id, key: enc.encode(key), value: enc.encode(`v${i}`), hasValue: true, requestId: `w${i}` });
        expect(res.error, res.message).toBe('');
      }
      for (let i = 0; i < 40; i++) {
        const key = keyFor(i * 20_000);
        const range = rangeOf(key);
        const res = await c.kv(leaderOf(c, range.id)!, { op: 'get', rangeId: range.id, key: enc.encode(key) });
        expect({ error: res.error, value: dec.decode(res.value) }).toEqual({ error: '', value: `v${i}` });
      }
      const range = ranges[0];
      const follower = [1, 2, 3].find((id) => id !== leaderOf(c, range.id))!;
      expect(await c.kv(follower, { op: 'get', rangeId: range.id, key: enc.encode(keyFor(1)) })).toMatchObject({ error: 'NOT_LEADER', leaderStore: leaderOf(c, range.id) });
    } finally {
      await c.close();
    }
  }, 30_000);
});

describe('the loopback network', () => {
  it('cuts a leader off both ways: its range elects another leader, which takes writes; healed, the old leader catches up', () =>
    onOneRange(async (c, network, range) => {
      const old = leaderOf(c, range.id)!;
      network.cut(c.peers.get(old)!, true);
      await waitFor(() => [1, 2, 3].some((id) => id !== old && c.stores.get(id)!.replicas.get(range.id)!.isLeader()));
      const now = [1, 2, 3].find((id) => id !== old && c.stores.get(id)!.replicas.get(range.id)!.isLeader())!;
      const put = await c.kv(now, { op: 'put', rangeId: range.id, key: enc.encode(keyFor(7)), value: enc.encode('after-cut'), hasValue: true, requestId: 'cut-1' });
      expect(put.error, put.message).toBe('');
      // The cut-off store cannot be reached at all.
      await expect(c.kv(old, { op: 'get', rangeId: range.id, key: enc.encode(keyFor(7)) })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      network.cut(c.peers.get(old)!, false);
      const applied = c.stores.get(now)!.replicas.get(range.id)!.applied;
      await waitFor(() => c.stores.get(old)!.replicas.get(range.id)!.applied >= applied);
      expect(c.stores.get(old)!.replicas.get(range.id)!.isLeader()).toBe(false);
    }), 30_000);

  it('cuts one link one way: what the leader sends one follower is lost, the rest flows, and writes go on', () =>
    onOneRange(async (c, network, range) => {
      const leader = leaderOf(c, range.id)!;
      const deaf = [1, 2, 3].find((id) => id !== leader)!;
      network.cutLink(c.peers.get(leader)!, c.peers.get(deaf)!, true);
      // The leader still has a quorum with the third store; the deaf follower falls behind.
      const before = c.stores.get(deaf)!.replicas.get(range.id)!.applied;
      for (let i = 0; i < 5; i++) {
        const now = leaderOf(c, range.id)!;
        const put = await c.kv(now, { op: 'put', rangeId: range.id, key: enc.encode(keyFor(i)), value: enc.encode(`one-way-${i}`), hasValue: true, requestId: `one-way-${i}` });
        expect(put.error, put.message).toBe('');
      }
      const current = leaderOf(c, range.id)!;
      const applied = c.stores.get(current)!.replicas.get(range.id)!.applied;
      if (current === leader) expect(c.stores.get(deaf)!.replicas.get(range.id)!.applied).toBeLessThan(applied);
      network.cutLink(c.peers.get(leader)!, c.peers.get(deaf)!, false);
      await waitFor(() => c.stores.get(deaf)!.replicas.get(range.id)!.applied >= applied);
      expect(c.stores.get(deaf)!.replicas.get(range.id)!.applied).toBeGreaterThan(before);
    }), 30_000);

  it('holds a follower as a pause does: nothing reaches it meanwhile and nothing is lost; released, what waited arrives', () =>
    onOneRange(async (c, network, range) => {
      const leader = leaderOf(c, range.id)!;
      const paused = [1, 2, 3].find((id) => id !== leader)!;
      const replica = () => c.stores.get(paused)!.replicas.get(range.id)!;
      const before = replica().applied;
      network.hold(c.peers.get(paused)!, true);
      // A client's request to the held store waits (a socket's buffer), it is not refused.
      const late = c.kv(paused, { op: 'get', rangeId: range.id, key: enc.encode(keyFor(1)) });
      for (let i = 0; i < 5; i++) {
        const put = await c.kv(leaderOf(c, range.id)!, { op: 'put', rangeId: range.id, key: enc.encode(keyFor(i)), value: enc.encode(`held-${i}`), hasValue: true, requestId: `held-${i}` });
        expect(put.error, put.message).toBe('');
      }
      expect(replica().applied, 'a held store applied entries sent while it was held').toBe(before);
      const applied = c.stores.get(leaderOf(c, range.id)!)!.replicas.get(range.id)!.applied;
      network.hold(c.peers.get(paused)!, false);
      await waitFor(() => replica().applied >= applied);
      await expect(late).resolves.toBeDefined();
    }), 30_000);
});

/** A loopback cluster holding the first range, once it has a leader; closed afterwards. */
async function onOneRange(fn: (c: Cluster & { network: StoreNetwork | LoopbackNetwork }, network: LoopbackNetwork, range: RangeDescriptor) => Promise<void>): Promise<void> {
  const c = await startCluster(impls[1][1], ranges.slice(0, 1));
  try {
    await waitFor(() => leaderOf(c, ranges[0].id) !== undefined);
    await fn(c, c.network as LoopbackNetwork, ranges[0]);
  } finally {
    await c.close();
  }
}
