/**
 * `npm run bench:scale`: does throughput grow as stores are added? For 3, 6,
 * 9 and 12 stores (3 replicas per range) it starts a fresh `raftshard local`,
 * splits the benchmark keys into 4/3 ranges per store (so that every store
 * holds 4 replicas, whatever the cluster's size), lets the placement driver
 * balance replicas and leaders (and checks that it did), preloads the keys,
 * and then puts every store process under the same CPU quota (a cgroup of its
 * own; default 0.08 core). A fixed budget per store is how scaling can
 * be shown honestly on a 2-core machine: the stores are the bottleneck by
 * construction, while the gateway (one per 12 stores: each more gateway
 * splits the stores' incoming request batches, which costs them CPU), the placement driver
 * and autocannon run outside the quota. Each run checks that this held: every
 * store's CPU at its quota, and neither a gateway nor the machine saturated;
 * a row where that fails is marked as not a scaling figure.
 *
 * Workloads: `/kv` PUT and linearizable GET of 64 B values over 10,000 keys
 * spread across every range, closed-loop, 16 connections per store. Prints a
 * table per workload, writes bench/results/scale-<date>.json and the chart
 * bench/results/scale.svg, and the last line printed is
 *   scale: put 3→6→12 stores = 1.00→Ax→Bx, get 3→6→12 stores = 1.00→Cx→Dx
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, relative } from 'node:path';
import autocannon from 'autocannon';
import type { OptionSpec } from '../src/cli/args.js';
import { freePort } from '../test/support/ports.js';
import { benchArgs } from './args.js';
import { CpuQuotas } from './cgroup.js';
import { scalingChartSvg } from './chart.js';
import { CpuMeter } from './cpu.js';
import type { ProcessGroups } from './cpu.js';
import { perRequest, sampleStoreCounters, storeMetricsUrls } from './store-counters.js';
import type { StoreCounters } from './store-counters.js';
import { active, api, BenchError, Cluster, ClusterError, describe, discoverProcesses, KEYS, PATHS, prepareRanges, preload, PUT_BODY, randomPath, sleep } from './local-cluster.js';

const USAGE = `Usage: npm run bench:scale [-- [--stores 3,6,9,12] [--quota 0.08] [--seconds 10]
                                [--conns-per-store 16] [--workloads put,get]]
Measures /kv throughput as stores are added, each store under the same CPU
quota (a cgroup per store process; needs root and a cgroup cpu controller).
  --stores L            store counts to measure (default 3,6,9,12; the first is the base)
  --quota C             CPU per store process, in cores (default 0.08)
  --seconds N           length of each run (default 10)
  --conns-per-store N   autocannon connections per store (default 16)
  --workloads L         put, get (default both)`;

const OPTIONS = {
  stores: { type: 'string' },
  quota: { type: 'string' },
  seconds: { type: 'string' },
  'conns-per-store': { type: 'string' },
  workloads: { type: 'string' },
} as const satisfies OptionSpec;

const CLI = join(import.meta.dirname, '../src/cli/main.js');
const RESULTS_DIR = join(import.meta.dirname, '../../bench/results');
/** Replicas per store: ranges = stores × 4 / 3, 3 replicas each. */
const REPLICAS_PER_STORE = 4;
const STORES_PER_GATEWAY = 12;
/** A store counts as saturated at this share of its quota or more. */
const STORE_SATURATED = 0.85;
/** A gateway (or the machine, over all its cores) counts as a bottleneck at this share of its CPU or more. */
const BOTTLENECK = 0.8;
/** Unthrottled quiet time after the preload. */
const SETTLE_MS = 5_000;
/** An unmeasured run under the quotas before each measured one. */
const WARMUP_SECONDS = 3;

type Workload = 'put' | 'get';

const log = (line: string) => console.log(`bench:scale: ${line}`);

interface Options {
  stores: number[];
  quota: number;
  seconds: number;
  connsPerStore: number;
  workloads: Workload[];
}

function parseOptions(): Options {
  const v = benchArgs(OPTIONS, USAGE);
  const ints = (s: string | undefined, d: string) => (s ?? d).split(',').map(Number);
  const o: Options = {
    stores: ints(v.stores, '3,6,9,12'),
    quota: Number(v.quota ?? 0.08),
    seconds: Number(v.seconds ?? 10),
    connsPerStore: Number(v['conns-per-store'] ?? 16),
    workloads: (v.workloads ?? 'put,get').split(',') as Workload[],
  };
  const bad = (why: string) => {
    console.error(`bench:scale: ${why}\n\n${USAGE}`);
    process.exit(2);
  };
  if (!o.stores.every((n) => Number.isInteger(n) && n >= 3)) bad('--stores takes store counts of at least 3');
  if (!(o.quota > 0 && o.quota <= cpus().length)) bad(`--quota takes a share of a core, above 0 and at most ${cpus().length}`);
  if (!(Number.isInteger(o.seconds) && o.seconds > 0) || !(Number.isInteger(o.connsPerStore) && o.connsPerStore > 0)) bad('--seconds and --conns-per-store take positive integers');
  if (!o.workloads.every((w) => w === 'put' || w === 'get')) bad('--workloads takes put and get');
  return o;
}

// ---------------------------------------------------------------- machine CPU

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  // idle and iowait are not work.
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

// ---------------------------------------------------------------- more gateways

/** A gateway started by the bench beside the cluster's own, on the same placement driver. */
async function startGateway(pdAddresses: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [CLI, 'gateway', '--listen', `127.0.0.1:${port}`, '--pd', pdAddresses], { stdio: 'ignore', env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  extraGateways.add(proc);
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 30_000; waited += 250) {
    if (proc.exitCode !== null) throw new BenchError(`an extra gateway exited with code ${proc.exitCode}`);
    if (await api(url, 'GET', '/health', undefined, 2000).then((r) => r.status === 200, () => false)) return { proc, url };
    await sleep(250);
  }
  throw new BenchError(`an extra gateway on ${url} was not healthy within 30 s`);
}

const extraGateways = new Set<ChildProcess>();

// ---------------------------------------------------------------- one measurement

interface Row {
  workload: Workload;
  stores: number;
  ranges: number;
  gateways: number;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU of each store process, % of one core. */
  storeCpu: number[];
  /** Share of the CFS periods in which the stores were throttled. */
  throttledShare: number;
  gatewayCpuMax: number;
  pdCpu: number;
  machineBusy: number;
  /** Store CPU per request, µs, summed over the stores. */
  storeCpuUsPerReq: number;
  /** Loop turns, fsyncs and Raft frames and messages sent per request, summed over the stores. */
  storeWork: StoreCounters;
  /** Why this row is not a scaling figure (empty: it is one). */
  problems: string[];
  efficiency?: number;
}

/** A request of the workload to a random key. */
function requestOf(workload: Workload) {
  const setupRequest = (req: { path: string }) => ({ ...req, path: randomPath() });
  return workload === 'put' ? { method: 'PUT', headers: { 'content-type': 'application/json' }, body: PUT_BODY, setupRequest } : { method: 'GET', setupRequest };
}

async function measure(workload: Workload, urls: string[], connections: number, seconds: number, groups: ProcessGroups, quotas: CpuQuotas, quota: number, metricsUrls: string[]): Promise<Omit<Row, 'stores' | 'ranges' | 'gateways'>> {
  const meter = new CpuMeter(groups);
  const counters0 = await sampleStoreCounters(metricsUrls);
  const throttleBefore = groups.stores.map((pid) => quotas.throttled(`store-${pid}`));
  const m0 = machineTicks();
  meter.start();
  const request = requestOf(workload);
  // One autocannon per gateway, the connections split between them.
  const results = await Promise.all(urls.map((url) => autocannon({ url, connections: Math.max(1, Math.round(connections / urls.length)), duration: seconds, requests: [request] })));
  const cpu = meter.stop();
  const m1 = machineTicks();
  const counters1 = await sampleStoreCounters(metricsUrls);
  const throttleAfter = groups.stores.map((pid) => quotas.throttled(`store-${pid}`));
  const periods = throttleAfter.reduce((s, t, i) => s + t.periods - throttleBefore[i].periods, 0);
  const throttled = throttleAfter.reduce((s, t, i) => s + t.throttled - throttleBefore[i].throttled, 0);
  const total = results.reduce((s, r) => s + r.requests.total, 0);
  const of = (role: string) => cpu.processes.filter((p) => p.role === role).map((p) => p.cpu ?? 0);
  const storeCpu = of('stores');
  const gatewayCpuMax = Math.max(...of('gateway'));
  const machineBusy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
  const problems: string[] = [];
  const floor = quota * 100 * STORE_SATURATED;
  const idle = storeCpu.filter((c) => c < floor);
  if (idle.length > 0) problems.push(`${idle.length} of ${storeCpu.length} stores below ${Math.round(floor)} % CPU (${idle.map((c) => `${c.toFixed(1)} %`).join(', ')})`);
  if (gatewayCpuMax >= BOTTLENECK * 100) problems.push(`a gateway at ${gatewayCpuMax.toFixed(0)} % of a core`);
  if (machineBusy >= BOTTLENECK) problems.push(`the machine at ${(machineBusy * 100).toFixed(0)} % of its CPU`);
  return {
    workload,
    connections,
    reqPerSec: results.reduce((s, r) => s + r.requests.average, 0),
    // Percentiles of several instances do not merge: the p50 weighted by requests, the worst p99.
    p50: results.reduce((s, r) => s + r.latency.p50 * r.requests.total, 0) / Math.max(1, total),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
    storeCpu,
    throttledShare: periods === 0 ? 0 : throttled / periods,
    gatewayCpuMax,
    pdCpu: cpu.roles.pd ?? 0,
    machineBusy,
    storeCpuUsPerReq: ((storeCpu.reduce((s, c) => s + c, 0) / 100) * cpu.seconds * 1e6) / Math.max(1, total),
    storeWork: perRequest(counters0, counters1, total),
    problems,
  };
}

// ---------------------------------------------------------------- one cluster size

interface Balance {
  replicas: [number, number];
  leaders: [number, number];
}

/** Replicas and leaders per store (min, max), from GET /admin/stores. */
async function balance(url: string): Promise<Balance> {
  const r = await api(url, 'GET', '/admin/stores');
  if (r.status !== 200 || !Array.isArray(r.body?.stores)) throw new BenchError(`GET /admin/stores: ${describe(r)}`);
  const up = (r.body.stores as { state: string; ranges: number; leaders: number }[]).filter((s) => s.state === 'up');
  const span = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
  return { replicas: span(up.map((s) => s.ranges)), leaders: span(up.map((s) => s.leaders)) };
}

/** Waits until replicas and leaders are spread within one of even across the stores. */
async function waitBalanced(url: string, stores: number, ranges: number): Promise<Balance> {
  const even = (total: number): [number, number] => [Math.floor(total / stores), Math.ceil(total / stores)];
  const [rLo, rHi] = even(ranges * 3);
  const [lLo, lHi] = even(ranges);
  let b = await balance(url);
  for (let i = 0; i < 120; i++) {
    if (b.replicas[0] >= rLo - 1 && b.replicas[1] <= rHi + 1 && b.leaders[0] >= lLo - 1 && b.leaders[1] <= lHi + 1) return b;
    if (i % 10 === 0) await api(url, 'POST', '/admin/rebalance', {}, 300_000).catch(() => undefined);
    await sleep(1000);
    b = await balance(url);
  }
  throw new BenchError(`replicas and leaders did not balance within 2 minutes: replicas per store ${b.replicas.join('–')}, leaders ${b.leaders.join('–')}`);
}

async function benchStores(stores: number, opts: Options, quotas: CpuQuotas): Promise<Row[]> {
  const ranges = Math.round((stores * REPLICAS_PER_STORE) / 3);
  const gateways = Math.ceil(stores / STORES_PER_GATEWAY);
  log(`${stores} stores: starting raftshard local, ${ranges} ranges, ${gateways} gateway(s)`);
  // No automatic splits: the layout is the bench's.
  const cluster = await Cluster.start(['--stores', String(stores), '--split-bytes', String(2 ** 40)]);
  const rows: Row[] = [];
  const started: ChildProcess[] = [];
  try {
    await cluster.waitReady();
    const warnings: string[] = [];
    await prepareRanges(cluster.url, ranges, warnings);
    const b = await waitBalanced(cluster.url, stores, ranges);
    log(`${stores} stores: balanced, replicas per store ${b.replicas.join('–')}, leaders per store ${b.leaders.join('–')}`);
    const pd = await api(cluster.url, 'GET', '/admin/pd');
    const pdAddresses = (pd.body?.members as { address: string }[]).map((m) => m.address).join(',');
    const urls = [cluster.url];
    for (let i = 1; i < gateways; i++) {
      const g = await startGateway(pdAddresses);
      started.push(g.proc);
      urls.push(g.url);
    }
    log(`${stores} stores: preloading ${KEYS} keys`);
    await preload(cluster.url);
    // The preload's LevelDB compactions and log truncations finish unthrottled, not inside a measurement
    // (a store of a small cluster holds more of the keys, so it would pay more of them).
    await sleep(SETTLE_MS);
    const groups = await discoverProcesses(cluster, new Set());
    groups.gateway = [...groups.gateway, ...started.map((p) => p.pid!)];
    if (groups.stores.length !== stores) throw new BenchError(`found ${groups.stores.length} store processes, expected ${stores}`);
    for (const pid of groups.stores) quotas.limit(`store-${pid}`, pid, opts.quota);
    const metricsUrls = storeMetricsUrls(cluster.proc.pid!);
    const connections = opts.connsPerStore * stores;
    for (const workload of opts.workloads) {
      if (cluster.proc.exitCode !== null) throw new ClusterError('raftshard local exited during the run', cluster.tail());
      await Promise.all(urls.map((url) => autocannon({ url, connections: Math.max(1, Math.round(connections / urls.length)), duration: WARMUP_SECONDS, requests: [requestOf(workload)] })));
      const r = await measure(workload, urls, connections, opts.seconds, groups, quotas, opts.quota, metricsUrls);
      const row: Row = { ...r, stores, ranges, gateways };
      rows.push(row);
      log(
        `${stores} stores ${workload}: ${Math.round(row.reqPerSec)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99} ms, stores ${row.storeCpu.map((c) => c.toFixed(0)).join('/')} % CPU (throttled in ${(row.throttledShare * 100).toFixed(0)} % of periods), gateway max ${row.gatewayCpuMax.toFixed(0)} %, pd ${row.pdCpu.toFixed(0)} %, machine ${(row.machineBusy * 100).toFixed(0)} %${row.errors ? `, ${row.errors} errors` : ''}${row.problems.length ? ` — NOT a scaling figure: ${row.problems.join('; ')}` : ''}`,
      );
    }
  } finally {
    for (const p of started) {
      p.kill('SIGTERM');
      extraGateways.delete(p);
    }
    await cluster.stop();
  }
  return rows;
}

// ---------------------------------------------------------------- report

function table(rows: Row[], workload: Workload): string {
  const lines = [
    `${workload.toUpperCase()} (efficiency = req/s ÷ (stores/3 × req/s at the base); per request, summed over the stores: CPU, loop turns, fsyncs, Raft frames sent)`,
    'stores  ranges  req/s    p50 ms  p99 ms  store CPU % (min–max)  throttled  gateway max %  machine %  efficiency  cpu µs/req  turns  fsyncs  frames  scaling figure?',
  ];
  for (const r of rows.filter((x) => x.workload === workload)) {
    lines.push(
      [
        String(r.stores).padStart(6),
        String(r.ranges).padStart(6),
        String(Math.round(r.reqPerSec)).padStart(6),
        r.p50.toFixed(1).padStart(8),
        String(r.p99).padStart(6),
        `${Math.min(...r.storeCpu).toFixed(0)}–${Math.max(...r.storeCpu).toFixed(0)}`.padStart(21),
        `${(r.throttledShare * 100).toFixed(0)} %`.padStart(9),
        r.gatewayCpuMax.toFixed(0).padStart(13),
        (r.machineBusy * 100).toFixed(0).padStart(9),
        (r.efficiency === undefined ? '-' : r.efficiency.toFixed(2)).padStart(10),
        String(Math.round(r.storeCpuUsPerReq)).padStart(10),
        r.storeWork.loop_turns_total.toFixed(2).padStart(5),
        r.storeWork.fsyncs_total.toFixed(2).padStart(6),
        r.storeWork.raft_frames_sent_total.toFixed(2).padStart(6),
        r.problems.length === 0 ? '  yes' : `  no: ${r.problems.join('; ')}`,
      ].join('  '),
    );
  }
  return lines.join('\n');
}

/** `put 3→6→12 stores = 1.00→1.9x→3.5x`: throughput relative to the base, at the base, 2× and 4× its stores (those measured). */
function scaleLine(rows: Row[], workload: Workload, base: number): string {
  const of = (n: number) => rows.find((r) => r.workload === workload && r.stores === n);
  const sizes = [base, base * 2, base * 4].filter((n) => of(n) !== undefined);
  const ratios = sizes.map((n) => of(n)!.reqPerSec / of(base)!.reqPerSec);
  return `${workload} ${sizes.join('→')} stores = ${ratios.map((x, i) => (i === 0 ? '1.00' : `${x.toFixed(2)}x`)).join('→')}`;
}

/** The bench's cgroups, removed on the way out (also on Ctrl-C). */
let quotas: CpuQuotas | undefined;

async function main(): Promise<number> {
  const opts = parseOptions();
  try {
    quotas = CpuQuotas.open(`raftshard-bench-scale-${process.pid}`);
  } catch (e) {
    console.error(`bench:scale: ${(e as Error).message}. The scaling figures need a fixed CPU budget per store; stopping.`);
    return 1;
  }
  const rows: Row[] = [];
  try {
    for (const n of opts.stores) rows.push(...(await benchStores(n, opts, quotas)));
  } catch (e) {
    console.error(`bench:scale: failed: ${e instanceof BenchError ? e.message : ((e as Error).stack ?? String(e))}`);
    if (e instanceof ClusterError) console.error(`bench:scale: stderr of raftshard local (tail):\n${e.stderrTail}`);
    return 1;
  } finally {
    await sleep(500);
    quotas.close();
    quotas = undefined;
  }
  const base = opts.stores[0];
  for (const r of rows) {
    const b = rows.find((x) => x.workload === r.workload && x.stores === base)!;
    r.efficiency = r.reqPerSec / ((r.stores / base) * b.reqPerSec);
  }
  console.log();
  for (const w of opts.workloads) console.log(`${table(rows, w)}\n`);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = join(RESULTS_DIR, `scale-${stamp}.json`);
  writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release() }, options: opts, keys: KEYS, paths: PATHS.length, rows }, null, 2)}\n`);
  const svg = join(RESULTS_DIR, 'scale.svg');
  const points = rows.map((r) => ({ workload: `/kv ${r.workload.toUpperCase()}`, stores: r.stores, reqPerSec: Math.round(r.reqPerSec) }));
  writeFileSync(svg, await scalingChartSvg(points, `raftshard: /kv throughput, ${opts.quota} core per store`));
  log(`wrote ${relative(process.cwd(), json)} and ${relative(process.cwd(), svg)}`);
  const notScaling = rows.filter((r) => r.problems.length > 0).length;
  if (notScaling > 0) log(`${notScaling} of ${rows.length} rows are not scaling figures (see the last column)`);
  console.log(`scale: ${opts.workloads.map((w) => scaleLine(rows, w, base)).join(', ')}`);
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench:scale: ${signal}: stopping`);
    for (const g of extraGateways) g.kill('SIGTERM');
    void Promise.allSettled([...active].map((c) => c.stop())).then(async () => {
      await sleep(500);
      quotas?.close();
      process.exit(130);
    });
  });
}
process.on('exit', () => {
  for (const g of extraGateways) g.kill('SIGKILL');
  for (const c of active) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGINT');
});

process.exit(await main());
