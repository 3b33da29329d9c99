/**
 * `npm run bench:ab -- --a DIR --b DIR`: is build B faster or slower than
 * build A at `/kv` PUT (or GET, with `--op get`)? On a shared 2-core VM single runs of `npm run bench`
 * vary by 20–40 %, which hides a 10 % change. So this starts both builds at
 * once (`raftshard local` from each directory's dist/, 8 ranges split in
 * advance, leaders rebalanced, 10,000 keys preloaded) and measures them in
 * turn, A then B, then B then A, for several rounds: each pair sees the same
 * machine. Each run: autocannon PUT of 64 B values to random keys (or GET of
 * them), the CPU of
 * every process of the cluster by role (gateway, stores, pd) per request, and
 * the stores' loop turns, fsyncs and Raft frames per request.
 * Prints every run, then the medians and B's change against A.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import type { OptionSpec } from '../src/cli/args.js';
import { freePort } from '../test/support/ports.js';
import { benchArgs } from './args.js';
import { cpuSeconds, descendants } from './cpu.js';
import { perRequest as countersPerRequest, sampleStoreCounters, storeMetricsUrls } from './store-counters.js';
import type { StoreCounters } from './store-counters.js';

const USAGE = `Usage: npm run bench:ab -- --a DIR --b DIR [--op put|get] [--rounds N] [--conns 64,256] [--seconds S] [--rate R]

Runs /kv PUT (or GET) on two builds side by side, interleaved, and prints medians:
  --a DIR       the baseline: a raftshard checkout with dist/ built
  --b DIR       the build to compare with it
  --op OP       put (default) or get: the request every run sends
  --rounds N    rounds of runs (default 5; the order alternates each round)
  --conns L     autocannon connections, a run per value (default 64,256)
  --seconds S   length of each run (default 5)
  --rate R      offer R requests/s instead of as many as the build answers:
                then compare latency and CPU per request at equal load`;

const OPTIONS = { a: { type: 'string' }, b: { type: 'string' }, op: { type: 'string' }, rounds: { type: 'string' }, conns: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' } } as const satisfies OptionSpec;
const KEYS = 10_000;
const SPLITS = [1250, 2500, 3750, 5000, 6250, 7500, 8750].map((n) => `k${String(n).padStart(5, '0')}`);
const PUT_BODY = JSON.stringify({ value: '0123456789abcdef'.repeat(4) });
const PATHS = Array.from({ length: KEYS }, (_, i) => `/kv/k${String(i).padStart(5, '0')}`);
const ROLES = ['gateway', 'store', 'pd'] as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`bench:ab: ${line}`);

interface Cluster {
  readonly label: string;
  readonly proc: ChildProcess;
  readonly url: string;
  readonly dir: string;
}

async function start(label: string, build: string, port: number): Promise<Cluster> {
  const cli = join(build, 'dist/src/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build ${build} first (npm run build)`);
  const dir = mkdtempSync(join(tmpdir(), `raftshard-bench-ab-${label}-`));
  const proc = spawn(process.execPath, [cli, 'local', '--dir', dir, '--port', String(port)], { stdio: 'ignore', env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 250) {
    if (proc.exitCode !== null) throw new Error(`${label}: raftshard local exited with code ${proc.exitCode}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (waited > 60_000) {
      proc.kill('SIGINT');
      throw new Error(`${label}: not healthy within 60 s`);
    }
    await sleep(250);
  }
  return { label, proc, url, dir };
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
}

/** 8 ranges with their leaders spread, every key written once. */
async function prepare(c: Cluster): Promise<void> {
  for (const key of SPLITS) await post(`${c.url}/admin/split`, { key });
  await post(`${c.url}/admin/rebalance`, {});
  let next = 0;
  await autocannon({ url: c.url, connections: 64, amount: KEYS, requests: [{ method: 'PUT', headers: { 'content-type': 'application/json' }, body: PUT_BODY, setupRequest: (req) => ({ ...req, path: PATHS[next++ % KEYS] }) }] });
}

/** CPU seconds so far of the cluster's processes, by role (the argument after main.js). */
function cpuByRole(c: Cluster): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of descendants(c.proc.pid!)) {
    const role = p.argv[p.argv.findIndex((a) => a.endsWith('main.js')) + 1];
    out[role] = (out[role] ?? 0) + (cpuSeconds(p.pid) ?? 0);
  }
  return out;
}

interface Run {
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU µs per request, by role and in all. */
  readonly cpuUs: Record<string, number>;
  /** The stores' loop turns, fsyncs and Raft frames per request. */
  readonly storeWork: StoreCounters;
  readonly errors: number;
}

type Op = 'put' | 'get';

/** autocannon's request for `op` on a random key of the preloaded ones. */
function request(op: Op): NonNullable<Parameters<typeof autocannon>[0]['requests']>[number] {
  const path = () => PATHS[Math.floor(Math.random() * KEYS)];
  if (op === 'get') return { method: 'GET', setupRequest: (req) => ({ ...req, path: path() }) };
  return { method: 'PUT', headers: { 'content-type': 'application/json' }, body: PUT_BODY, setupRequest: (req) => ({ ...req, path: path() }) };
}

async function run(c: Cluster, op: Op, conns: number, seconds: number, rate: number | undefined): Promise<Run> {
  const metrics = storeMetricsUrls(c.proc.pid!);
  const counters = await sampleStoreCounters(metrics);
  const before = cpuByRole(c);
  const r = await autocannon({ url: c.url, connections: conns, duration: seconds, overallRate: rate, requests: [request(op)] });
  const after = cpuByRole(c);
  const storeWork = countersPerRequest(counters, await sampleStoreCounters(metrics), r.requests.total);
  const perRequest = (role: string) => (((after[role] ?? 0) - (before[role] ?? 0)) / Math.max(1, r.requests.total)) * 1e6;
  const cpuUs: Record<string, number> = { all: 0 };
  for (const role of ROLES) {
    cpuUs[role] = perRequest(role);
    cpuUs.all += cpuUs[role];
  }
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs, storeWork, errors: r.non2xx + r.errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (b: number, a: number) => `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)} %`;

async function main(): Promise<void> {
  const values = benchArgs(OPTIONS, USAGE);
  if (values.a === undefined || values.b === undefined) {
    console.error(`bench:ab: --a and --b are required\n\n${USAGE}`);
    process.exit(2);
  }
  const rounds = Number(values.rounds ?? 5);
  const seconds = Number(values.seconds ?? 5);
  const conns = (values.conns ?? '64,256').split(',').map(Number);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const op = values.op ?? 'put';
  if (op !== 'put' && op !== 'get') {
    console.error(`bench:ab: --op takes put or get\n\n${USAGE}`);
    process.exit(2);
  }
  if (![rounds, seconds, ...conns, ...(rate === undefined ? [] : [rate])].every((n) => Number.isInteger(n) && n > 0)) {
    console.error(`bench:ab: --rounds, --seconds, --conns and --rate take positive integers\n\n${USAGE}`);
    process.exit(2);
  }
  const portA = await freePort();
  // `raftshard local` uses about 20 ports from its own up: keep the two clusters apart.
  const portB = portA > 30_000 ? portA - 200 : portA + 200;
  const clusters: Cluster[] = [];
  const stop = () => {
    for (const c of clusters) c.proc.kill('SIGINT');
  };
  process.on('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    // One at a time: if B fails to start, A is already in the list and is stopped with it.
    clusters.push(await start('A', resolve(values.a), portA));
    clusters.push(await start('B', resolve(values.b), portB));
    log(`A = ${values.a}, B = ${values.b}; preparing 8 ranges and ${KEYS} keys on each`);
    for (const c of clusters) await prepare(c);
    const runs = new Map<string, Run[]>();
    for (let round = 0; round < rounds; round++) {
      for (const n of conns) {
        for (const c of round % 2 === 0 ? clusters : [...clusters].reverse()) {
          const r = await run(c, op, n, seconds, rate);
          const key = `${c.label}/${n}`;
          runs.set(key, [...(runs.get(key) ?? []), r]);
          log(`round ${round + 1}/${rounds} ${c.label} x${n}: ${Math.round(r.reqPerSec)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, cpu ${Math.round(r.cpuUs.all)} µs/req (gateway ${Math.round(r.cpuUs.gateway)}, stores ${Math.round(r.cpuUs.store)}, pd ${Math.round(r.cpuUs.pd)}), stores per request: ${r.storeWork.loop_turns_total.toFixed(2)} turns, ${r.storeWork.fsyncs_total.toFixed(2)} fsyncs, ${r.storeWork.raft_frames_sent_total.toFixed(2)} frames, ${r.errors} errors`);
        }
      }
    }
    console.log(`\nmedians over the rounds (${op.toUpperCase()}, 8 ranges, 64 B values${rate === undefined ? '' : `, ${rate} req/s offered`}):`);
    console.log('conns  A req/s  B req/s  change    A cpu µs/req  B cpu µs/req  change    A p50  B p50');
    for (const n of conns) {
      const [a, b] = ['A', 'B'].map((l) => runs.get(`${l}/${n}`)!);
      const [ra, rb] = [median(a.map((r) => r.reqPerSec)), median(b.map((r) => r.reqPerSec))];
      const [ca, cb] = [median(a.map((r) => r.cpuUs.all)), median(b.map((r) => r.cpuUs.all))];
      const [pa, pb] = [median(a.map((r) => r.p50)), median(b.map((r) => r.p50))];
      console.log(`${String(n).padStart(5)}  ${String(Math.round(ra)).padStart(7)}  ${String(Math.round(rb)).padStart(7)}  ${pct(rb, ra).padStart(8)}  ${String(Math.round(ca)).padStart(12)}  ${String(Math.round(cb)).padStart(12)}  ${pct(cb, ca).padStart(8)}  ${String(pa).padStart(5)}  ${String(pb).padStart(5)}`);
    }
  } finally {
    stop();
    await sleep(3000);
    for (const c of clusters) rmSync(c.dir, { recursive: true, force: true });
  }
}

await main();
