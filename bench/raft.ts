/**
 * `npm run bench:raft`: committed proposals per second and commit latency of a
 * 3-node cluster of the real core, in memory and with LevelDB persistence
 * (one synced batch per Ready per node), at 64 B and 1 KiB payloads.
 * Prints a table, writes bench/results/raft.json, ends with a one-line summary.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../src/raft/index.js';
import type { NodeFactory, RunResult } from './raft-cluster.js';
import { buildCluster, runLoad } from './raft-cluster.js';
import { benchArgs } from './args.js';
import { levelFactory } from './raft-level.js';

const USAGE = `Usage: npm run bench:raft

Committed proposals per second and commit latency of a 3-node cluster of the
real Raft core, in memory and with LevelDB persistence, at 64 B and 1 KiB
payloads. Prints a table and writes bench/results/raft.json.
Environment: BENCH_SECONDS, seconds per row (default 3).`;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const now = () => performance.now();

const memoryFactory: NodeFactory = async (_id, voters) => {
  const storage = MemoryStorage.bootstrap(voters);
  return {
    storage,
    persist: (rd) => {
      if (rd.snapshot) storage.applySnapshot(rd.snapshot);
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
    },
  };
};

interface Row extends RunResult {
  readonly storage: string;
  readonly payload: number;
}

async function main(): Promise<void> {
  benchArgs({}, USAGE);
  const rows: Row[] = [];
  const dirs: string[] = [];
  for (const storage of ['memory', 'leveldb'] as const) {
    for (const payload of [64, 1024]) {
      let factory = memoryFactory;
      if (storage === 'leveldb') {
        const dir = mkdtempSync(join(tmpdir(), 'raftshard-bench-'));
        dirs.push(dir);
        factory = levelFactory(dir);
      }
      const nodes = await buildCluster(factory);
      const window = storage === 'memory' ? 8192 : 8192;
      const r = await runLoad(nodes, payload, SECONDS, window, now);
      rows.push({ storage, payload, ...r });
      process.stderr.write(`bench:raft ${storage} ${payload} B: ${Math.round(r.perSecond)} proposals/s\n`);
      await Promise.all(nodes.map((n) => n.close?.()));
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });

  console.log(`3-node cluster, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${SECONDS}s per row, closed loop of 8192 proposals in flight`);
  console.table(
    rows.map((r) => ({
      storage: r.storage,
      payload: `${r.payload} B`,
      'proposals/s': Math.round(r.perSecond),
      'p50 rounds': r.p50Rounds,
      'p99 rounds': r.p99Rounds,
      'p50 ms': r.p50Ms.toFixed(2),
      'p99 ms': r.p99Ms.toFixed(2),
      'entries/ready': (r.proposals / (r.readies / 3)).toFixed(0),
    })),
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/raft.json', JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, seconds: SECONDS, rows }, null, 2));
  const get = (s: string, p: number) => Math.round(rows.find((r) => r.storage === s && r.payload === p)!.perSecond);
  console.log(`bench:raft summary: memory 64B ${get('memory', 64)}/s, leveldb+fsync 64B ${get('leveldb', 64)}/s, memory 1KiB ${get('memory', 1024)}/s, leveldb+fsync 1KiB ${get('leveldb', 1024)}/s`);
}

await main();
