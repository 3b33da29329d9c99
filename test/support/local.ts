/**
 * `raftshard local` as a child process for end-to-end tests: started on a
 * free port in a temporary directory, ready once it prints its URL, stopped
 * with Ctrl-C (SIGINT) and its directory removed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterBasePort } from './ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');

/** A range as GET /admin/ranges shows it (the fields these tests read). */
export interface RangeInfo {
  id: number;
  start: string;
  end: string;
  replicas: { store: number; role: string }[];
  leader: number | null;
}

export interface LocalCluster {
  readonly url: string;
  readonly port: number;
  /** Its data directory: every child's command line names it. */
  readonly dir: string;
  /** The last 256 KiB its processes wrote to stderr (their logs). */
  logs(): string;
  /** One JSON request to the gateway (15 s timeout). */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function startLocal(extraArgs: string[] = []): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'raftshard-e2e-'));
  const port = await clusterBasePort();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => {
    logs = (logs + d.toString()).slice(-256 * 1024);
  });
  await new Promise<void>((resolve, reject) => {
    // Not ready in time: stop it here, or it would outlive the test (the hook's own timeout leaves it running).
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`raftshard local on port ${port} not ready within 50 s:\n${logs.slice(-4000)}`));
    }, 50_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('raftshard is ready')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`raftshard local exited with ${code}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    dir,
    logs: () => logs,
    call: async (method, path, body) => {
      const res = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}
