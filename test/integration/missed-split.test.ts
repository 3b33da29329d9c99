/**
 * A store that was away while its range split, and then caught the left half
 * up by snapshot (the log with the split entry was compacted meanwhile), never
 * applied the split, so it never created its replica of the right half. The
 * placement driver notices from its heartbeats and creates the missing
 * replica; the leader fills it by snapshot. Proven the way a user would: with
 * another store paused, the right range still needs that replica for quorum.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../support/local.js';
import { startLocal } from '../support/local.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let local: LocalCluster;
const paused = new Set<number>();

const call = (method: string, path: string, body?: unknown) => local.call(method, path, body);

/** `count` acknowledged writes to the left half (or as many as fit in `maxMs`). */
async function hammer(count: number, maxMs = 60_000): Promise<number> {
  const until = Date.now() + maxMs;
  let ok = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; ok < count && Date.now() < until; i++) if ((await call('PUT', `/kv/a-${w}-${i % 50}`, { value: String(i) })).status === 200) ok++;
    }),
  );
  return ok;
}

beforeAll(async () => {
  local = await startLocal();
}, 60_000);

afterAll(async () => {
  for (const pid of paused) process.kill(pid, 'SIGCONT');
  await local.stop();
});

describe('a store that missed a split', () => {
  it('gets its replica of the right half from the placement driver and serves quorum for it', async () => {
    const stores = (await call('GET', '/admin/stores')).json.stores as { id: number; pid: number }[];
    const pid = (id: number) => stores.find((s) => s.id === id)!.pid;
    process.kill(pid(3), 'SIGSTOP');
    paused.add(pid(3));
    await hammer(5_000);
    const split = await call('POST', '/admin/split', { key: 'm' });
    expect(split.status).toBe(200);
    expect(await call('PUT', '/kv/zz', { value: 'before' })).toEqual({ status: 200, json: { ok: true } });
    // Enough that the left half's log is compacted past the split (at 10,000 entries).
    expect(await hammer(12_000)).toBeGreaterThanOrEqual(12_000);
    process.kill(pid(3), 'SIGCONT');
    paused.delete(pid(3));
    await sleep(8_000);
    // Now the right range ["m", "") has a quorum only if store 3 really hosts it.
    process.kill(pid(1), 'SIGSTOP');
    paused.add(pid(1));
    expect(await call('PUT', '/kv/zz', { value: 'after' })).toEqual({ status: 200, json: { ok: true } });
    expect(await call('GET', '/kv/zz')).toEqual({ status: 200, json: { key: 'zz', value: 'after' } });
    process.kill(pid(1), 'SIGCONT');
    paused.delete(pid(1));
  }, 180_000);
});
