/**
 * The placement driver's scheduler on its own, against `raftshard local` with
 * four stores, a tiny split size and a short replacement timeout: ranges that
 * grow are split without anyone asking, and when a store stays down (paused
 * with SIGSTOP, so the supervisor does not restart it) its replicas are
 * rebuilt on the other stores. No acknowledged write is lost on the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCluster, RangeInfo } from '../support/local.js';
import { startLocal } from '../support/local.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let local: LocalCluster;
let paused = 0;

const call = (method: string, path: string, body?: unknown) => local.call(method, path, body);

const ranges = async () => (await call('GET', '/admin/ranges')).json.ranges as RangeInfo[];

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const scheduling = local.logs().split('\n').filter((l) => /"name":"pd-.*(moving|rebuilding|repairing|failed|split)/.test(l)).slice(-15);
      throw new Error(`timed out: ${what}\n${JSON.stringify(await ranges().catch(() => 'no ranges'))}\nlast scheduling logs:\n${scheduling.join('\n')}`);
    }
    await sleep(250);
  }
}

beforeAll(async () => {
  local = await startLocal(['--stores', '4', '--split-bytes', '6000', '--replace-after-ms', '2000']);
}, 60_000);

afterAll(async () => {
  if (paused) process.kill(paused, 'SIGCONT');
  await local.stop();
});

const written = new Map<string, string>();

describe('the placement driver schedules on its own', () => {
  it('splits a range that grows past the split size', async () => {
    for (let i = 0; i < 400; i++) {
      const key = `key-${String(i).padStart(4, '0')}`;
      const value = `value-${i}-${'x'.repeat(60)}`;
      const res = await call('PUT', `/kv/${key}`, { value });
      expect(res.status).toBe(200);
      written.set(key, value);
    }
    // ~40 KB against a 6 KB split size: several automatic splits (sizes are measured every ~10 s).
    const split = await waitFor('automatic splits', 90_000, async () => {
      const rs = await ranges();
      return rs.length >= 4 && rs.every((r) => r.leader !== null) ? rs : undefined;
    });
    for (let i = 1; i < split.length; i++) expect(split[i].start).toBe(split[i - 1].end);
    expect(split[0].start).toBe('');
    expect(split.at(-1)!.end).toBe('');
  }, 120_000);

  it('rebuilds the replicas of a store that stays down on the other stores', async () => {
    const stores = (await call('GET', '/admin/stores')).json.stores as { id: number; pid: number; ranges: number }[];
    const victim = stores.filter((s) => s.ranges > 0).sort((a, b) => b.ranges - a.ranges)[0];
    process.kill(victim.pid, 'SIGSTOP');
    paused = victim.pid;
    const after = await waitFor(`no replica left on store ${victim.id}`, 120_000, async () => {
      const rs = await ranges();
      const clean = rs.every((r) => !r.replicas.some((rep) => rep.store === victim.id) && r.replicas.filter((rep) => rep.role === 'voter').length === 3 && r.leader !== null);
      return clean ? rs : undefined;
    });
    expect(after.length).toBeGreaterThanOrEqual(4);
    const down = ((await call('GET', '/admin/stores')).json.stores as { id: number; state: string }[]).find((s) => s.id === victim.id);
    expect(down?.state).toBe('down');
    // Every acknowledged write is still there, served by the remaining stores.
    for (const [key, value] of written) expect((await call('GET', `/kv/${key}`)).json).toEqual({ key, value });
    process.kill(victim.pid, 'SIGCONT');
    paused = 0;
  }, 150_000);

  it('refuses a store that lost its data until its replicas are rebuilt elsewhere; then it may rejoin empty', async () => {
    const stores = (await call('GET', '/admin/stores')).json.stores as { id: number; pid: number; ranges: number; state: string }[];
    const victim = stores.filter((st) => st.state === 'up' && st.ranges > 0).sort((a, b) => b.ranges - a.ranges)[0];
    // Its disk is gone: stop it, wipe its directory, kill it; the supervisor restarts it on the empty directory.
    process.kill(victim.pid, 'SIGSTOP');
    paused = victim.pid;
    rmSync(join(local.dir, `store-${victim.id}`), { recursive: true, force: true });
    process.kill(victim.pid, 'SIGKILL');
    paused = 0;
    // Refused while it is still listed as a replica (a voter that forgot what it acknowledged breaks Raft's safety) ...
    await waitFor('the placement driver refuses the wiped store', 30_000, async () => (local.logs().includes(`store ${victim.id} has replicas but started on an empty data directory`) ? true : undefined));
    // ... until the PD has rebuilt every one of its replicas on the other stores.
    await waitFor(`replicas of store ${victim.id} rebuilt elsewhere`, 120_000, async () => {
      const rs = await ranges();
      return rs.every((r) => !r.replicas.some((rep) => rep.store === victim.id) && r.replicas.filter((rep) => rep.role === 'voter').length === 3 && r.leader !== null) ? rs : undefined;
    });
    for (const [key, value] of written) expect((await call('GET', `/kv/${key}`)).json).toEqual({ key, value });
    // The PD keeps balancing (the store may rejoin empty): healthy again within seconds.
    await waitFor('/health 200', 30_000, async () => ((await call('GET', '/health')).status === 200 ? true : undefined));
  }, 180_000);
});
