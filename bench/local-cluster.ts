/**
 * A `raftshard local` cluster for the HTTP benchmarks (`npm run bench`,
 * `npm run bench:scale`): started in a temporary directory with its stderr
 * kept, split into ranges and rebalanced through the admin API, preloaded with
 * the benchmark keys, and stopped with everything it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clusterBasePort } from '../test/support/ports.js';
import { descendants } from './cpu.js';
import type { ProcessGroups } from './cpu.js';

export const KEYS = 10_000;
export const VALUE_BYTES = 64;
const READY_TIMEOUT_MS = 60_000;
const PRELOAD_CONCURRENCY = 128;
const CLI = join(import.meta.dirname, '../src/cli/main.js');

export const keyName = (n: number) => `k${String(n).padStart(5, '0')}`;
/** Request paths, built once so that the client does as little as possible per request. */
export const PATHS = Array.from({ length: KEYS }, (_, i) => `/kv/${keyName(i)}`);
export const randomPath = () => PATHS[Math.floor(Math.random() * KEYS)];
/** A 64-byte value (ASCII, so 64 bytes in UTF-8 too). */
export const VALUE = '0123456789abcdef'.repeat(VALUE_BYTES / 16);
export const PUT_BODY = JSON.stringify({ value: VALUE });

/** Keys per range with 8 ranges: a 1PC pair stays inside one such block, a 2PC pair spans two. */
const BLOCK = KEYS / 8;

/** Two distinct random key numbers for a 2-key transaction, in one 1,250-key block or in two. */
export function txnKeyPair(crossRange: boolean): [number, number] {
  const a = Math.floor(Math.random() * KEYS);
  const block = Math.floor(a / BLOCK);
  const b = crossRange
    ? (((block + 1 + Math.floor(Math.random() * 7)) % 8) * BLOCK + Math.floor(Math.random() * BLOCK)) % KEYS
    : block * BLOCK + ((a % BLOCK) + 1 + Math.floor(Math.random() * (BLOCK - 1))) % BLOCK;
  return [a, b];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`bench: ${line}`);
const warn = (line: string) => console.warn(`bench: warning: ${line}`);

export interface Reply {
  status: number;
  body: any;
}

/** Keep-alive connections for the benchmark's own requests (setup and preload); node:http is much lighter than fetch here. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function api(url: string, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url + path, { method, agent, timeout: timeoutMs, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

export const describe = (r: Reply) => `${r.status} ${typeof r.body === 'string' ? r.body.slice(0, 200) : JSON.stringify(r.body).slice(0, 200)}`;

// ---------------------------------------------------------------- the cluster

/** A failure the benchmark explains itself (no stack trace needed). */
export class BenchError extends Error {}

export class ClusterError extends BenchError {
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/** A `raftshard local` started by this benchmark, in a temporary directory, with its output kept (the tail). */
export class Cluster {
  readonly url: string;
  private readonly stderr: string[] = [];
  private readonly exited: Promise<void>;
  private exitStatus: string | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly proc: ChildProcess,
    readonly dir: string,
    readonly port: number,
    private readonly ready: Promise<void>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exitStatus = signal !== null ? `signal ${signal}` : `code ${code}`;
        resolve();
      }),
    );
    const keep = (buf: string[]) => (d: Buffer) => {
      buf.push(...d.toString().split('\n').filter((l) => l !== ''));
      if (buf.length > 400) buf.splice(0, buf.length - 200);
    };
    // The pipes are read for the whole life of the cluster, or a full pipe would stall it.
    proc.stderr!.on('data', keep(this.stderr));
  }

  /** @param localArgs  more arguments for `raftshard local`, e.g. ['--stores', '6'] */
  static async start(localArgs: readonly string[] = []): Promise<Cluster> {
    if (!existsSync(CLI)) throw new BenchError(`${CLI} is missing: run "npm run build" first`);
    const dir = mkdtempSync(join(tmpdir(), 'raftshard-bench-http-'));
    // Below the ephemeral range: a client socket's port never collides with one of the cluster's (P..P+10+2×stores).
    const port = await clusterBasePort(60);
    const proc = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port), ...localArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RAFTSHARD_LOG: process.env.RAFTSHARD_LOG ?? 'warn' },
    });
    let stdout = '';
    const ready = new Promise<void>((resolve) =>
      proc.stdout!.on('data', (d: Buffer) => {
        if (stdout.length < 1_000_000) stdout += d.toString();
        if (stdout.includes('raftshard is ready')) resolve();
      }),
    );
    const cluster = new Cluster(proc, dir, port, ready);
    active.add(cluster);
    return cluster;
  }

  tail(lines = 40): string {
    return this.stderr.slice(-lines).join('\n');
  }

  /** Waits for the "raftshard is ready" line and a healthy /health, at most 60 s from now. */
  async waitReady(): Promise<void> {
    const deadline = performance.now() + READY_TIMEOUT_MS;
    const fail = (why: string) => new ClusterError(`the cluster did not get ready within ${READY_TIMEOUT_MS / 1000} s: ${why}`, this.tail());
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.ready.then(() => 'ready' as const),
      this.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (outcome === 'exited') throw fail(`raftshard local exited (${this.exitStatus})`);
    if (outcome === 'timeout') throw fail('no "raftshard is ready" line');
    let last = 'no answer';
    while (performance.now() < deadline) {
      if (this.exitStatus !== undefined) throw fail(`raftshard local exited (${this.exitStatus})`);
      try {
        const r = await api(this.url, 'GET', '/health', undefined, 5000);
        if (r.status === 200) return;
        last = describe(r);
      } catch (e) {
        last = String(e);
      }
      await sleep(250);
    }
    throw fail(`GET /health: ${last}`);
  }

  /** Stops the cluster (SIGINT to its supervisor, then SIGKILL to what is left) and removes its directory. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const pid = this.proc.pid;
    const children = pid === undefined ? [] : descendants(pid).map((p) => p.pid);
    if (this.exitStatus === undefined) {
      this.proc.kill('SIGINT');
      await Promise.race([this.exited, sleep(20_000)]);
      if (this.exitStatus === undefined) {
        warn(`raftshard local (pid ${pid}) did not stop within 20 s of SIGINT; killing it`);
        this.proc.kill('SIGKILL');
        await Promise.race([this.exited, sleep(5000)]);
      }
    }
    // Its children exit with it; make sure, so that nothing holds the directory.
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && children.some(alive); i++) await sleep(100);
    for (const p of children.filter(alive)) {
      warn(`process ${p} of the cluster still runs; killing it`);
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    active.delete(this);
  }
}

/** Clusters started and not yet stopped, for the signal and exit handlers. */
export const active = new Set<Cluster>();

// ---------------------------------------------------------------- setup of a configuration

export interface RangeInfo {
  id: number;
  start: string;
  end: string;
  leader: number | null;
}

/** Boundaries that split k00000..k09999 into n ranges of equal size. */
export const boundaries = (n: number) => Array.from({ length: n - 1 }, (_, i) => keyName(Math.round(((i + 1) * KEYS) / n)));

export async function listRanges(url: string): Promise<RangeInfo[] | undefined> {
  const r = await api(url, 'GET', '/admin/ranges');
  if (r.status !== 200 || !Array.isArray(r.body?.ranges)) return undefined;
  return r.body.ranges as RangeInfo[];
}

/** Polls GET /admin/ranges until there are (at least) n ranges, each with a leader. */
export async function waitForRanges(url: string, n: number, timeoutMs = 60_000): Promise<RangeInfo[]> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const ranges = await listRanges(url);
      if (ranges !== undefined) {
        const leaderless = ranges.filter((r) => r.leader === null || r.leader === undefined);
        if (ranges.length >= n && leaderless.length === 0) return ranges;
        last = `${ranges.length} ranges, ${leaderless.length} without a leader`;
      } else last = 'GET /admin/ranges failed';
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new BenchError(`waiting for ${n} ranges with leaders: ${last} after ${timeoutMs / 1000} s`);
}

export async function split(url: string, key: string): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    let r: Reply;
    try {
      r = await api(url, 'POST', '/admin/split', { key }, 30_000);
    } catch (e) {
      last = String(e);
      await sleep(500);
      continue;
    }
    if (r.status === 200) return;
    if (r.status === 404 && r.body?.code === 'NOT_FOUND' && /route/i.test(String(r.body?.error))) {
      throw new BenchError(`POST /admin/split is not served by this gateway (${describe(r)}): is the placement driver built?`);
    }
    last = describe(r);
    if (r.status !== 503 && r.status !== 409) break;
    await sleep(500);
  }
  throw new BenchError(`POST /admin/split {"key": "${key}"} failed: ${last}`);
}

export const leadersPerStore = (ranges: RangeInfo[]) => {
  const m: Record<string, number> = {};
  for (const r of ranges) if (r.leader !== null) m[r.leader] = (m[r.leader] ?? 0) + 1;
  return m;
};

/** Splits a fresh cluster into n ranges, waits for their leaders, rebalances; returns the layout and warnings. */
export async function prepareRanges(url: string, n: number, warnings: string[]): Promise<RangeInfo[] | undefined> {
  const note = (w: string) => {
    warnings.push(w);
    warn(w);
  };
  if (n === 1) {
    const ranges = await waitForRanges(url, 1, 30_000).catch(async (e: Error) => {
      const rs = await listRanges(url).catch(() => undefined);
      note(rs === undefined ? 'GET /admin/ranges failed: the range layout is unknown (is the placement driver built?)' : e.message);
      return rs;
    });
    if (ranges !== undefined) {
      const holding = ranges.filter((r) => (r.start === '' || r.start <= keyName(0)) && (r.end === '' || r.end > keyName(KEYS - 1)));
      if (holding.length !== 1) note(`the benchmark keys span ${ranges.length} ranges, not 1`);
    }
    return ranges;
  }
  const keys = boundaries(n);
  log(`splitting at ${keys.join(', ')}`);
  for (const k of keys) await split(url, k);
  await waitForRanges(url, n);
  log('rebalancing');
  try {
    const r = await api(url, 'POST', '/admin/rebalance', {}, 300_000);
    if (r.status !== 200) note(`POST /admin/rebalance: ${describe(r)}; leaders may be unbalanced`);
    else log(`rebalance: ${Array.isArray(r.body?.moves) ? r.body.moves.length : '?'} moves`);
  } catch (e) {
    note(`POST /admin/rebalance failed: ${String(e)}; leaders may be unbalanced`);
  }
  const ranges = await waitForRanges(url, n);
  if (ranges.length !== n) note(`expected ${n} ranges, the cluster has ${ranges.length}`);
  return ranges;
}

/** Writes all KEYS keys with 64-byte values, PRELOAD_CONCURRENCY at a time, retrying 503s and network errors. */
export async function preload(url: string): Promise<void> {
  let next = 0;
  const put = async (i: number) => {
    let last = '';
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const r = await api(url, 'PUT', PATHS[i], { value: VALUE });
        if (r.status === 200) return;
        last = describe(r);
        if (r.status !== 503) break;
      } catch (e) {
        last = String(e);
      }
      await sleep(200 * (attempt + 1));
    }
    throw new BenchError(`preloading ${keyName(i)}: ${last}`);
  };
  await Promise.all(
    Array.from({ length: PRELOAD_CONCURRENCY }, async () => {
      while (next < KEYS) await put(next++);
    }),
  );
}

/** The processes to measure: gateway from /health, stores and pd from the admin API, or else from the process tree. */
export async function discoverProcesses(cluster: Cluster, warnings: Set<string>): Promise<ProcessGroups> {
  const pids = (xs: unknown): number[] => (Array.isArray(xs) ? xs.map((x) => x?.pid).filter((p): p is number => Number.isInteger(p) && p > 0) : []);
  const get = (path: string) => api(cluster.url, 'GET', path, undefined, 5000).catch(() => undefined);
  const [health, stores, pd] = await Promise.all([get('/health'), get('/admin/stores'), get('/admin/pd')]);
  const groups: ProcessGroups = {
    gateway: Number.isInteger(health?.body?.pid) ? [health!.body.pid] : [],
    stores: stores?.status === 200 ? pids(stores.body?.stores) : [],
    pd: pd?.status === 200 ? pids(pd.body?.members) : [],
  };
  const tree = cluster.proc.pid === undefined ? [] : descendants(cluster.proc.pid);
  const role = (argv: string[]) => argv[argv.findIndex((a) => a.endsWith('main.js')) + 1];
  for (const [name, sub, source] of [
    ['gateway', 'gateway', 'GET /health'],
    ['stores', 'store', 'GET /admin/stores'],
    ['pd', 'pd', 'GET /admin/pd'],
  ] as const) {
    if (groups[name].length > 0) continue;
    groups[name] = tree.filter((p) => role(p.argv) === sub).map((p) => p.pid);
    const w = `${source} gave no pids: ${groups[name].length > 0 ? `found ${name} ${groups[name].join(', ')} in the process tree` : `no ${name} process found, its CPU is not measured`}`;
    if (!warnings.has(w)) warn(w);
    warnings.add(w);
  }
  if (cluster.proc.pid !== undefined) groups.supervisor = [cluster.proc.pid];
  groups.bench = [process.pid];
  return groups;
}
