/**
 * `raftshard local` (what `npm start` runs): N store processes and one
 * gateway, each its own OS process, supervised: a child that dies unexpectedly
 * is restarted after about a second. The first start creates the ranges; a
 * later start on the same directory comes back with all data.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DbError } from '../common/index.js';
import { createLogger, systemTimers } from '../runtime/index.js';
import { rangesFromSplits } from '../store/index.js';
import { StoreClient } from '../transport/index.js';
import type { ParsedArgs } from './args.js';
import { intFlag } from './args.js';

export const LOCAL_HELP = `Usage: raftshard local [--dir D] [--port P] [--stores N] [--replicas R]

Starts a local cluster: N store processes (default 3) and a gateway on
http://127.0.0.1:P (default 8080), each its own process, restarted after about
1 s if it dies. Store i listens on 127.0.0.1:P+10+i. Data lives under D
(default ./data); started again on the same directory it comes back with all
data. Ctrl-C stops everything. Environment: RAFTSHARD_DIR, RAFTSHARD_PORT.

Not built yet: the placement driver (so ranges are fixed at four, created on
the first three stores, and --replicas must be 3), split/move/rebalance.`;

/** Initial range boundaries: four ranges over typical text keys. */
const SPLITS = ['g', 'n', 'u'];
const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

export async function localCommand(args: ParsedArgs): Promise<number> {
  const dir = typeof args.flags.get('dir') === 'string' ? String(args.flags.get('dir')) : (process.env.RAFTSHARD_DIR ?? './data');
  const port = intFlag(args, 'port', Number(process.env.RAFTSHARD_PORT ?? 8080), 1);
  const storeCount = intFlag(args, 'stores', 3, 3);
  if (intFlag(args, 'replicas', 3, 1) !== 3) throw new DbError('BAD_REQUEST', '--replicas other than 3 needs the placement driver, which is not built yet');
  const logger = createLogger('local');
  const storeIds = Array.from({ length: storeCount }, (_, i) => i + 1);
  const addr = (id: number) => `127.0.0.1:${port + 10 + id}`;
  const peers = storeIds.map((id) => `${id}=${addr(id)}`).join(',');
  mkdirSync(dir, { recursive: true });

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const launch = (name: string, argv: string[]): Promise<void> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RAFTSHARD_SUPERVISOR_PID: String(process.pid) } });
      children.set(name, child);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) resolve();
      });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        logger.warn({ child: name, code, signal }, 'child exited; restarting in 1 s');
        systemTimers.setTimeout(() => void launch(name, argv), 1000);
      });
    });

  await Promise.all(storeIds.map((id) => launch(`store-${id}`, ['store', '--id', String(id), '--listen', addr(id), '--dir', join(dir, `store-${id}`), '--peers', peers])));
  // Creating a replica that exists is a no-op, so this is safe on every start.
  const ranges = rangesFromSplits(SPLITS.map((k) => new TextEncoder().encode(k)), storeIds.slice(0, 3));
  for (const id of storeIds.slice(0, 3)) {
    const c = new StoreClient(addr(id));
    for (const r of ranges) await c.createReplica(r, true);
    c.close();
  }
  await launch('gateway', ['gateway', '--listen', `127.0.0.1:${port}`, '--stores', peers]);
  await spreadLeaders(ranges.map((r) => r.id), storeIds.slice(0, 3), addr);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => systemTimers.setTimeout(() => r(undefined), 100));
  }
  console.log(`raftshard is ready: ${url}`);

  return new Promise((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping all processes');
      const exits = [...children.values()].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r))));
      for (const c of children.values()) c.kill('SIGTERM');
      void Promise.race([Promise.all(exits), new Promise((r) => systemTimers.setTimeout(() => r(undefined), 5000))]).then(() => {
        for (const c of children.values()) c.kill('SIGKILL');
        resolve(0);
        // Idle keep-alive sockets (the health checks) would hold the process open.
        process.exit(0);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/**
 * Until the placement driver balances leaders, hand range i's leadership to
 * store (i mod 3) + 1 so that one store does not serve every request.
 * Best effort: a transfer that does not happen leaves a working leader.
 */
async function spreadLeaders(rangeIds: number[], stores: number[], addr: (id: number) => string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const leaders = new Map<number, number>();
    for (const id of stores) {
      const c = new StoreClient(addr(id));
      try {
        for (const s of (await c.ranges()).ranges) if (s.leader_store === id) leaders.set(s.range.id, id);
      } catch {
        // not up yet
      } finally {
        c.close();
      }
    }
    const moves = rangeIds.filter((r, i) => leaders.has(r) && leaders.get(r) !== stores[i % stores.length]);
    if (leaders.size === rangeIds.length && moves.length === 0) return;
    for (const r of moves) {
      const c = new StoreClient(addr(leaders.get(r)!));
      await c.transferLeader(r, stores[rangeIds.indexOf(r) % stores.length]).catch(() => {});
      c.close();
    }
    await new Promise((res) => systemTimers.setTimeout(() => res(undefined), 200));
  }
}
