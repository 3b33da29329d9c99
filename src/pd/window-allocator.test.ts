/**
 * The window allocator behind the PD's TSO and id allocator, over an
 * in-memory PdGroup: numbers strictly increase (also under concurrent takes),
 * the persisted upper end covers every number before it is handed out, a new
 * leader continues above everything handed out even when its clock is behind,
 * and a failed persist fails only the take that needed it.
 */
import { describe, expect, it } from 'vitest';
import type { PdGroup } from './group.js';
import { WindowAllocator } from './window-allocator.js';

const KEY = 'meta/tso';

/** A PdGroup whose puts land a few event-loop turns later (as a Raft round trip would), and can be made to fail. */
class FakeGroup implements PdGroup {
  readonly memberId = 1;
  readonly data = new Map<string, string>();
  puts = 0;
  /** Fail the next `failing` puts without writing. */
  failing = 0;

  isLeader(): boolean {
    return true;
  }
  leaderId(): number {
    return 1;
  }
  term(): number {
    return 1;
  }
  async get(key: string): Promise<string | undefined> {
    await turn();
    return this.data.get(key);
  }
  async put(key: string, value: string): Promise<void> {
    await turn();
    await turn();
    if (this.failing > 0) {
      this.failing--;
      throw new Error('placement driver metadata put failed: NOT_LEADER');
    }
    this.puts++;
    this.data.set(key, value);
  }
  async scan(prefix: string): Promise<[string, string][]> {
    return [...this.data].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
  }
  persisted(): number {
    return Number(this.data.get(KEY) ?? '-1');
  }
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/** The allocator over plain numbers (it works in bigint, for timestamps), to keep the cases readable. */
interface NumberAllocator {
  init(): Promise<void>;
  take(count: number): Promise<number>;
}

function numberAllocator(group: FakeGroup, key: string, window: number, floor: () => number): NumberAllocator {
  const alloc = new WindowAllocator(group, key, BigInt(window), () => BigInt(floor()));
  return { init: () => alloc.init(), take: async (count) => Number(await alloc.take(count)) };
}

/**
 * Takes `count` numbers and checks, at the moment they are handed out, that
 * the persisted limit already covers all of them.
 */
async function checkedTake(alloc: NumberAllocator, group: FakeGroup, count: number): Promise<[number, number]> {
  const first = await alloc.take(count);
  const last = first + count - 1;
  expect(group.persisted(), `persisted limit when [${first}, ${last}] was handed out`).toBeGreaterThanOrEqual(last);
  return [first, last];
}

describe('WindowAllocator', () => {
  it('hands out strictly increasing numbers, persisting the window end before handing any out', async () => {
    const group = new FakeGroup();
    const alloc = numberAllocator(group, KEY, 10, () => 100);
    await alloc.init();
    let prev = -Infinity;
    for (let i = 0; i < 200; i++) {
      const count = 1 + (i % 7);
      const [first, last] = await checkedTake(alloc, group, count);
      expect(first).toBeGreaterThan(prev);
      expect(first).toBeGreaterThanOrEqual(100);
      prev = last;
    }
    // The window keeps the group out of the hot path: far fewer puts than takes.
    expect(group.puts).toBeGreaterThan(0);
    expect(group.puts).toBeLessThan(200);
  });

  it('concurrent takes get disjoint, increasing runs in call order, each covered by the persisted limit', async () => {
    const group = new FakeGroup();
    const alloc = numberAllocator(group, KEY, 5, () => 1_000);
    await alloc.init();
    const counts = Array.from({ length: 100 }, (_, i) => 1 + ((i * 7) % 4));
    const runs = await Promise.all(counts.map((c) => checkedTake(alloc, group, c)));
    for (let i = 1; i < runs.length; i++) expect(runs[i][0], `take ${i}`).toBeGreaterThan(runs[i - 1][1]);
    for (const [i, [first, last]] of runs.entries()) expect(last - first + 1).toBe(counts[i]);
    expect(Math.max(...runs.map(([, last]) => last))).toBeLessThanOrEqual(group.persisted());
  });

  it('follows the floor when it moves ahead (timestamps track the clock)', async () => {
    const group = new FakeGroup();
    let clock = 1_000;
    const alloc = numberAllocator(group, KEY, 100, () => clock);
    await alloc.init();
    const [a] = await checkedTake(alloc, group, 1);
    expect(a).toBeGreaterThanOrEqual(1_000);
    clock = 50_000;
    const [b] = await checkedTake(alloc, group, 1);
    expect(b).toBeGreaterThanOrEqual(50_000);
    clock = 10; // the clock went back: numbers still increase
    const [c] = await checkedTake(alloc, group, 1);
    expect(c).toBeGreaterThan(b);
  });

  it('a new leader continues above everything handed out before, even when its floor went backwards', async () => {
    const group = new FakeGroup();
    let handedOut = -Infinity;
    let floor = 1_000_000;
    for (let leader = 0; leader < 5; leader++) {
      // Every new leader's clock is further behind the previous one's.
      floor -= 100_000;
      const f = floor;
      const alloc = numberAllocator(group, KEY, 1_000, () => f);
      await alloc.init();
      const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => checkedTake(alloc, group, 1 + (i % 3))));
      for (const [first, last] of runs) {
        expect(first, `leader ${leader}`).toBeGreaterThan(handedOut);
        handedOut = Math.max(handedOut, last);
      }
    }
  });

  it('a new leader that starts before the old one used its whole window still starts above it', async () => {
    const group = new FakeGroup();
    const old = numberAllocator(group, KEY, 1_000_000, () => 5);
    await old.init();
    const [, last] = await checkedTake(old, group, 3);
    const next = numberAllocator(group, KEY, 1_000_000, () => 0);
    await next.init();
    const [first] = await checkedTake(next, group, 1);
    expect(first).toBeGreaterThan(last);
    expect(first).toBeGreaterThan(1_000_000); // above the old leader's whole reserved window
  });

  it('a failing put rejects the take that needed it; later takes still work and keep increasing', async () => {
    const group = new FakeGroup();
    const alloc = numberAllocator(group, KEY, 3, () => 0);
    await alloc.init();
    const [, last1] = await checkedTake(alloc, group, 1);
    // Use up the window so the next take must persist.
    let prev = last1;
    for (let i = 0; i < 5; i++) prev = (await checkedTake(alloc, group, 1))[1];
    group.failing = 1;
    const persistedBefore = group.persisted();
    let failed = 0;
    let rejectedAt = -1;
    // Takes until one needs a put (and so fails).
    for (let i = 0; i < 10 && failed === 0; i++) {
      try {
        prev = (await checkedTake(alloc, group, 1))[1];
      } catch (err) {
        failed++;
        rejectedAt = i;
        expect((err as Error).message).toMatch(/put failed/);
      }
    }
    expect(failed).toBe(1);
    expect(rejectedAt).toBeGreaterThanOrEqual(0);
    expect(group.persisted()).toBe(persistedBefore);
    for (let i = 0; i < 20; i++) {
      const [first, last] = await checkedTake(alloc, group, 2);
      expect(first).toBeGreaterThan(prev);
      prev = last;
    }
  });

  it('a failing put among concurrent takes fails only that take', async () => {
    const group = new FakeGroup();
    const alloc = numberAllocator(group, KEY, 2, () => 0);
    await alloc.init();
    group.failing = 1;
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => checkedTake(alloc, group, 1)));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const got = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value[0]] : []));
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]);
    expect(Math.max(...got)).toBeLessThanOrEqual(group.persisted());
  });

  it('init continues above the persisted end written by an earlier leader', async () => {
    const group = new FakeGroup();
    group.data.set(KEY, '424242');
    const alloc = numberAllocator(group, KEY, 10, () => 0);
    await alloc.init();
    const [first] = await checkedTake(alloc, group, 1);
    expect(first).toBeGreaterThan(424_242);
  });
});
