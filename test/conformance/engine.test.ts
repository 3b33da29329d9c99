/** One suite, every Engine implementation (as abstract-level's test suite does). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/storage/index.js';
import { LevelEngine, MemoryEngine } from '../../src/storage/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const impls: [string, () => Promise<Engine>][] = [
  ['MemoryEngine', async () => new MemoryEngine()],
  [
    'LevelEngine',
    async () => {
      const d = mkdtempSync(join(tmpdir(), 'raftshard-engine-'));
      dirs.push(d);
      return LevelEngine.open(d);
    },
  ],
];

const b = (...xs: number[]) => Uint8Array.from(xs);

describe.each(impls)('Engine conformance: %s', (_name, make) => {
  it('get of an absent key is undefined; put then get returns the bytes', async () => {
    const e = await make();
    expect(await e.get(b(1))).toBeUndefined();
    await e.write([{ type: 'put', key: b(1), value: b(9, 9) }], true);
    expect(Array.from((await e.get(b(1)))!)).toEqual([9, 9]);
    await e.close();
  });

  it('a batch applies puts and deletes in order, atomically', async () => {
    const e = await make();
    await e.write(
      [
        { type: 'put', key: b(2), value: b(1) },
        { type: 'del', key: b(2) },
        { type: 'put', key: b(3), value: b(3) },
      ],
      false,
    );
    expect(await e.get(b(2))).toBeUndefined();
    expect(Array.from((await e.get(b(3)))!)).toEqual([3]);
    await e.close();
  });

  it('range iterates [gte, lt) in bytewise order', async () => {
    const e = await make();
    const keys = [b(0), b(1), b(1, 0), b(1, 255), b(2), b(255)];
    await e.write(keys.reverse().map((key) => ({ type: 'put' as const, key, value: key })), true);
    const seen: number[][] = [];
    for await (const [k] of e.range(b(1), b(2))) seen.push(Array.from(k));
    expect(seen).toEqual([[1], [1, 0], [1, 255]]);
    await e.close();
  });
});
