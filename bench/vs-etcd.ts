/**
 * `npm run bench -- --vs-etcd`: raftshard and a 3-member etcd side by side
 * on this machine, under the same autocannon load in one run: PUT and
 * linearizable GET of 64 B values over the same 10,000 keys (a random one per
 * request), at each connection count, the two systems taking turns (the order
 * alternates from row to row, so drift in the machine's speed hits both).
 * raftshard is a fresh `raftshard local` split into 8 ranges with balanced
 * leaders, requests to its gateway; etcd gets them at its leader's JSON
 * gateway (`/v3/kv/put`, `/v3/kv/range`), which spares it the forwarding hop a
 * follower would add; then 2-key transactions, raftshard's `POST /txn` within
 * one range (1PC) and across two (2PC) against etcd's `/v3/kv/txn` (etcd has
 * one log, so both rows use the same etcd request). Both fsync. Prints req/s, latency percentiles and the
 * CPU per request summed over each system's processes (raftshard: gateway,
 * stores, placement driver; not the `raftshard local` supervisor), writes
 * bench/results/vs-etcd-<date>.json, and ends with
 *   vs-etcd: 8 ranges, 64 conns: PUT <x>× etcd, GET <y>× etcd
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import autocannon from 'autocannon';
import { CpuMeter } from './cpu.js';
import type { CpuReport, ProcessGroups } from './cpu.js';
import { b64, EtcdCluster, etcdBinary } from './etcd-cluster.js';
import { BenchError, Cluster, discoverProcesses, KEYS, keyName, prepareRanges, preload, PUT_BODY, randomPath, txnKeyPair, VALUE } from './local-cluster.js';

export interface VsEtcdOptions {
  seconds: number;
  conns: number[];
  ranges: number;
  resultsDir: string;
}

type System = 'raftshard' | 'etcd';
/** TXN-1PC and TXN-2PC: raftshard's `POST /txn` of two puts in one range or across two, each against etcd's `/v3/kv/txn` of two puts. */
type Op = 'PUT' | 'GET' | 'TXN-1PC' | 'TXN-2PC';
const OPS: readonly Op[] = ['PUT', 'GET', 'TXN-1PC', 'TXN-2PC'];

interface Row {
  system: System;
  op: Op;
  conns: number;
  /** Answers 2xx per second: a raftshard transaction refused with 409 CONFLICT is no throughput. */
  reqPerSec: number;
  requests: number;
  latencyMs: { p50: number; p99: number; p99_9: number };
  /** Failed requests: non-2xx answers other than a /txn 409, connection errors and timeouts. */
  errors: number;
  /** raftshard /txn answers 409 CONFLICT (a write-write conflict, rolled back): an answer, not an error. */
  conflicts: number;
  /** CPU per answered request, µs, summed over the system's processes. */
  cpuUsPerRequest: number | null;
  cpu: CpuReport;
}

const log = (line: string) => console.log(`bench: ${line}`);

const ETCD_PUT_BODIES = Array.from({ length: KEYS }, (_, i) => JSON.stringify({ key: b64(keyName(i)), value: b64(VALUE) }));
const ETCD_GET_BODIES = Array.from({ length: KEYS }, (_, i) => JSON.stringify({ key: b64(keyName(i)) }));
const randomIndex = () => Math.floor(Math.random() * KEYS);
const B64_KEYS = Array.from({ length: KEYS }, (_, i) => b64(keyName(i)));
const B64_VALUE = b64(VALUE);

/** The same two keys in a raftshard `/txn` body and an etcd `/v3/kv/txn` body (no compare: the success branch runs). */
function txnBody(crossRange: boolean): string {
  const [a, b] = txnKeyPair(crossRange);
  return `{"success":[{"op":"put","key":"${keyName(a)}","value":"${VALUE}"},{"op":"put","key":"${keyName(b)}","value":"${VALUE}"}]}`;
}
function etcdTxnBody(crossRange: boolean): string {
  const [a, b] = txnKeyPair(crossRange);
  return `{"success":[{"requestPut":{"key":"${B64_KEYS[a]}","value":"${B64_VALUE}"}},{"requestPut":{"key":"${B64_KEYS[b]}","value":"${B64_VALUE}"}}]}`;
}

type Request = NonNullable<Parameters<typeof autocannon>[0]['requests']>[number];

function requestFor(system: System, op: Op): Request {
  if (system === 'raftshard') {
    if (op === 'TXN-1PC' || op === 'TXN-2PC') {
      const cross = op === 'TXN-2PC';
      return { method: 'POST', path: '/txn', headers: { 'content-type': 'application/json' }, setupRequest: (req: { path: string; body?: string }) => ({ ...req, body: txnBody(cross) }) };
    }
    const setupRequest = (req: { path: string }) => {
      req.path = randomPath();
      return req;
    };
    return op === 'PUT' ? { method: 'PUT', headers: { 'content-type': 'application/json' }, body: PUT_BODY, setupRequest } : { method: 'GET', setupRequest };
  }
  if (op === 'TXN-1PC' || op === 'TXN-2PC') {
    const cross = op === 'TXN-2PC';
    return { method: 'POST', path: '/v3/kv/txn', headers: { 'content-type': 'application/json' }, setupRequest: (req: { path: string; body?: string }) => ({ ...req, body: etcdTxnBody(cross) }) };
  }
  const bodies = op === 'PUT' ? ETCD_PUT_BODIES : ETCD_GET_BODIES;
  return {
    method: 'POST',
    path: op === 'PUT' ? '/v3/kv/put' : '/v3/kv/range',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req: { path: string; body?: string }) => {
      req.body = bodies[randomIndex()];
      return req;
    },
  };
}

/** The processes whose CPU counts for a system (the bench's own process is measured apart). */
const DB_ROLES: Record<System, string[]> = { raftshard: ['gateway', 'stores', 'pd'], etcd: ['etcd'] };

async function run(system: System, url: string, op: Op, conns: number, seconds: number, groups: ProcessGroups): Promise<Row> {
  const meter = new CpuMeter(groups);
  meter.start();
  const r = await autocannon({ url, connections: conns, duration: seconds, requests: [requestFor(system, op)] });
  const cpu = meter.stop();
  const answered = r.requests.total - r.non2xx;
  const conflicts = r.statusCodeStats?.['409']?.count ?? 0;
  const dbPercent = DB_ROLES[system].map((role) => cpu.roles[role]).reduce<number | null>((sum, x) => (x === null || x === undefined || sum === null ? null : sum + x), 0);
  return {
    system,
    op,
    conns,
    reqPerSec: Math.round(answered / cpu.seconds),
    requests: r.requests.total,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, p99_9: r.latency.p99_9 },
    errors: r.non2xx - conflicts + r.errors,
    conflicts,
    cpuUsPerRequest: dbPercent === null || answered <= 0 ? null : Math.round(((dbPercent / 100) * cpu.seconds * 1e6) / answered),
    cpu,
  };
}

async function preloadEtcd(etcd: EtcdCluster): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async (_, worker) => {
      while (next < KEYS) {
        const i = next++;
        await etcd.call(worker % etcd.clientUrls.length, '/v3/kv/put', { key: b64(keyName(i)), value: b64(VALUE) });
      }
    }),
  );
}

const ms = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

function table(rows: Row[]): string {
  const head = ['op', 'conns', 'raftshard req/s', 'etcd req/s', 'ratio', 'p50 ms (us/etcd)', 'p99 ms (us/etcd)', 'p99.9 ms (us/etcd)', 'cpu µs/req (us/etcd)', 'errors (us/etcd)', '409s (us/etcd)'];
  const body: string[][] = [];
  for (const us of rows.filter((r) => r.system === 'raftshard')) {
    const them = rows.find((r) => r.system === 'etcd' && r.op === us.op && r.conns === us.conns);
    if (them === undefined) continue;
    body.push([
      us.op,
      String(us.conns),
      String(us.reqPerSec),
      String(them.reqPerSec),
      `${(us.reqPerSec / them.reqPerSec).toFixed(2)}×`,
      `${ms(us.latencyMs.p50)} / ${ms(them.latencyMs.p50)}`,
      `${ms(us.latencyMs.p99)} / ${ms(them.latencyMs.p99)}`,
      `${ms(us.latencyMs.p99_9)} / ${ms(them.latencyMs.p99_9)}`,
      `${us.cpuUsPerRequest ?? '-'} / ${them.cpuUsPerRequest ?? '-'}`,
      `${us.errors} / ${them.errors}`,
      `${us.conflicts} / ${them.conflicts}`,
    ]);
  }
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function summary(rows: Row[], ranges: number): string {
  const conns = [...new Set(rows.map((r) => r.conns))].sort((a, b) => Math.abs(a - 64) - Math.abs(b - 64) || b - a)[0];
  const ratio = (op: Op) => {
    const us = rows.find((r) => r.system === 'raftshard' && r.op === op && r.conns === conns);
    const them = rows.find((r) => r.system === 'etcd' && r.op === op && r.conns === conns);
    return us && them && them.reqPerSec > 0 ? `${(us.reqPerSec / them.reqPerSec).toFixed(2)}× etcd (${us.reqPerSec} vs ${them.reqPerSec} req/s)` : '-';
  };
  return `vs-etcd: ${ranges} ranges, ${conns} conns: PUT ${ratio('PUT')}, GET ${ratio('GET')}, TXN-1PC ${ratio('TXN-1PC')}, TXN-2PC ${ratio('TXN-2PC')}`;
}

/** Runs the comparison; returns the process exit code. */
export async function runVsEtcd(opts: VsEtcdOptions, machine: Record<string, unknown>, started: Date): Promise<number> {
  const bin = etcdBinary();
  const etcdVersion = EtcdCluster.version(bin);
  const warnings: string[] = [];
  log(`raftshard (${opts.ranges} ranges) against a 3-member ${etcdVersion}; connections ${opts.conns.join(', ')}; ${opts.seconds} s per run`);
  const cluster = await Cluster.start();
  let etcd: EtcdCluster | undefined;
  const rows: Row[] = [];
  try {
    await cluster.waitReady();
    await prepareRanges(cluster.url, opts.ranges, warnings);
    await preload(cluster.url);
    log(`raftshard ready at ${cluster.url}, ${KEYS} keys preloaded`);
    etcd = await EtcdCluster.start(bin);
    await preloadEtcd(etcd);
    const etcdUrl = await etcd.leaderUrl();
    log(`etcd ready, leader at ${etcdUrl}, ${KEYS} keys preloaded`);
    const seen = new Set<string>();
    const groups: Record<System, ProcessGroups> = {
      raftshard: await discoverProcesses(cluster, seen),
      etcd: { etcd: etcd.pids, bench: [process.pid] },
    };
    warnings.push(...seen);
    let turn = 0;
    for (const conns of opts.conns) {
      for (const op of OPS) {
        const order: System[] = turn++ % 2 === 0 ? ['raftshard', 'etcd'] : ['etcd', 'raftshard'];
        for (const system of order) {
          const row = await run(system, system === 'raftshard' ? cluster.url : etcdUrl, op, conns, opts.seconds, groups[system]);
          rows.push(row);
          log(`${system} ${op} x${conns}: ${row.reqPerSec} req/s, p50 ${ms(row.latencyMs.p50)} / p99 ${ms(row.latencyMs.p99)} ms, ${row.cpuUsPerRequest ?? '-'} µs CPU per request, ${row.errors} errors${op.startsWith('TXN') ? `, ${row.conflicts} conflicts (409)` : ''}`);
          if (cluster.proc.exitCode !== null) throw new BenchError('raftshard local exited during the run');
        }
      }
    }
  } finally {
    await Promise.allSettled([cluster.stop(), etcd?.stop()]);
  }
  console.log('');
  console.log(`raftshard (${opts.ranges} ranges, 3 replicas) and ${etcdVersion} (3 members), both fsync on, autocannon on the same machine; ${KEYS} keys, 64 B values, ${opts.seconds} s per run; "us" = raftshard`);
  console.log(table(rows));
  mkdirSync(opts.resultsDir, { recursive: true });
  const file = join(opts.resultsDir, `vs-etcd-${started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  const sum = summary(rows, opts.ranges);
  writeFileSync(file, JSON.stringify({ bench: 'vs-etcd', machine, etcd: etcdVersion, options: opts, warnings, rows, summary: sum }, null, 2) + '\n');
  console.log(`bench: results written to ${relative(process.cwd(), file) || file}`);
  console.log(sum);
  return 0;
}
