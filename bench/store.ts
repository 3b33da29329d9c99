/**
 * `npm run bench:store`: three store processes on loopback, fsync on, 64 B
 * values. Committed writes/s and latency at 1, 16 and 256 concurrent writers
 * over 1 and 64 ranges; fsyncs/s and writes per fsync (the group-commit
 * factor); store CPU per committed write; then the CPU of 10,000 idle ranges.
 * Prints a table, writes bench/results/store.json, ends with a summary line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { nanoid } from 'nanoid';
import { RangeClient, keyFor } from '../test/support/range-client.js';
import { benchArgs } from './args.js';
import { StoreCluster } from './store-cluster.js';

const USAGE = `Usage: npm run bench:store

Three store processes on loopback, fsync on, 64 B values: committed writes/s,
latency and writes per fsync at 1, 16 and 256 writers over 1 and 64 ranges,
then the CPU of idle ranges. Prints a table and writes bench/results/store.json.
Environment: BENCH_SECONDS, seconds per row (default 5); BENCH_IDLE_RANGES,
how many idle ranges (default 10000); STORE_PROFILE=DIR writes the stores' CPU
profiles to DIR.`;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IDLE_RANGES = Number(process.env.BENCH_IDLE_RANGES ?? 10_000);
const VALUE = 'x'.repeat(64);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  ranges: number;
  writers: number;
  writesPerSec: number;
  p50ms: number;
  p99ms: number;
  fsyncsPerSec: number;
  writesPerFsync: number;
  storeCpuUsPerWrite: number;
  errors: number;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function load(cluster: StoreCluster, ranges: number, writers: number): Promise<Row> {
  const client = new RangeClient(cluster.addresses, cluster.ranges);
  // Warm up: routes and leaders.
  await Promise.all(cluster.ranges.map((r, i) => client.put(keyFor(Math.min(999_999, Math.floor((i * 1_000_000) / cluster.ranges.length))), VALUE)));
  const fsync0 = await cluster.metric('fsyncs_total');
  const cpu0 = cluster.cpuSeconds();
  const lat: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let i = 0;
      while (performance.now() < end) {
        const key = keyFor(((w * 7919 + i++ * 104_729) % 10_000) * 100);
        const s = performance.now();
        const r = await client.send({ op: 'put', key: new TextEncoder().encode(key), value: new TextEncoder().encode(VALUE), hasValue: true, requestId: nanoid() });
        if (r.error === '') lat.push(performance.now() - s);
        else errors++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const fsyncs = (await cluster.metric('fsyncs_total')) - fsync0;
  const cpu1 = cluster.cpuSeconds();
  const cpu = [...cpu1].reduce((a, [id, v]) => a + v - cpu0.get(id)!, 0);
  client.close();
  const writes = lat.length;
  return {
    ranges,
    writers,
    writesPerSec: Math.round(writes / secs),
    p50ms: +pct(lat, 0.5).toFixed(2),
    p99ms: +pct(lat, 0.99).toFixed(2),
    fsyncsPerSec: Math.round(fsyncs / secs),
    // Each write is made durable on all three stores: writes per fsync on one store.
    writesPerFsync: +((writes * 3) / Math.max(1, fsyncs)).toFixed(1),
    storeCpuUsPerWrite: Math.round((cpu / Math.max(1, writes)) * 1e6),
    errors,
  };
}

async function idleCpu(): Promise<{ ranges: number; cpuPercentPerStore: number[]; quiesced: number; secondsToQuiesce: number }> {
  const t0 = performance.now();
  const cluster = await StoreCluster.start(IDLE_RANGES);
  process.stderr.write(`bench:store idle: ${IDLE_RANGES} ranges created and led after ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  const q0 = performance.now();
  let quiesced = 0;
  while (performance.now() - q0 < 120_000) {
    quiesced = await cluster.metric('quiesced_ranges');
    if (quiesced >= IDLE_RANGES * 3) break;
    await sleep(1000);
  }
  const secondsToQuiesce = (performance.now() - q0) / 1000;
  const c0 = cluster.cpuSeconds();
  await sleep(10_000);
  const c1 = cluster.cpuSeconds();
  await cluster.stop();
  return { ranges: IDLE_RANGES, cpuPercentPerStore: [...c1].map(([id, v]) => +(((v - c0.get(id)!) / 10) * 100).toFixed(2)), quiesced, secondsToQuiesce: Math.round(secondsToQuiesce) };
}

async function main(): Promise<void> {
  benchArgs({}, USAGE);
  const rows: Row[] = [];
  for (const ranges of [1, 64]) {
    const cluster = await StoreCluster.start(ranges);
    for (const writers of [1, 16, 256]) {
      const row = await load(cluster, ranges, writers);
      rows.push(row);
      process.stderr.write(`bench:store ${ranges} ranges, ${writers} writers: ${row.writesPerSec} writes/s, ${row.writesPerFsync} writes/fsync\n`);
    }
    await cluster.stop();
  }
  const idle = await idleCpu();
  console.log(`3 store processes on loopback, fsync on, 64 B values, ${SECONDS}s per row; ${cpus().length} x ${cpus()[0]?.model}`);
  console.table(rows.map((r) => ({ ranges: r.ranges, writers: r.writers, 'writes/s': r.writesPerSec, 'p50 ms': r.p50ms, 'p99 ms': r.p99ms, 'fsyncs/s (3 stores)': r.fsyncsPerSec, 'writes/fsync': r.writesPerFsync, 'store CPU µs/write': r.storeCpuUsPerWrite, errors: r.errors })));
  console.log(`idle: ${idle.ranges} ranges per store, ${idle.quiesced} replicas quiesced after ${idle.secondsToQuiesce}s; CPU per store over 10 s: ${idle.cpuPercentPerStore.map((p) => `${p}%`).join(', ')} of one core`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/store.json', JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, seconds: SECONDS, rows, idle }, null, 2));
  const top = rows.find((r) => r.ranges === 64 && r.writers === 256)!;
  console.log(`bench:store summary: ${top.writesPerSec} writes/s at 256 writers over 64 ranges, ${top.writesPerFsync} writes per fsync, idle ${idle.ranges} ranges ${Math.max(...idle.cpuPercentPerStore)}% of a core`);
}

await main();
