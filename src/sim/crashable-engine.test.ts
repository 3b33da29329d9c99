/** The simulated disk's faults: slow writes land late, a failed write rejects and may or may not land, a crash fences. */
import { describe, expect, it } from 'vitest';
import { SeededRng, SimScheduler } from '../runtime/index.js';
import { CrashableDisk, DiskFault } from './crashable-engine.js';

const enc = new TextEncoder();
const put = (k: string) => [{ type: 'put' as const, key: enc.encode(k), value: enc.encode('v') }];

function setup(seed = 1) {
  const time = new SimScheduler();
  const disk = new CrashableDisk(time.scope(), new SeededRng(seed));
  return { time, disk, engine: disk.open() };
}

describe('CrashableDisk', () => {
  it('a slow disk lands each write only after its delay', async () => {
    const { time, disk, engine } = setup();
    disk.slowWrites(() => 200);
    let done = false;
    void engine.write(put('a'), true).then(() => (done = true));
    await time.runUntil(150, () => false);
    expect(done).toBe(false);
    await time.runUntil(250, () => done);
    expect(done).toBe(true);
    expect(await engine.get(enc.encode('a'))).toBeDefined();
  });

  it('a failed write rejects with a DiskFault; over many seeds it sometimes landed and sometimes not; the next write works', async () => {
    const landed = new Set<boolean>();
    for (let seed = 1; seed <= 20; seed++) {
      const { disk, engine } = setup(seed);
      disk.failNextWrite();
      await expect(engine.write(put('a'), true)).rejects.toBeInstanceOf(DiskFault);
      landed.add((await engine.get(enc.encode('a'))) !== undefined);
      await engine.write(put('b'), true);
      expect(await engine.get(enc.encode('b'))).toBeDefined();
    }
    expect([...landed].sort()).toEqual([false, true]);
  });

  it('a crash during a slow write fences it: the write never lands, the next incarnation sees the disk without it', async () => {
    const { time, disk, engine } = setup();
    disk.slowWrites(() => 100);
    void engine.write(put('a'), true);
    await time.runUntil(50, () => false);
    disk.crash();
    await time.runUntil(500, () => false);
    disk.heal();
    expect(await disk.open().get(enc.encode('a'))).toBeUndefined();
  });
});
