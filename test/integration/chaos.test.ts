/**
 * Everything at once, as an outside tester would do it: clients write and
 * read-back their keys and run get/put/cas on shared registers, while a
 * seeded nemesis splits ranges, moves replicas, transfers leaders, kills
 * stores and the PD leader with -9 (`raftshard local` restarts them) and
 * pauses stores with SIGSTOP. Afterwards: every acknowledged write is
 * readable, the registers' history is linearizable, the range table is
 * contiguous with three voters per range, and /health is 200.
 * CHAOS_SEED=<n> replays a run's choice of faults (timings still vary).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster, RangeInfo } from '../support/local.js';
import { startLocal } from '../support/local.js';
import { GatewayLoad, httpJson } from '../support/gateway-load.js';

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const NEMESIS_MS = 45_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let local: LocalCluster;
const paused = new Set<number>();

/**
 * Signals a process of this cluster; false if it is gone (the PD may still
 * list the pid of a child that was restarted). The command line is checked
 * first, so a reused pid never reaches another process.
 */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(local.dir)) return false;
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** A small seeded generator (the test's own: src/ code never draws randomness itself). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

beforeAll(async () => {
  local = await startLocal(['--stores', '4']);
}, 60_000);

afterAll(async () => {
  for (const pid of paused) signal(pid, 'SIGCONT');
  await local.stop();
});

describe(`chaos (CHAOS_SEED=${SEED})`, () => {
  it('keeps every acknowledged write and a linearizable history through splits, moves, transfers, kill -9 and pauses', async () => {
    const api = (method: string, path: string, body?: unknown) => httpJson(local.url, method, path, body, undefined, 90_000);
    const load = new GatewayLoad(local.url, { writers: 6, registerKeys: ['b-reg', 'k-reg', 'q-reg', 'x-reg'], registerClients: 4, pauseMs: 5 });
    await load.initRegisters();
    const phase = load.start('chaos');
    const pick = rng(SEED);
    const log: string[] = [];
    const until = Date.now() + NEMESIS_MS;
    while (Date.now() < until) {
      const ranges = ((await api('GET', '/admin/ranges')).json?.ranges ?? []) as RangeInfo[];
      const stores = ((await api('GET', '/admin/stores')).json?.stores ?? []) as { id: number; pid: number | null; state: string }[];
      const up = stores.filter((s) => s.state === 'up' && s.pid && !paused.has(s.pid));
      const fault = pick(6);
      if (fault === 0) {
        const key = `${'bdfhjkmpqsvwx'[pick(13)]}${pick(100)}`;
        const res = await api('POST', '/admin/split', { key });
        log.push(`split ${key}: ${res.status}`);
      } else if (fault === 1 && ranges.length > 0 && up.length > 0) {
        const r = ranges[pick(ranges.length)];
        const from = r.replicas[pick(r.replicas.length)].store;
        const targets = up.filter((s) => !r.replicas.some((rep) => rep.store === s.id));
        if (targets.length > 0) {
          const to = targets[pick(targets.length)].id;
          const res = await api('POST', '/admin/move', { range: r.id, from, to });
          log.push(`move ${r.id} ${from}->${to}: ${res.status}`);
        }
      } else if (fault === 2 && ranges.length > 0) {
        const r = ranges[pick(ranges.length)];
        const to = r.replicas[pick(r.replicas.length)].store;
        const res = await api('POST', '/admin/transfer-leader', { range: r.id, to });
        log.push(`transfer ${r.id} ->${to}: ${res.status}`);
      } else if (fault === 3 && up.length > 0) {
        const victim = up[pick(up.length)];
        if (signal(victim.pid!, 'SIGKILL')) log.push(`kill -9 store ${victim.id}`);
      } else if (fault === 4 && up.length > 0) {
        const victim = up[pick(up.length)];
        const pause = 1_000 + pick(4_000);
        if (signal(victim.pid!, 'SIGSTOP')) {
          paused.add(victim.pid!);
          log.push(`pause store ${victim.id} for ${pause} ms`);
          await sleep(pause);
          signal(victim.pid!, 'SIGCONT');
          paused.delete(victim.pid!);
        }
      } else if (fault === 5) {
        const members = ((await api('GET', '/admin/pd')).json?.members ?? []) as { pid: number | null; leader: boolean }[];
        const leader = members.find((m) => m.leader && m.pid);
        if (leader && signal(leader.pid!, 'SIGKILL')) log.push('kill -9 pd leader');
      }
      await sleep(500 + pick(1_500));
    }
    // Heal: everything runs again; the PD repairs and rebalances on its own.
    for (const pid of paused) signal(pid, 'SIGCONT');
    paused.clear();
    let ranges: RangeInfo[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = await api('GET', '/health');
      ranges = ((await api('GET', '/admin/ranges')).json?.ranges ?? []) as RangeInfo[];
      const settled = health.status === 200 && ranges.length > 0 && ranges.every((r) => r.leader !== null && r.replicas.filter((rep) => rep.role === 'voter').length === 3 && r.replicas.length === 3);
      if (settled) break;
      if (Date.now() > deadline) throw new Error(`cluster did not settle (seed ${SEED}); faults:\n${log.join('\n')}\nranges: ${JSON.stringify(ranges)}`);
      await sleep(500);
    }
    const report = await phase.stop();
    const context = `seed ${SEED}; faults:\n${log.join('\n')}`;
    expect(report.violations, context).toEqual([]);
    expect(report.unexpected, context).toEqual([]);
    expect(report.acked, context).toBeGreaterThan(100);
    // The nemesis really struck: processes died or stopped, and the topology changed.
    expect(log.filter((l) => l.startsWith('kill') || l.startsWith('pause')).length, context).toBeGreaterThan(0);
    expect(log.filter((l) => / 200$/.test(l)).length, context).toBeGreaterThan(0);
    // The table is contiguous from "" to "".
    expect(ranges[0].start).toBe('');
    expect(ranges.at(-1)!.end).toBe('');
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].start, context).toBe(ranges[i - 1].end);
    // Every acknowledged write reads back with its value.
    for (const [key, value] of load.acked) {
      let res = await api('GET', `/kv/${encodeURIComponent(key)}`);
      for (let i = 0; res.status === 503 && i < 20; i++) res = (await sleep(250), await api('GET', `/kv/${encodeURIComponent(key)}`));
      expect({ key, status: res.status, value: res.json?.value }, context).toEqual({ key, status: 200, value });
    }
    const lin = load.checkRegisters();
    expect(lin.ok, `${context}\n${JSON.stringify(lin).slice(0, 2000)}`).toBe(true);
  }, 240_000);
});
