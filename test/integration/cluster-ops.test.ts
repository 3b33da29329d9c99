/**
 * Cluster operations as a user drives them against `raftshard local`: real
 * placement-driver, store and gateway processes, real HTTP, nothing mocked.
 * Under a background load (test/support/gateway-load.ts) the cluster is split
 * at many keys, a fourth store joins, a replica moves onto it, the cluster is
 * rebalanced, a leader is transferred, and a store and the PD leader are
 * killed with -9. Then every acknowledged write must read back, the shared
 * keys' history must be linearizable, and the admin API's error answers must
 * change nothing.
 *
 * Layout of `raftshard local --port P` relied on: gateway on P, PD members on
 * P+1..P+3, stores 1..3 on P+11..P+13; a new cluster has one range ["", "")
 * on stores 1..3. On failure the cluster's state (/health, /admin/pd,
 * /admin/stores, /admin/ranges) and the processes' output are printed.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HttpResult, PhaseReport, RunningPhase } from '../support/gateway-load.js';
import { GatewayLoad, httpJson } from '../support/gateway-load.js';
import { clusterBasePort, freePort } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'raftshard-ops-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  store: number;
  role: 'voter' | 'learner';
}
interface RangeInfo {
  id: number;
  start: string;
  end: string;
  epoch: { version: number; confVer: number };
  replicas: Replica[];
  leader: number | null;
  approxBytes: number;
  approxKeys: number;
}
interface StoreInfo {
  id: number;
  address: string;
  pid: number | null;
  state: 'up' | 'down' | 'decommissioning' | 'removed';
  ranges: number;
  leaders: number;
}
interface PdMember {
  id: number;
  address: string;
  pid: number | null;
  leader: boolean;
}

/** Split points, in the order they are split: spread over the keyspace, four of them among the writers' keys. */
const SPLIT_KEYS = ['m', 'c', 'w4-1', 'f', 's', 'j', 'w2', 'p', 'y', 'w7', 'v', 'w5-3'];
/** Written once before the splits: four keys under each of a..v. */
const STATIC_KEYS = [...'abcdefghijklmnopqrstuv'].flatMap((c) => [0, 1, 2, 3].map((i) => `${c}/${i}`));
/** The register clients' shared keys, each in another range once split. */
const REGISTER_KEYS = ['b-reg', 'k-reg', 'q-reg', 'x-reg'];

/** The last few KB a child process printed. */
class OutputTail {
  private text = '';
  add(d: Buffer): void {
    this.text = (this.text + d.toString()).slice(-8000);
  }
  toString(): string {
    return this.text;
  }
}

let port = 0;
let url = '';
let gatewayPid = 0;
let local: ChildProcess | undefined;
let store4: ChildProcess | undefined;
const localOutput = new OutputTail();
const store4Output = new OutputTail();
let load: GatewayLoad;
let running: RunningPhase | undefined;

const api = (method: string, path: string, body?: unknown, raw?: string): Promise<HttpResult> => httpJson(url, method, path, body, raw, 120_000);
const byteCmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sortBytes = (keys: Iterable<string>) => [...keys].sort(byteCmp);
const voters = (r: RangeInfo) => r.replicas.filter((p) => p.role === 'voter').map((p) => p.store).sort((a, b) => a - b);
const holding = (rs: RangeInfo[], key: string) => rs.find((r) => byteCmp(r.start, key) <= 0 && (r.end === '' || byteCmp(key, r.end) < 0));
const bounds = (r: { id: number; start: string; end: string }) => ({ id: r.id, start: r.start, end: r.end });
/** What bad input must not change: boundaries, epochs, replica sets (leaders may move). */
const shape = (rs: RangeInfo[]) => rs.map((r) => ({ ...bounds(r), epoch: r.epoch, replicas: [...r.replicas].sort((a, b) => a.store - b.store) }));

async function getOk(path: string): Promise<Record<string, unknown>> {
  const res = await api('GET', path);
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status} ${res.text.slice(0, 500)}`);
  return res.json as Record<string, unknown>;
}
const getRanges = async () => (await getOk('/admin/ranges')).ranges as RangeInfo[];
const getStores = async () => (await getOk('/admin/stores')).stores as StoreInfo[];
const getPd = async () => (await getOk('/admin/pd')).members as PdMember[];

function fmtRanges(rs: RangeInfo[]): string {
  const key = (k: string, edge: string) => (k === '' ? edge : JSON.stringify(k));
  return rs
    .map((r) => {
      const replicas = (r.replicas ?? []).map((p) => (p.role === 'voter' ? `${p.store}` : `${p.store}(${p.role})`)).join(',');
      return `  #${r.id} [${key(r.start, '-inf')}, ${key(r.end, '+inf')}) epoch v${r.epoch?.version}/c${r.epoch?.confVer} leader=${r.leader} replicas=${replicas} keys~${r.approxKeys}`;
    })
    .join('\n');
}

/** Everything worth seeing when a step fails. */
async function clusterState(): Promise<string> {
  const parts = ['--- cluster state ---'];
  for (const path of ['/health', '/admin/pd', '/admin/stores']) {
    const res = await httpJson(url, 'GET', path, undefined, undefined, 5000);
    parts.push(`GET ${path} -> ${res.status} ${res.text.slice(0, 2000)}`);
  }
  const res = await httpJson(url, 'GET', '/admin/ranges', undefined, undefined, 5000);
  parts.push(`GET /admin/ranges -> ${res.status}\n${res.status === 200 && Array.isArray(res.json?.ranges) ? fmtRanges(res.json.ranges) : res.text.slice(0, 2000)}`);
  parts.push(`--- raftshard local output (tail) ---\n${localOutput}`);
  if (store4) parts.push(`--- store 4 output (tail) ---\n${store4Output}`);
  return parts.join('\n');
}

/** Polls `probe` until it returns a value (the cluster's state is printed when the test fails). */
async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(250);
  }
}

/** Ordered, contiguous, covering everything from "" to "". */
function tableProblems(rs: RangeInfo[]): string[] {
  if (rs.length === 0) return ['no ranges at all'];
  const problems: string[] = [];
  if (rs[0].start !== '') problems.push(`the first range #${rs[0].id} starts at ${JSON.stringify(rs[0].start)}, not ""`);
  if (rs[rs.length - 1].end !== '') problems.push(`the last range #${rs[rs.length - 1].id} ends at ${JSON.stringify(rs[rs.length - 1].end)}, not ""`);
  for (let i = 0; i + 1 < rs.length; i++) {
    if (rs[i].end !== rs[i + 1].start) problems.push(`#${rs[i].id} ends at ${JSON.stringify(rs[i].end)} but the next range #${rs[i + 1].id} starts at ${JSON.stringify(rs[i + 1].start)}`);
  }
  for (const r of rs) if (r.end !== '' && byteCmp(r.start, r.end) >= 0) problems.push(`#${r.id} is empty or reversed`);
  if (new Set(rs.map((r) => r.id)).size !== rs.length) problems.push('a range id appears twice');
  return problems;
}

/** Each range: exactly three voters on distinct up stores, no learners left, the leader one of the voters. */
function replicaProblems(rs: RangeInfo[], upStores: number[]): string[] {
  const problems: string[] = [];
  for (const r of rs) {
    const stores = r.replicas.map((p) => p.store);
    if (r.replicas.length !== 3 || voters(r).length !== 3) problems.push(`#${r.id} has replicas ${JSON.stringify(r.replicas)}, not three voters`);
    if (new Set(stores).size !== stores.length) problems.push(`#${r.id} has two replicas on one store`);
    for (const s of stores) if (!upStores.includes(s)) problems.push(`#${r.id} has a replica on store ${s}, which is not up`);
    if (r.leader === null || !voters(r).includes(r.leader)) problems.push(`#${r.id} has leader ${r.leader}, not one of its voters`);
  }
  return problems;
}

function expectHealthyPhase(r: PhaseReport, maxGapMs: number): void {
  const summary = `load phase "${r.name}": ${JSON.stringify(r)}`;
  expect(r.unexpected, summary).toEqual([]);
  expect(r.violations, summary).toEqual([]);
  expect(r.acked, summary).toBeGreaterThan(20);
  expect(Math.max(...r.maxGapMs), `a writer went this long without an acknowledged write; ${summary}`).toBeLessThan(maxGapMs);
}

/** Runs `body` under the background load; then the load must have been served throughout. */
async function underLoad(name: string, maxGapMs: number, body: () => Promise<void>): Promise<void> {
  running = load.start(name);
  let report: PhaseReport;
  try {
    await body();
  } finally {
    report = await running.stop();
    running = undefined;
    console.info(`load phase "${report.name}": ${report.durationMs} ms, ${report.acked} writes acknowledged, longest gap per writer ${report.maxGapMs.join('/')} ms, ${JSON.stringify(report.statuses)}`);
  }
  expectHealthyPhase(report, maxGapMs);
}

/** Kills with -9 only a process of this cluster's kind (a wrong pid from the API must not take anything else down). */
function kill9(pid: number | null | undefined, role: 'store' | 'pd'): void {
  expect(typeof pid === 'number' && pid > 1 && pid !== process.pid && pid !== local?.pid, `pid ${pid} of a ${role}`).toBe(true);
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync(cmdline)) {
    const argv = readFileSync(cmdline).toString().split('\0');
    expect(argv.some((a) => a.endsWith('main.js')) && argv.includes(role), `pid ${pid} runs ${argv.join(' ')}, not a raftshard ${role}`).toBe(true);
  }
  process.kill(pid!, 'SIGKILL');
}

interface ScanResult {
  items: { key: string; value: string }[];
  pages: number;
  problems: string[];
}

/** GET /kv page by page (each next page starts just after the last key), checking each page against `limit`. */
async function scan(start: string | undefined, end: string | undefined, limit: number): Promise<ScanResult> {
  const out: ScanResult = { items: [], pages: 0, problems: [] };
  let from = start;
  for (;;) {
    const q = new URLSearchParams();
    if (from !== undefined) q.set('start', from);
    if (end !== undefined) q.set('end', end);
    q.set('limit', String(limit));
    const res = await api('GET', `/kv?${q}`);
    if (res.status !== 200 || !Array.isArray(res.json?.items) || typeof res.json?.more !== 'boolean') throw new Error(`GET /kv?${q} answered ${res.status} ${res.text.slice(0, 500)}`);
    const items = res.json.items as { key: string; value: string }[];
    out.pages++;
    if (items.length > limit) out.problems.push(`page ${out.pages} (start ${JSON.stringify(from)}) has ${items.length} items, over the limit ${limit}`);
    if (res.json.more && items.length !== limit) out.problems.push(`page ${out.pages} (start ${JSON.stringify(from)}) has ${items.length} items with more=true`);
    out.items.push(...items);
    if (!res.json.more || items.length === 0) break;
    from = `${items[items.length - 1].key}\u0000`;
  }
  const keys = out.items.map((i) => i.key);
  for (let i = 0; i + 1 < keys.length; i++) if (byteCmp(keys[i], keys[i + 1]) >= 0) out.problems.push(`${JSON.stringify(keys[i])} comes before ${JSON.stringify(keys[i + 1])}`);
  for (const k of keys) {
    if ((start !== undefined && byteCmp(k, start) < 0) || (end !== undefined && end !== '' && byteCmp(k, end) >= 0)) out.problems.push(`${JSON.stringify(k)} is outside [${start}, ${end})`);
  }
  return out;
}

function startLocal(): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  local = child;
  child.stderr!.on('data', (d: Buffer) => localOutput.add(d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      localOutput.add(d);
      if (localOutput.toString().includes('raftshard is ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`raftshard local exited (${code ?? signal}) before it was ready:\n${localOutput}`)));
  });
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

beforeAll(async () => {
  port = await clusterBasePort();
  url = `http://127.0.0.1:${port}`;
  load = new GatewayLoad(url, { writers: 8, registerKeys: REGISTER_KEYS, registerClients: 4, pauseMs: 20 });
  await startLocal();
  const health = await api('GET', '/health');
  expect(health.status, health.text).toBe(200);
  gatewayPid = health.json.pid as number;
  for (const k of STATIC_KEYS) expect((await api('PUT', `/kv/${encodeURIComponent(k)}`, { value: `v-${k}` })).status, k).toBe(200);
  await load.initRegisters();
}, 90_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => console.error(await clusterState()));
});

afterAll(async () => {
  await running?.stop().catch(() => {});
  await stopChild(store4, 'SIGKILL');
  await stopChild(local, 'SIGINT');
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('cluster operations over HTTP against raftshard local', () => {
  it('splits at many keys under load: each split answers its two ranges, again at a boundary is a no-op, the table stays contiguous', async () => {
    const stores = (await getStores()).sort((a, b) => a.id - b.id);
    expect(stores.map((s) => [s.id, s.state, typeof s.pid]), JSON.stringify(stores)).toEqual([
      [1, 'up', 'number'],
      [2, 'up', 'number'],
      [3, 'up', 'number'],
    ]);
    const initial = await getRanges();
    expect(initial.map((r) => [r.start, r.end, voters(r)]), `a new cluster has one range on stores 1..3:\n${fmtRanges(initial)}`).toEqual([['', '', [1, 2, 3]]]);
    const initialVersion = initial[0].epoch.version;

    await underLoad('splits', 10_000, async () => {
      await sleep(1000);
      const boundaries = [''];
      for (const key of SPLIT_KEYS) {
        const lo = boundaries.filter((b) => byteCmp(b, key) < 0).pop()!;
        const hi = boundaries.find((b) => b !== '' && byteCmp(b, key) > 0) ?? '';
        const res = await api('POST', '/admin/split', { key });
        expect(res.status, `POST /admin/split ${key}: ${res.text}`).toBe(200);
        const { left, right } = res.json as { left: RangeInfo; right: RangeInfo };
        const what = `split at ${JSON.stringify(key)} of [${JSON.stringify(lo)}, ${JSON.stringify(hi)}) answered ${res.text}`;
        expect([left.start, left.end, right.start, right.end], what).toEqual([lo, key, key, hi]);
        expect(left.id, what).not.toBe(right.id);
        expect([voters(left), voters(right)], what).toEqual([
          [1, 2, 3],
          [1, 2, 3],
        ]);
        const again = await api('POST', '/admin/split', { key });
        expect(again.status, `split again at ${key}: ${again.text}`).toBe(200);
        expect([bounds(again.json.left), bounds(again.json.right)], `split again at ${key}: ${again.text}`).toEqual([bounds(left), bounds(right)]);
        boundaries.push(key);
        boundaries.sort(byteCmp);
        await sleep(300);
      }
      await sleep(1000);
    });

    const rs = await eventually('every range to have a leader', 20_000, async () => {
      const rs = await getRanges();
      return rs.every((r) => r.leader !== null) ? rs : undefined;
    });
    const table = fmtRanges(rs);
    expect(tableProblems(rs), table).toEqual([]);
    expect(
      rs.map((r) => r.start),
      table,
    ).toEqual(['', ...sortBytes(SPLIT_KEYS)]);
    expect(replicaProblems(rs, [1, 2, 3]), table).toEqual([]);
    for (const r of rs) expect(r.epoch.version, `epoch.version of #${r.id} vs ${initialVersion} before the splits:\n${table}`).toBeGreaterThan(initialVersion);
    // Every boundary again, now from the settled table: the two ranges around it, unchanged.
    for (let i = 1; i < rs.length; i++) {
      const res = await api('POST', '/admin/split', { key: rs[i].start });
      expect(res.status, res.text).toBe(200);
      expect([bounds(res.json.left), bounds(res.json.right)], `split at the boundary ${JSON.stringify(rs[i].start)}: ${res.text}\n${table}`).toEqual([bounds(rs[i - 1]), bounds(rs[i])]);
    }
    expect(shape(await getRanges()), 'splits at existing boundaries changed the table').toEqual(shape(rs));
  }, 120_000);

  it('scans across range boundaries in byte order, with limit and more paging', async () => {
    const belowW = sortBytes([...STATIC_KEYS, ...REGISTER_KEYS].filter((k) => byteCmp(k, 'w') < 0));
    const whole = await scan('a', 'w', 10_000);
    expect(whole.problems).toEqual([]);
    expect(whole.pages).toBe(1);
    expect(whole.items.map((i) => i.key)).toEqual(belowW);
    for (const i of whole.items) if (!REGISTER_KEYS.includes(i.key)) expect(i.value, i.key).toBe(`v-${i.key}`);

    // Pages of 6 cross range boundaries (c, f, j, m, p, s, v) both inside a page and between pages.
    expect(belowW.length % 6, 'a partial last page').not.toBe(0);
    const paged = await scan('a', 'w', 6);
    expect(paged.problems).toEqual([]);
    expect(paged.pages).toBe(Math.ceil(belowW.length / 6));
    expect(paged.items).toEqual(whole.items);

    // Start and end exactly on boundaries: [f, m) is three whole ranges.
    const middle = await scan('f', 'm', 5);
    expect(middle.problems).toEqual([]);
    expect(middle.items.map((i) => i.key)).toEqual(belowW.filter((k) => byteCmp(k, 'f') >= 0 && byteCmp(k, 'm') < 0));

    // The writers' keys, spread over five ranges: every acknowledged one, each with its value.
    const writers = await scan('w', 'x', 500);
    expect(writers.problems).toEqual([]);
    const found = new Map(writers.items.map((i) => [i.key, i.value]));
    const missing = [...load.acked.keys()].filter((k) => !found.has(k));
    expect(missing.slice(0, 20), `${missing.length} acknowledged writes are missing from the scan`).toEqual([]);
    const strays = writers.items.filter((i) => !load.attempted.has(i.key) || i.value !== i.key.split('-')[1]);
    expect(strays.slice(0, 20), 'keys never written, or with a value never written').toEqual([]);
    // A last page that is exactly full may or may not say more=true.
    expect(writers.pages).toBeGreaterThanOrEqual(Math.ceil(writers.items.length / 500));
    expect(writers.pages).toBeLessThanOrEqual(Math.floor(writers.items.length / 500) + 1);

    // Unbounded, paged: everything, in order.
    const all = await scan(undefined, undefined, 1000);
    expect(all.problems).toEqual([]);
    expect(all.items.map((i) => i.key)).toEqual(sortBytes([...belowW, ...found.keys(), 'x-reg']));
  }, 60_000);

  it('a fourth store joins; a replica moves onto it; rebalance spreads replicas and leaders over the four stores', async () => {
    const pd = await getPd();
    expect(pd.length, JSON.stringify(pd)).toBe(3);
    const listen = `127.0.0.1:${await freePort()}`;
    store4 = spawn(process.execPath, [CLI, 'store', '--dir', join(dir, 'store-4'), '--listen', listen, '--pd', pd.map((m) => m.address).join(',')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The supervisor variable makes the store exit if this test process dies without its afterAll.
      env: { ...process.env, RAFTSHARD_LOG: 'warn', RAFTSHARD_SUPERVISOR_PID: String(process.pid) },
    });
    store4.stdout!.on('data', (d: Buffer) => store4Output.add(d));
    store4.stderr!.on('data', (d: Buffer) => store4Output.add(d));
    const joined = await eventually(`the store listening on ${listen} to be up in /admin/stores`, 60_000, async () => (await getStores()).find((s) => s.address === listen && s.state === 'up'));
    expect([1, 2, 3], 'the new store got the id of an existing one').not.toContain(joined.id);
    expect(joined.pid).toBe(store4.pid);
    const newId = joined.id;

    await underLoad('move and rebalance', 10_000, async () => {
      // Move the leader's own replica of the range holding a register key onto the new store.
      const target = await eventually('the range holding k-reg to have a leader', 20_000, async () => {
        const r = holding(await getRanges(), 'k-reg');
        return r?.leader != null ? r : undefined;
      });
      const from = target.leader!;
      const moved = await api('POST', '/admin/move', { range: target.id, from, to: newId });
      const what = `move of #${target.id} from ${from} to ${newId}: ${moved.status} ${moved.text}`;
      expect(moved.status, what).toBe(200);
      const d = moved.json as RangeInfo;
      expect(bounds(d), what).toEqual(bounds(target));
      expect(voters(d), what).toContain(newId);
      expect(
        d.replicas.map((p) => p.store),
        what,
      ).not.toContain(from);
      expect(voters(d).length, what).toBe(3);
      expect(d.epoch.confVer, what).toBeGreaterThan(target.epoch.confVer);
      await eventually(`/admin/ranges to show #${target.id} on store ${newId} and not on ${from}`, 10_000, async () => {
        const r = (await getRanges()).find((x) => x.id === target.id);
        return r && voters(r).includes(newId) && !r.replicas.some((p) => p.store === from) ? r : undefined;
      });

      const rb = await api('POST', '/admin/rebalance');
      expect(rb.status, rb.text).toBe(200);
      expect(Array.isArray(rb.json?.moves), rb.text).toBe(true);
      console.info(`rebalance made ${rb.json.moves.length} moves`);
    });

    const up = (await getStores())
      .filter((s) => s.state === 'up')
      .map((s) => s.id)
      .sort((a, b) => a - b);
    expect(up).toEqual([1, 2, 3, newId]);
    const rs = await eventually('every range to have a leader', 20_000, async () => {
      const rs = await getRanges();
      return rs.every((r) => r.leader !== null) ? rs : undefined;
    });
    const table = fmtRanges(rs);
    expect(tableProblems(rs), table).toEqual([]);
    expect(replicaProblems(rs, up), table).toEqual([]);
    const replicas = up.map((s) => rs.filter((r) => r.replicas.some((p) => p.store === s)).length);
    expect(Math.max(...replicas) - Math.min(...replicas), `replicas per store ${up.join('/')}: ${replicas.join('/')}\n${table}`).toBeLessThanOrEqual(1);
    const leaders = up.map((s) => rs.filter((r) => r.leader === s).length);
    expect(Math.min(...leaders), `leaders per store ${up.join('/')}: ${leaders.join('/')}\n${table}`).toBeGreaterThan(0);
  }, 180_000);

  it('decommissions the fourth store under load: its replicas move away, it is removed for good and gets none again', async () => {
    const s4 = (await getStores()).find((s) => s.pid === store4?.pid);
    expect(s4, 'the fourth store in /admin/stores').toBeDefined();
    expect(s4!.ranges).toBeGreaterThan(0);
    await underLoad('decommission', 10_000, async () => {
      const res = await api('POST', '/admin/decommission', { store: s4!.id });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ store: s4!.id, state: 'removed' });
      expect(res.json.moves.length, res.text).toBe(s4!.ranges);
    });
    const gone = (await getStores()).find((s) => s.id === s4!.id);
    expect(gone).toMatchObject({ state: 'removed', ranges: 0, leaders: 0 });
    await eventually('every range on three voters of stores 1..3, with a leader', 20_000, async () => (replicaProblems(await getRanges(), [1, 2, 3]).length === 0 ? true : undefined));
    // Again: already removed, nothing to do. And a rebalance gives it nothing back.
    const again = await api('POST', '/admin/decommission', { store: s4!.id });
    expect(again.status, again.text).toBe(200);
    expect(again.json.moves).toEqual([]);
    expect((await api('POST', '/admin/rebalance')).status).toBe(200);
    expect((await getStores()).find((s) => s.id === s4!.id)).toMatchObject({ state: 'removed', ranges: 0 });
  }, 180_000);

  it('transfers a leader under load', async () => {
    await underLoad('transfer-leader', 10_000, async () => {
      const r = await eventually('the range holding w3-1 to have a leader', 20_000, async () => {
        const r = holding(await getRanges(), 'w3-1');
        return r?.leader != null ? r : undefined;
      });
      const to = voters(r).find((s) => s !== r.leader)!;
      const res = await api('POST', '/admin/transfer-leader', { range: r.id, to });
      expect(res.status, `transfer-leader of #${r.id} from ${r.leader} to ${to}: ${res.text}`).toBe(200);
      await eventually(`/admin/ranges to show store ${to} as the leader of #${r.id}`, 5000, async () => ((await getRanges()).find((x) => x.id === r.id)?.leader === to ? true : undefined));
      // To the store that leads already: nothing to do.
      const same = await api('POST', '/admin/transfer-leader', { range: r.id, to });
      expect(same.status, same.text).toBe(200);
      expect((await getRanges()).find((x) => x.id === r.id)?.leader).toBe(to);
      await sleep(1000);
    });
  }, 60_000);

  it('keeps serving when a store and the PD leader are killed with -9', async () => {
    // Some 503s are allowed while leaders are re-elected, but every writer is served again within about 10 s.
    await underLoad('kill -9 of a store and the PD leader', 12_000, async () => {
      await sleep(2000);
      // The store among 1..3 (restarted by `local`) that leads the most ranges.
      const rs = await getRanges();
      const victim = [1, 2, 3].sort((a, b) => rs.filter((r) => r.leader === b).length - rs.filter((r) => r.leader === a).length)[0];
      const victimPid = (await getStores()).find((s) => s.id === victim)?.pid;
      kill9(victimPid, 'store');
      const killedAt = performance.now();
      await sleep(2000);
      const pdLeader = (await getPd()).find((m) => m.leader);
      expect(pdLeader, 'a PD leader before the kill').toBeDefined();
      kill9(pdLeader!.pid, 'pd');

      await eventually('a PD leader again, in another process', 20_000, async () => {
        const leaders = (await getPd()).filter((m) => m.leader);
        return leaders.length === 1 && leaders[0].pid !== pdLeader!.pid ? leaders[0] : undefined;
      });
      await eventually(`store ${victim} to be up again in a new process`, 30_000, async () => (await getStores()).find((s) => s.id === victim && s.state === 'up' && s.pid != null && s.pid !== victimPid));
      await eventually(`PD member ${pdLeader!.id} to run again in a new process`, 30_000, async () => (await getPd()).find((m) => m.id === pdLeader!.id && m.pid != null && m.pid !== pdLeader!.pid));
      // The load goes on until well after both kills.
      await sleep(Math.max(3000, 14_000 - (performance.now() - killedAt)));
    });
  }, 120_000);

  it('every acknowledged write reads back with its value; the shared keys stayed linearizable; /health is 200', async () => {
    const health = await eventually('GET /health to answer 200', 30_000, async () => {
      const res = await api('GET', '/health');
      return res.status === 200 ? res : undefined;
    });
    expect(health.json).toMatchObject({ ok: true, pid: gatewayPid });

    const entries = [...load.acked.entries()];
    expect(entries.length).toBeGreaterThan(200);
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < entries.length) {
          const [key, value] = entries[next++];
          let res = await api('GET', `/kv/${encodeURIComponent(key)}`);
          for (let attempt = 0; attempt < 3 && (res.status === 503 || res.status === 0); attempt++) {
            await sleep(1000);
            res = await api('GET', `/kv/${encodeURIComponent(key)}`);
          }
          if (res.status !== 200 || res.json?.value !== value) failures.push(`${key}: acknowledged with ${value}, read ${res.status} ${res.text.slice(0, 100)}`);
        }
      }),
    );
    expect(failures.slice(0, 20), `${failures.length} of ${entries.length} acknowledged writes do not read back`).toEqual([]);

    const completed = load.history.filter((h) => h.output !== undefined).length;
    expect(completed).toBeGreaterThan(100);
    const lin = load.checkRegisters();
    expect(lin, JSON.stringify(lin)).toEqual({ ok: true });
    console.info(`${entries.length} acknowledged writes read back; ${completed} register operations linearizable`);
  }, 120_000);

  it('answers bad admin requests with the error table and changes nothing', async () => {
    const before = await eventually('the range table to hold still for 2 s', 30_000, async () => {
      const a = await getRanges();
      await sleep(2000);
      const b = await getRanges();
      return JSON.stringify(shape(a)) === JSON.stringify(shape(b)) ? b : undefined;
    });
    const some = before[0];
    const [voter] = voters(some);
    const stores = (await getStores()).map((s) => s.id);
    const other = stores.find((s) => !some.replicas.some((p) => p.store === s)) ?? voter;
    const unknownRange = Math.max(...before.map((r) => r.id)) + 1000;
    const unknownStore = Math.max(...stores) + 1000;
    const cases: [method: string, path: string, body: unknown, raw: string | undefined, status: number, code: string][] = [
      ['POST', '/admin/move', { range: unknownRange, from: voter, to: other }, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/move', { range: some.id, from: voter, to: unknownStore }, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/move', { range: 'x' }, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/move', { range: some.id, from: String(voter), to: other }, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/move', [some.id, voter, other], undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/move', undefined, '{"range":', 400, 'BAD_REQUEST'],
      ['POST', '/admin/split', {}, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/split', { key: 42 }, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/split', { key: '' }, undefined, 400, 'BAD_REQUEST'],
      ['POST', '/admin/split', { key: 'k'.repeat(4097) }, undefined, 413, 'TOO_LARGE'],
      ['GET', '/admin/split', undefined, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/admin/ranges', {}, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/admin/transfer-leader', { range: unknownRange, to: voter }, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/transfer-leader', { range: some.id, to: unknownStore }, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/transfer-leader', { range: String(some.id), to: voter }, undefined, 400, 'BAD_REQUEST'],
      ['GET', '/admin/nowhere', undefined, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/decommission', { store: unknownStore }, undefined, 404, 'NOT_FOUND'],
      ['POST', '/admin/decommission', { store: 'x' }, undefined, 400, 'BAD_REQUEST'],
      ['GET', '/admin/decommission', undefined, undefined, 405, 'METHOD_NOT_ALLOWED'],
      // Three up stores left for three replicas of every range: one cannot go (a failed precondition; nothing changes).
      ['POST', '/admin/decommission', { store: voter }, undefined, 400, 'BAD_REQUEST'],
    ];
    for (const [method, path, body, raw, status, code] of cases) {
      const res = await api(method, path, body, raw);
      const what = `${method} ${path} ${raw ?? JSON.stringify(body)?.slice(0, 60)} -> ${res.status} ${res.text.slice(0, 300)}`;
      expect(res.status, what).toBe(status);
      expect(res.json?.code, what).toBe(code);
      expect(typeof res.json?.error, what).toBe('string');
    }
    expect(shape(await getRanges()), 'bad admin requests changed the range table').toEqual(shape(before));
    expect((await api('GET', '/health')).status).toBe(200);
  }, 60_000);

  it('the raftshard CLI drives the same cluster: kv put/get/scan, ranges and stores (--json and tables), split, decommission', async () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args, '--gateway', url], { encoding: 'utf8', timeout: 60_000 });
    expect(cli('kv', 'put', 'cli-key', 'cli value').trim()).toBe('OK');
    expect(cli('kv', 'get', 'cli-key').trim()).toBe('cli value');
    expect(cli('kv', 'scan', 'cli-', 'cli-z')).toContain('cli-key');
    const ranges = JSON.parse(cli('ranges', '--json')) as { ranges: RangeInfo[] };
    expect(shape(ranges.ranges)).toEqual(shape(await getRanges()));
    const table = cli('ranges');
    expect(table.split('\n')[0]).toMatch(/ID\s+START\s+END/);
    expect(table.split('\n').filter((l) => /^\s*\d+\s/.test(l)).length).toBe(ranges.ranges.length);
    const stores = JSON.parse(cli('stores', '--json')) as { stores: StoreInfo[] };
    expect(stores.stores.map((st) => st.id)).toEqual((await getStores()).map((st) => st.id));
    const split = JSON.parse(cli('split', 'cli-m', '--json')) as { left: RangeInfo; right: RangeInfo };
    expect(split.right.start).toBe('cli-m');
    expect(split.left.end).toBe('cli-m');
    // The store decommissioned earlier: already removed, nothing to move.
    const removed = stores.stores.find((st) => st.state === 'removed');
    expect(removed, 'the decommissioned store in `raftshard stores --json`').toBeDefined();
    expect(cli('decommission', String(removed!.id)).trim()).toBe(`decommission: store ${removed!.id} removed after 0 moves`);
    expect(cli('stores')).toMatch(new RegExp(`^\\s*${removed!.id}\\s.*\\sremoved\\s`, 'm'));
    // A missing key: exit code 1 and the error on stderr.
    expect(() => cli('kv', 'get', 'cli-missing')).toThrow();
  }, 120_000);
});
