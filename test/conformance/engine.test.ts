/** One suite, every Engine implementation (as abstract-level's test suite does). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchOp, Engine } from '../../src/storage/index.js';
import { LevelEngine, MemoryEngine } from '../../src/storage/index.js';

/** FC_SEED=<n> replays a failing run (fast-check prints the seed on failure). */
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Impl {
  make(): Promise<Engine>;
  /** Closes and reopens over the same storage, for implementations that persist. */
  reopen?(e: Engine): Promise<Engine>;
}

const levelDirs = new WeakMap<Engine, string>();
const impls: [string, Impl][] = [
  ['MemoryEngine', { make: async () => new MemoryEngine() }],
  [
    'LevelEngine',
    {
      async make() {
        const dir = mkdtempSync(join(tmpdir(), 'raftshard-engine-'));
        dirs.push(dir);
        const e = await LevelEngine.open(dir);
        levelDirs.set(e, dir);
        return e;
      },
      async reopen(e) {
        const dir = levelDirs.get(e)!;
        await e.close();
        const again = await LevelEngine.open(dir);
        levelDirs.set(again, dir);
        return again;
      },
    },
  ],
];

const b = (...xs: number[]) => Uint8Array.from(xs);
const put = (key: Uint8Array, value: Uint8Array = key): BatchOp => ({ type: 'put', key, value });
const del = (key: Uint8Array): BatchOp => ({ type: 'del', key });

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const [k, v] of it) out.push([Array.from(k), Array.from(v)]);
  return out;
}

async function value(e: Engine, key: Uint8Array): Promise<number[] | undefined> {
  const v = await e.get(key);
  return v && Array.from(v);
}

describe.each(impls)('Engine conformance: %s', (_name, impl) => {
  it('get of an absent key is undefined; put then get returns the bytes; a later put overwrites', async () => {
    const e = await impl.make();
    expect(await e.get(b(1))).toBeUndefined();
    await e.write([put(b(1), b(9, 9))], true);
    expect(await value(e, b(1))).toEqual([9, 9]);
    await e.write([put(b(1), b())], false);
    expect(await value(e, b(1))).toEqual([]);
    await e.close();
  });

  it('a batch applies its ops in order (the last op on a key wins); deleting an absent key is harmless', async () => {
    const e = await impl.make();
    await e.write([put(b(2), b(1)), del(b(2)), put(b(3), b(3)), put(b(4), b(1)), put(b(4), b(2)), del(b(5))], false);
    expect(await e.get(b(2))).toBeUndefined();
    expect(await value(e, b(3))).toEqual([3]);
    expect(await value(e, b(4))).toEqual([2]);
    await e.write([], true);
    await e.close();
  });

  it('range iterates [gte, lt) in bytewise order, 0x00, 0xff and prefixes included', async () => {
    const e = await impl.make();
    const keys = [b(0), b(1), b(1, 0), b(1, 0, 0), b(1, 255), b(1, 255, 255), b(2), b(255)];
    await e.write([...keys].reverse().map((k) => put(k)), true);
    expect((await collect(e.range(b(1), b(2)))).map(([k]) => k)).toEqual([[1], [1, 0], [1, 0, 0], [1, 255], [1, 255, 255]]);
    expect((await collect(e.range(b(1, 0), b(1, 0, 0)))).map(([k]) => k)).toEqual([[1, 0]]);
    expect(await collect(e.range(b(2), b(1)))).toEqual([]);
    expect(await collect(e.range(b(3), b(255)))).toEqual([]);
    await e.close();
  });

  it('the caller owns the bytes it passes in and gets back', async () => {
    const e = await impl.make();
    const k = b(7);
    const v = b(1, 2);
    await e.write([put(k, v)], false);
    v[0] = 99;
    k[0] = 8;
    const got = (await e.get(b(7)))!;
    expect(Array.from(got)).toEqual([1, 2]);
    got[0] = 42;
    expect(await value(e, b(7))).toEqual([1, 2]);
    for await (const [, rv] of e.range(b(0), b(255))) rv[1] = 42;
    expect(await value(e, b(7))).toEqual([1, 2]);
    await e.close();
  });

  it('snapshotRange sees the state when it was called, not later writes', async () => {
    const e = await impl.make();
    await e.write([put(b(1), b(1)), put(b(2), b(2)), put(b(3), b(3))], true);
    const view = e.snapshotRange(b(0), b(9));
    await e.write([del(b(1)), put(b(2), b(20)), put(b(4), b(4))], true);
    expect(await collect(view)).toEqual([
      [[1], [1]],
      [[2], [2]],
      [[3], [3]],
    ]);
    expect((await collect(e.range(b(0), b(9)))).map(([k]) => k)).toEqual([[2], [3], [4]]);
    await e.close();
  });

  it('a range in progress does not see writes made after it started', async () => {
    const e = await impl.make();
    await e.write([put(b(1)), put(b(2))], true);
    const seen: number[][] = [];
    for await (const [k] of e.range(b(0), b(9))) {
      if (seen.length === 0) await e.write([put(b(5)), del(b(2))], true);
      seen.push(Array.from(k));
    }
    expect(seen).toEqual([[1], [2]]);
    await e.close();
  });

  it('agrees with a naive sorted-map model over random batches', async () => {
    const e = await impl.make();
    let run = 0;
    const key = fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0xff), { maxLength: 4 }).map((a) => Uint8Array.from(a));
    const op = fc.oneof(
      fc.tuple(key, fc.uint8Array({ maxLength: 3 })).map(([k, v]) => put(k, v)),
      key.map((k) => del(k)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 5 }), key, key, async (batches, lo, hi) => {
        // Each run gets its own 4-byte key prefix, so runs share one engine without interfering.
        const prefix = b(run >>> 24, (run >>> 16) & 255, (run >>> 8) & 255, run++ & 255);
        const scoped = (k: Uint8Array) => Buffer.concat([prefix, k]);
        const model = new Map<string, number[]>();
        for (const batch of batches) {
          await e.write(batch.map((o) => (o.type === 'put' ? put(scoped(o.key), o.value) : del(scoped(o.key)))), false);
          for (const o of batch) {
            if (o.type === 'put') model.set(Buffer.from(o.key).toString('hex'), Array.from(o.value));
            else model.delete(Buffer.from(o.key).toString('hex'));
          }
        }
        const expected = [...model.entries()]
          .map(([k, v]): [Buffer, number[]] => [Buffer.from(k, 'hex'), v])
          .filter(([k]) => Buffer.compare(k, lo) >= 0 && Buffer.compare(k, hi) < 0)
          .sort(([x], [y]) => Buffer.compare(x, y))
          .map(([k, v]) => [Array.from(scoped(k)), v]);
        expect(await collect(e.range(scoped(lo), scoped(hi)))).toEqual(expected);
        for (const [k, v] of model) expect(await value(e, scoped(Buffer.from(k, 'hex')))).toEqual(v);
      }),
      { seed, numRuns: 100 },
    );
    await e.close();
  });

  it.runIf(impl.reopen)('what was written is there after a reopen', async () => {
    const e = await impl.make();
    await e.write([put(b(1), b(1)), put(b(2), b(2))], true);
    await e.write([del(b(1))], true);
    const again = await impl.reopen!(e);
    expect(await again.get(b(1))).toBeUndefined();
    expect(await value(again, b(2))).toEqual([2]);
    await again.close();
  });

  it('rejects operations after close', async () => {
    const e = await impl.make();
    await e.close();
    await expect(e.get(b(1))).rejects.toThrow();
    await expect(e.write([put(b(1))], false)).rejects.toThrow();
    await expect(collect(e.range(b(0), b(9)))).rejects.toThrow();
  });
});
