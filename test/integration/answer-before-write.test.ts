/**
 * A leader hands a write's result back once the write is committed and
 * applied, while the loop turn's batch that holds the applied state is still
 * being written (ReadyLoop.turn); a read that arrives after that answer still
 * sees the write, because it waits for the batch (a read on the lease is served
 * at once only when everything committed is on disk). Three stores in one process
 * over gRPC on loopback; the leader's non-synced writes (its apply batches)
 * are held at a gate to keep the window open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng, silentLogger, systemClock, systemTimers } from '../../src/runtime/index.js';
import { Store } from '../../src/store/index.js';
import type { StoreConfig } from '../../src/store/index.js';
import { grpcStoreNetwork, StoreClient } from '../../src/transport/index.js';
import type { BatchOp, Engine } from '../../src/storage/index.js';
import { MemoryEngine } from '../../src/storage/index.js';
import { evenRanges, RangeClient } from '../support/range-client.js';

/** An engine whose non-synced writes wait while `held`, until `release()`. */
class GatedEngine implements Engine {
  held = false;
  private readonly waiting: (() => void)[] = [];
  private readonly inner = new MemoryEngine();

  /** Writes waiting at the gate. */
  get pending(): number {
    return this.waiting.length;
  }

  write(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    if (!this.held || sync) return this.inner.write(ops);
    return new Promise((resolve, reject) => this.waiting.push(() => this.inner.write(ops).then(resolve, reject)));
  }

  release(): void {
    this.held = false;
    for (const w of this.waiting.splice(0)) w();
  }

  get(key: Uint8Array) {
    return this.inner.get(key);
  }
  getMany(keys: readonly Uint8Array[]) {
    return this.inner.getMany(keys);
  }
  range(gte: Uint8Array, lt: Uint8Array) {
    return this.inner.range(gte, lt);
  }
  snapshotRange(gte: Uint8Array, lt: Uint8Array) {
    return this.inner.snapshotRange(gte, lt);
  }
  close() {
    return this.inner.close();
  }
}

const peers = new Map<number, string>();
const stores = new Map<number, Store>();
const engines = new Map<number, GatedEngine>();
const [range] = evenRanges(1, [1, 2, 3]);
let client: RangeClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  for (const id of [1, 2, 3]) {
    // Elections take 1-2 s: longer than the gate below is held, so the leader stays.
    const cfg: StoreConfig = { id, dir: '', listen: '127.0.0.1:0', peers, tickMs: 50, electionTick: 20 };
    const engine = new GatedEngine();
    const s = await Store.open(cfg, { engine, network: grpcStoreNetwork, clock: systemClock, timers: systemTimers, rng: new SeededRng(id), logger: silentLogger });
    peers.set(id, `127.0.0.1:${s.port}`);
    stores.set(id, s);
    engines.set(id, engine);
  }
  for (const id of [1, 2, 3]) await new StoreClient(peers.get(id)!).createReplica(range, true);
  client = new RangeClient(peers, [range]);
});

afterAll(async () => {
  for (const e of engines.values()) e.release();
  client?.close();
  for (const s of stores.values()) await s.close();
});

describe('a write answered before its batch is written', () => {
  it('is answered while the leader apply batch waits, and read after it only once that batch lands', async () => {
    expect((await client.put('k000001', 'v1')).error).toBe('');
    const leader = [...stores.values()].find((s) => s.replicas.get(range.id)!.isLeader())!;
    const gate = engines.get(leader.cfg.id)!;
    // Read until the leader serves reads on its lease at once (a range woken from quiescence must
    // first renew it), so that only the batch at the gate can keep the read below waiting.
    const immediateBefore = leader.metrics.immediateReads;
    for (let i = 0; i < 100 && leader.metrics.immediateReads === immediateBefore; i++) {
      await client.get('k000001');
      await sleep(20);
    }
    expect(leader.metrics.immediateReads).toBeGreaterThan(immediateBefore);
    gate.held = true;

    const put = await client.put('k000001', 'v2');
    expect(put.error).toBe('');
    // The answer came from the same leader while the batch holding the applied write was still at the gate.
    expect(leader.replicas.get(range.id)!.isLeader()).toBe(true);
    expect(gate.pending).toBeGreaterThan(0);

    let read: string | undefined;
    const get = client.get('k000001').then((r) => (read = Buffer.from(r.value).toString()));
    await sleep(200);
    expect(read).toBeUndefined();
    gate.release();
    await get;
    expect(read).toBe('v2');
  });

  it('a leader serving a steady stream of reads on its lease does not quiesce (which would drop the lease)', async () => {
    const leader = [...stores.values()].find((s) => s.replicas.get(range.id)!.isLeader())!;
    const start = leader.metrics.immediateReads;
    for (let i = 0; i < 100 && leader.metrics.immediateReads === start; i++) {
      await client.get('k000001');
      await sleep(20);
    }
    expect(leader.metrics.immediateReads).toBeGreaterThan(start);
    // One read every 25 ms for a second: 20 ticks, many times the 3 idle ticks after which a range quiesces.
    const before = leader.metrics.immediateReads;
    for (let i = 0; i < 40; i++) {
      expect(Buffer.from((await client.get('k000001')).value).toString()).toBe('v2');
      await sleep(25);
    }
    // All 40 at once, but for a stall of the machine long enough to quiesce the range (a burst of
    // caught-up ticks): that costs a few. Were reads not to keep the range awake, 28 of 40.
    expect(leader.metrics.immediateReads - before).toBeGreaterThanOrEqual(34);
  });
});
