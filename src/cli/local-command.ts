/**
 * `raftshard local` (what `npm start` runs): a 3-member placement driver, N
 * store processes and one gateway, each its own OS process, supervised: a
 * child that dies unexpectedly is restarted after about a second. The PD
 * bootstraps the cluster on the first start; a later start on the same
 * directory comes back with all data.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DbError } from '../common/index.js';
import { createLogger, systemTimers } from '../runtime/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag } from './args.js';

export const LOCAL_HELP = `Usage: raftshard local [--dir D] [--port P] [--stores N] [--replicas R]
                       [--split-bytes B] [--replace-after-ms MS]

Starts a local cluster, each part its own OS process, restarted after about
1 s if it dies: a placement driver of 3 members on 127.0.0.1:P+1..P+3, N
stores (default 3) on 127.0.0.1:P+10+i, and a gateway on http://127.0.0.1:P
(default 8080). Prometheus metrics: the gateway's on its own port (/metrics),
PD member i's on 127.0.0.1:P+3+i, store i's on 127.0.0.1:P+10+N+i.
A new cluster starts with one range over all keys, replicated
R times (default 3); the placement driver splits and balances from there.
Data lives under D (default ./data); started again on the same directory it
comes back with all data. Ctrl-C stops everything. It prints a line per
process started or restarted, the URL, and the processes' warnings and errors
(RAFTSHARD_LOG=info shows all their logs).
Environment: RAFTSHARD_DIR, RAFTSHARD_PORT; RAFTSHARD_NODE_ARGS adds Node.js
flags to every child (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile).`;

export const LOCAL_OPTIONS = {
  dir: { type: 'string' },
  port: { type: 'string' },
  stores: { type: 'string' },
  replicas: { type: 'string' },
  'split-bytes': { type: 'string' },
  'replace-after-ms': { type: 'string' },
} as const satisfies OptionSpec;

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

export async function localCommand({ values }: ParsedArgs<typeof LOCAL_OPTIONS>): Promise<number> {
  const dir = values.dir ?? process.env.RAFTSHARD_DIR ?? './data';
  const port = intFlag(values, 'port', Number(process.env.RAFTSHARD_PORT ?? 8080), 1);
  const replicas = intFlag(values, 'replicas', 3, 1);
  const storeCount = intFlag(values, 'stores', 3, 1);
  if (storeCount < replicas) throw new DbError('BAD_REQUEST', `--stores (${storeCount}) must be at least --replicas (${replicas})`);
  const pdFlags = ['--replicas', String(replicas)];
  for (const f of ['split-bytes', 'replace-after-ms'] as const) if (values[f] !== undefined) pdFlags.push(`--${f}`, String(intFlag(values, f, 0, 0)));
  const logger = createLogger('local');
  const pdIds = [1, 2, 3];
  const pdPeers = pdIds.map((id) => `${id}=127.0.0.1:${port + id}`).join(',');
  const pdAddresses = pdIds.map((id) => `127.0.0.1:${port + id}`).join(',');
  const storeIds = Array.from({ length: storeCount }, (_, i) => i + 1);
  const addr = (id: number) => `127.0.0.1:${port + 10 + id}`;
  mkdirSync(dir, { recursive: true });

  // Extra Node.js flags for every child, e.g. RAFTSHARD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.RAFTSHARD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const launch = (name: string, argv: string[]): Promise<void> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [...nodeArgs, CLI, ...argv], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, RAFTSHARD_LOG: process.env.RAFTSHARD_LOG ?? 'warn', RAFTSHARD_SUPERVISOR_PID: String(process.pid) } });
      children.set(name, child);
      // The child says it serves on the IPC channel (announceReady).
      child.on('message', (m: { kind?: unknown }) => {
        if (m.kind !== 'ready') return;
        // One line per process started or restarted, readable in a terminal and in a log.
        console.log(`${name} started (pid ${child.pid})`);
        resolve();
      });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        logger.warn({ child: name, code, signal }, 'child exited; restarting in 1 s');
        systemTimers.setTimeout(() => void launch(name, argv), 1000);
      });
    });

  const metrics = (n: number) => ['--metrics', `127.0.0.1:${port + n}`];
  await Promise.all(pdIds.map((id) => launch(`pd-${id}`, ['pd', '--id', String(id), '--peers', pdPeers, '--dir', join(dir, `pd-${id}`), ...metrics(3 + id), ...pdFlags])));
  await Promise.all(storeIds.map((id) => launch(`store-${id}`, ['store', '--id', String(id), '--listen', addr(id), '--dir', join(dir, `store-${id}`), '--pd', pdAddresses, ...metrics(10 + storeCount + id)])));
  await launch('gateway', ['gateway', '--listen', `127.0.0.1:${port}`, '--pd', pdAddresses]);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
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
