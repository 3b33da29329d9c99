/**
 * `npm run bench`: autocannon against the gateway of a local cluster
 * (`raftshard local`: 3 stores, 3 replicas, fsync on, 4 ranges) on this
 * machine. PUT and linearizable GET of 64 B values over 10,000 keys at 1, 16,
 * 64 and 256 connections; req/s, p50/p99/p99.9 latency, CPU of each process.
 * Prints a table, writes bench/results/http.json, ends with a one-line summary.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/support/ports.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const KEYS = 10_000;
const VALUE = 'v'.repeat(64);
const CLI = join(import.meta.dirname, '../src/cli/main.js');

function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function pids(port: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, pattern] of [['gateway', `gateway --listen 127.0.0.1:${port}`], ...[1, 2, 3].map((i) => [`store-${i}`, `store --id ${i} --listen 127.0.0.1:${port + 10 + i}`])]) {
    out.set(name, Number(execFileSync('pgrep', ['-f', pattern]).toString().trim().split('\n')[0]));
  }
  return out;
}

/** Keys spread over the alphabet, so they fall into every initial range. */
const keyName = (n: number) => `${String.fromCharCode(97 + (n % 26))}key${String(n).padStart(5, '0')}`;
const key = () => `/kv/${keyName(Math.floor(Math.random() * KEYS))}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'raftshard-bench-http-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const local = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  process.once('exit', () => local.kill('SIGKILL'));
  await new Promise<void>((resolve) => local.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  process.stderr.write(`bench: cluster ready at ${url}; loading ${KEYS} keys\n`);
  for (let i = 0; i < KEYS; i += 200) {
    await Promise.all(Array.from({ length: 200 }, (_, j) => fetch(`${url}/kv/${keyName(i + j)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: VALUE }) })));
  }
  const procs = pids(port);
  const rows: Record<string, number | string>[] = [];
  for (const op of ['PUT', 'GET'] as const) {
    for (const connections of [1, 16, 64, 256]) {
      const cpu0 = new Map([...procs].map(([n, p]) => [n, cpuOf(p)]));
      const body = JSON.stringify({ value: VALUE });
      const r = await autocannon({
        url,
        connections,
        duration: SECONDS,
        requests: [{ method: op, headers: { 'content-type': 'application/json' }, body: op === 'PUT' ? body : undefined, setupRequest: (req) => ({ ...req, path: key() }) }],
      });
      const cpu = Object.fromEntries([...procs].map(([n, p]) => [`cpu ${n}`, `${Math.round(((cpuOf(p) - cpu0.get(n)!) / SECONDS) * 100)}%`]));
      rows.push({ op, connections, 'req/s': Math.round(r.requests.average), 'p50 ms': r.latency.p50, 'p99 ms': r.latency.p99, 'p99.9 ms': r.latency.p99_9, errors: r.errors + r.timeouts + r.non2xx, ...cpu });
      process.stderr.write(`bench: ${op} x${connections}: ${Math.round(r.requests.average)} req/s\n`);
    }
  }
  local.kill('SIGINT');
  await new Promise((r) => local.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  console.log(`raftshard local (3 stores, 3 replicas, fsync on, 4 ranges), autocannon on the same ${cpus().length}-core ${cpus()[0]?.model}, ${SECONDS}s per row, 64 B values, ${KEYS} keys`);
  console.table(rows);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/http.json', JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, seconds: SECONDS, rows }, null, 2));
  const at = (op: string) => rows.find((r) => r.op === op && r.connections === 64)!;
  console.log(`bench summary: PUT ${at('PUT')['req/s']} req/s (p99 ${at('PUT')['p99 ms']} ms), GET ${at('GET')['req/s']} req/s (p99 ${at('GET')['p99 ms']} ms) at 64 connections over 4 ranges`);
}

await main();
