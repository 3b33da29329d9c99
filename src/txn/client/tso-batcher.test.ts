import { describe, expect, it } from 'vitest';
import { systemTimers } from '../../runtime/index.js';
import { TsoBatcher } from './tso-batcher.js';

/** A TSO whose calls the test answers by hand, recording when each was made. */
function fakeTso() {
  let next = 100n;
  const calls: { count: number; answer(): void; fail(err: Error): void }[] = [];
  const fetch = (count: number) =>
    new Promise<bigint>((resolve, reject) => {
      calls.push({
        count,
        answer: () => {
          resolve(next);
          next += BigInt(count);
        },
        fail: reject,
      });
    });
  return { fetch, calls };
}

/** Past the batcher's own check-phase callbacks (armed from promise callbacks of this turn). */
const tick = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('TsoBatcher', () => {
  it('gives the requests of one event-loop turn one call and distinct consecutive timestamps', async () => {
    const tso = fakeTso();
    const batcher = new TsoBatcher(tso.fetch, systemTimers);
    const all = [batcher.next(), batcher.next(), batcher.next()];
    await tick();
    expect(tso.calls.map((c) => c.count)).toEqual([3]);
    tso.calls[0].answer();
    expect(await Promise.all(all)).toEqual([100n, 101n, 102n]);
    expect(batcher.calls).toBe(1);
  });

  it('never answers a request from a call made before it arrived', async () => {
    const tso = fakeTso();
    const batcher = new TsoBatcher(tso.fetch, systemTimers);
    const first = batcher.next();
    await tick();
    const late = batcher.next(); // the first call is out already
    await tick();
    expect(tso.calls).toHaveLength(1);
    tso.calls[0].answer();
    expect(await first).toBe(100n);
    await tick();
    expect(tso.calls.map((c) => c.count)).toEqual([1, 1]);
    tso.calls[1].answer();
    expect(await late).toBe(101n);
  });

  it('fails the requests of a failed call and serves the next ones', async () => {
    const tso = fakeTso();
    const batcher = new TsoBatcher(tso.fetch, systemTimers);
    const doomed = batcher.next();
    await tick();
    tso.calls[0].fail(new Error('no quorum'));
    await expect(doomed).rejects.toThrow('no quorum');
    const fine = batcher.next();
    await tick();
    tso.calls[1].answer();
    expect(await fine).toBe(100n);
  });
});
