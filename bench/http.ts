/**
 * `npm run bench`: autocannon against the gateway of a local cluster
 * (`raftshard local`: placement driver, 3 stores, 3 replicas, fsync on), all
 * on this machine. PUT and linearizable GET of 64 B values over 10,000 keys
 * ("k00000".."k09999", each request a random one) at 1, 16, 64 and 256
 * connections, once on a fresh cluster with its single initial range and once
 * on a fresh cluster split in advance into 8 ranges of 1,250 keys with their
 * leaders rebalanced. Then `POST /txn` at 16 connections and up: 2-key
 * writes within one range (one-phase commit) and, with 8 ranges, across two
 * ranges (two-phase commit); a 409 is counted as a conflict, not an error.
 * Each row: req/s, p50/p99/p99.9 latency, errors, and the CPU of every process (gateway, stores, placement driver, and this process, which
 * runs autocannon). Prints a table, writes bench/results/http-<date>.json, and
 * the last line printed is
 *   summary: 8 ranges, 64 conns: PUT <n> req/s, GET <m> req/s
 *
 * Options: see USAGE below, or `npm run bench -- --help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import autocannon from 'autocannon';
import type { OptionSpec } from '../src/cli/args.js';
import { benchArgs } from './args.js';
import { CpuMeter } from './cpu.js';
import type { CpuReport, ProcessGroups } from './cpu.js';
import { active, BenchError, Cluster, ClusterError, discoverProcesses, keyName, KEYS, leadersPerStore, prepareRanges, preload, PUT_BODY, randomPath, sleep, VALUE, VALUE_BYTES } from './local-cluster.js';
import type { RangeInfo } from './local-cluster.js';
import { txnKeyPair } from './local-cluster.js';
import { activeEtcd } from './etcd-cluster.js';
import { runVsEtcd } from './vs-etcd.js';

const RESULTS_DIR = join(import.meta.dirname, '../../bench/results');

/** The ops of a row: `/kv` PUT and GET, and 2-key `/txn` writes in one range (TXN-1PC) or across two (TXN-2PC). */
type Op = 'PUT' | 'GET' | 'TXN-1PC' | 'TXN-2PC';

/** A /txn body writing two distinct random keys, in one 1,250-key block or in two. */
function txnBody(crossRange: boolean): string {
  const [a, b] = txnKeyPair(crossRange);
  return `{"success":[{"op":"put","key":"${keyName(a)}","value":"${VALUE}"},{"op":"put","key":"${keyName(b)}","value":"${VALUE}"}]}`;
}

const log = (line: string) => console.log(`bench: ${line}`);
const rangesLabel = (n: number) => `${n} ${n === 1 ? 'range' : 'ranges'}`;

// ---------------------------------------------------------------- options

interface Options {
  seconds: number;
  conns: number[];
  configs: number[];
  quick: boolean;
  vsEtcd: boolean;
}

const USAGE = `Usage: npm run bench [-- [--seconds N] [--quick] [--configs 1,8] [--conns 1,16,64,256] [--vs-etcd]]
  --seconds N   length of each run (default 10, or env BENCH_SECONDS)
  --quick       smoke test: 2 s runs at 16 and 64 connections
  --configs L   numbers of ranges to test, each on a fresh cluster (default 1,8)
  --conns L     connection counts (default 1,16,64,256; with --vs-etcd 1,64,256)
  --vs-etcd     instead: raftshard (8 ranges, or the one --configs value) against a
                3-member etcd (Debian's etcd-server, or $ETCD_BIN) in one run, same
                load on both, turn about (see bench/vs-etcd.ts)`;

const OPTIONS = { seconds: { type: 'string' }, quick: { type: 'boolean' }, configs: { type: 'string' }, conns: { type: 'string' }, 'vs-etcd': { type: 'boolean' } } as const satisfies OptionSpec;

/** The options from argv; --help and a bad option exit here (benchArgs), a bad value throws. */
function parseOptions(): Options {
  const values = benchArgs(OPTIONS, USAGE);
  const list = (name: 'configs' | 'conns', dflt: number[], max: number): number[] => {
    const v = values[name];
    if (v === undefined) return dflt;
    const xs = v.split(',').map((s) => Number(s.trim()));
    if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1 || x > max)) throw new Error(`--${name} takes a comma-separated list of integers in 1..${max}`);
    return xs;
  };
  const quick = values.quick === true;
  let seconds = quick ? 2 : Number(process.env.BENCH_SECONDS ?? 10);
  if (values.seconds !== undefined) seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--seconds (or BENCH_SECONDS) must be a positive integer');
  const vsEtcd = values['vs-etcd'] === true;
  const configs = list('configs', vsEtcd ? [8] : [1, 8], KEYS);
  if (vsEtcd && configs.length !== 1) throw new Error('--vs-etcd takes one --configs value (the number of ranges)');
  return { seconds, quick, vsEtcd, conns: list('conns', quick ? [16, 64] : vsEtcd ? [1, 64, 256] : [1, 16, 64, 256], 10_000), configs };
}

// ---------------------------------------------------------------- HTTP helpers


// ---------------------------------------------------------------- runs

interface Row {
  config: string;
  ranges: number;
  op: Op;
  conns: number;
  seconds: number;
  reqPerSec: number;
  requests: number;
  latencyMs: { p50: number; p99: number; p99_9: number; mean: number; max: number };
  /** non-2xx answers (but a /txn 409) + connection errors and timeouts. */
  errors: number;
  /** /txn answers 409 CONFLICT: a write-write conflict, the transaction rolled back. */
  conflicts: number;
  non2xx: number;
  connErrors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  cpu: CpuReport;
}

function requestFor(op: Op) {
  const randomKey = (req: { path: string }) => {
    req.path = randomPath();
    return req;
  };
  const json = { 'content-type': 'application/json' };
  switch (op) {
    case 'PUT':
      return { method: 'PUT', headers: json, body: PUT_BODY, setupRequest: randomKey };
    case 'GET':
      return { method: 'GET', setupRequest: randomKey };
    case 'TXN-1PC':
    case 'TXN-2PC': {
      const cross = op === 'TXN-2PC';
      return { method: 'POST', path: '/txn', headers: json, setupRequest: (req: { body?: string }) => ({ ...req, body: txnBody(cross) }) };
    }
  }
}

async function run(url: string, config: number, op: Op, conns: number, seconds: number, groups: ProcessGroups): Promise<Row> {
  const request = requestFor(op);
  const meter = new CpuMeter(groups);
  meter.start();
  const r = await autocannon({ url, connections: conns, duration: seconds, requests: [request] });
  const cpu = meter.stop();
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)]));
  const lat = r.latency;
  return {
    config: rangesLabel(config),
    ranges: config,
    op,
    conns,
    seconds: cpu.seconds,
    reqPerSec: Math.round(r.requests.average),
    requests: r.requests.total,
    latencyMs: { p50: lat.p50, p99: lat.p99, p99_9: lat.p99_9, mean: lat.average, max: lat.max },
    errors: r.non2xx - (statusCodes['409'] ?? 0) + r.errors,
    conflicts: statusCodes['409'] ?? 0,
    non2xx: r.non2xx,
    connErrors: r.errors - r.timeouts,
    timeouts: r.timeouts,
    statusCodes,
    cpu,
  };
}

interface ConfigResult {
  ranges: number;
  layout?: RangeInfo[];
  leadersPerStore?: Record<string, number>;
  processes?: ProcessGroups;
  warnings: string[];
  error?: string;
}

async function benchConfig(n: number, opts: Options, rows: Row[]): Promise<ConfigResult> {
  const result: ConfigResult = { ranges: n, warnings: [] };
  const label = `[${rangesLabel(n)}]`;
  log(`${label} starting a local cluster`);
  const cluster = await Cluster.start();
  try {
    await cluster.waitReady();
    log(`${label} cluster ready at ${cluster.url} (pid ${cluster.proc.pid}, dir ${cluster.dir})`);
    result.layout = await prepareRanges(cluster.url, n, result.warnings);
    if (result.layout !== undefined) {
      result.leadersPerStore = leadersPerStore(result.layout);
      const spread = Object.entries(result.leadersPerStore).map(([s, c]) => `store ${s}: ${c}`);
      log(`${label} ${rangesLabel(result.layout.length)}; leaders per store: ${spread.length > 0 ? spread.join(', ') : 'unknown'}`);
    }
    const t0 = performance.now();
    log(`${label} preloading ${KEYS} keys with ${VALUE_BYTES} B values`);
    await preload(cluster.url);
    log(`${label} preloaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const seen = new Set<string>();
    // Transactions at 16 connections and up; across ranges only where there are several.
    const ops = (conns: number): Op[] => ['PUT', 'GET', ...(conns < 16 ? [] : n === 1 ? (['TXN-1PC'] as const) : (['TXN-1PC', 'TXN-2PC'] as const))];
    for (const conns of opts.conns) {
      for (const op of ops(conns)) {
        if (interrupted) throw new BenchError('interrupted');
        const groups = await discoverProcesses(cluster, seen);
        result.processes = groups;
        log(`${label} ${op} ${op === 'GET' ? '(linearizable) ' : ''}with ${conns} connections for ${opts.seconds} s`);
        const row = await run(cluster.url, n, op, conns, opts.seconds, groups);
        rows.push(row);
        log(`${label} ${op} x${conns}: ${row.reqPerSec} req/s, p50 ${fmt(row.latencyMs.p50)} / p99 ${fmt(row.latencyMs.p99)} / p99.9 ${fmt(row.latencyMs.p99_9)} ms, ${row.errors} errors${op.startsWith('TXN') ? `, ${row.conflicts} conflicts` : ''}`);
        if (cluster.proc.exitCode !== null || cluster.proc.signalCode !== null) throw new ClusterError('raftshard local exited during the run', cluster.tail());
      }
    }
    result.warnings.push(...seen);
    return result;
  } finally {
    log(`${label} stopping the cluster`);
    await cluster.stop();
  }
}

// ---------------------------------------------------------------- output

const fmt = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${Math.round(x)}%`);

function table(rows: Row[]): string {
  const head = ['config', 'op', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'conflicts/s', 'cpu µs/req', 'cpu gateway', 'cpu stores', 'cpu pd', 'cpu bench'];
  const body = rows.map((r) => [
    r.config,
    r.op,
    String(r.conns),
    String(r.reqPerSec),
    fmt(r.latencyMs.p50),
    fmt(r.latencyMs.p99),
    fmt(r.latencyMs.p99_9),
    String(r.errors),
    r.op.startsWith('TXN') ? fmt(r.conflicts / r.seconds, 0) : '-',
    fmt(cpuPerRequest(r), 0),
    pct(r.cpu.roles.gateway),
    pct(r.cpu.roles.stores),
    pct(r.cpu.roles.pd),
    pct(r.cpu.roles.bench),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** CPU time per request (µs), summed over the cluster's processes (not the bench's own). */
function cpuPerRequest(r: Row): number | undefined {
  const { gateway, stores, pd } = r.cpu.roles;
  if (r.reqPerSec === 0 || gateway == null || stores == null) return undefined;
  return ((gateway + stores + (pd ?? 0)) / 100 / r.reqPerSec) * 1e6;
}

function summary(rows: Row[]): string | undefined {
  if (rows.length === 0) return undefined;
  const configs = [...new Set(rows.map((r) => r.ranges))];
  const config = configs.includes(8) ? 8 : Math.max(...configs);
  const mine = rows.filter((r) => r.ranges === config);
  const conns = [...new Set(mine.map((r) => r.conns))].sort((a, b) => Math.abs(a - 64) - Math.abs(b - 64) || b - a)[0];
  const at = (op: string) => mine.find((r) => r.op === op && r.conns === conns)?.reqPerSec ?? '-';
  return `summary: ${rangesLabel(config)}, ${conns} conns: PUT ${at('PUT')} req/s, GET ${at('GET')} req/s`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions();
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  const started = new Date();
  const machine = {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAvgAtStart: loadavg(),
    date: started.toISOString(),
  };
  if (opts.vsEtcd) {
    try {
      return await runVsEtcd({ seconds: opts.seconds, conns: opts.conns, ranges: opts.configs[0], resultsDir: RESULTS_DIR }, machine, started);
    } catch (e) {
      if (!(e instanceof BenchError)) throw e;
      console.error(`bench: failed: ${e.message}`);
      return 1;
    }
  }
  log(`${machine.cores} x ${machine.cpuModel}, node ${machine.node}; configs ${opts.configs.map(rangesLabel).join(', ')}; connections ${opts.conns.join(', ')}; ${opts.seconds} s per run; ${KEYS} keys, ${VALUE_BYTES} B values`);
  const rows: Row[] = [];
  const configs: ConfigResult[] = [];
  let failure: Error | undefined;
  for (const n of opts.configs) {
    try {
      configs.push(await benchConfig(n, opts, rows));
    } catch (e) {
      failure = e as Error;
      configs.push({ ranges: n, warnings: [], error: failure.message });
      break;
    }
  }

  if (rows.length > 0) {
    console.log('');
    console.log(`raftshard local (placement driver, 3 stores, 3 replicas, fsync on), autocannon in the same machine's ${machine.cores}-core ${machine.cpuModel}; ${KEYS} keys, ${VALUE_BYTES} B values, ${opts.seconds} s per run; cpu in % of one core (stores and pd summed over their processes)`);
    console.log(table(rows));
  }
  const sum = summary(rows);
  if (rows.length > 0) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `http-${started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
    writeFileSync(
      file,
      JSON.stringify({ bench: 'http', machine, options: { ...opts, keys: KEYS, valueBytes: VALUE_BYTES }, configs, rows, summary: sum, error: failure?.message }, null, 2) + '\n',
    );
    console.log(`bench: results written to ${relative(process.cwd(), file) || file}`);
  }
  if (failure !== undefined) {
    console.error(`bench: failed: ${failure.message}`);
    if (failure instanceof ClusterError) console.error(`bench: stderr of raftshard local (tail):\n${failure.stderrTail === '' ? '(empty)' : failure.stderrTail}`);
    else if (!(failure instanceof BenchError) && failure.stack) console.error(failure.stack);
    return 1;
  }
  if (sum !== undefined) console.log(sum);
  return 0;
}

// Stop what was started, even on Ctrl-C or an unexpected error.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${signal}: stopping the cluster`);
    void Promise.allSettled([...[...active].map((c) => c.stop()), ...[...activeEtcd].map((e) => e.stop())]).then(() => process.exit(130));
  });
}
process.on('exit', () => {
  // Last resort (the process is exiting, nothing can be awaited): the supervisor stops its children.
  for (const c of active) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGINT');
  for (const e of activeEtcd) e.kill();
});

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`bench: failed: ${(e as Error).stack ?? String(e)}`);
  await Promise.allSettled([...active].map((c) => c.stop()));
}
process.exit(code);
