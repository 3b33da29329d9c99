/**
 * A 3-member etcd cluster on 127.0.0.1 for side-by-side benchmarks: Debian's
 * `etcd-server` (etcd 3.4), fsync on (its default), data in a temporary
 * directory removed on stop. Clients talk to its JSON gateway
 * (`/v3/kv/put`, `/v3/kv/range`, `/v3/kv/txn`; keys and values in base64).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterBasePort } from '../test/support/ports.js';
import { BenchError, sleep } from './local-cluster.js';

const MEMBERS = 3;
const READY_TIMEOUT_MS = 30_000;
const INSTALL_HINT = 'etcd is not installed: `apt-get install etcd-server` (Debian) puts it in /usr/bin/etcd, or set ETCD_BIN';

export const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The etcd binary: $ETCD_BIN, else `etcd` on the PATH; a BenchError saying how to install it when there is none. */
export function etcdBinary(): string {
  const bin = process.env.ETCD_BIN ?? 'etcd';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new BenchError(INSTALL_HINT);
  return bin;
}

/** Clusters started and not yet stopped, for the bench's signal handler. */
export const activeEtcd = new Set<EtcdCluster>();

export class EtcdCluster {
  private constructor(
    private readonly procs: ChildProcess[],
    readonly clientUrls: string[],
    private readonly dir: string,
    private readonly stderr: string[],
  ) {}

  /** The version line etcd prints, e.g. "etcd Version: 3.4.23". */
  static version(bin: string): string {
    return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'etcd';
  }

  static async start(bin: string): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'raftshard-bench-etcd-'));
    const base = await clusterBasePort(2 * MEMBERS);
    const names = Array.from({ length: MEMBERS }, (_, i) => `etcd${i + 1}`);
    const clientUrls = names.map((_, i) => `http://127.0.0.1:${base + i}`);
    const peerUrls = names.map((_, i) => `http://127.0.0.1:${base + MEMBERS + i}`);
    const initial = names.map((n, i) => `${n}=${peerUrls[i]}`).join(',');
    const stderr = names.map(() => '');
    const procs = names.map((name, i) => {
      const p = spawn(
        bin,
        [
          `--name=${name}`,
          `--data-dir=${join(dir, name)}`,
          `--listen-client-urls=${clientUrls[i]}`,
          `--advertise-client-urls=${clientUrls[i]}`,
          `--listen-peer-urls=${peerUrls[i]}`,
          `--initial-advertise-peer-urls=${peerUrls[i]}`,
          `--initial-cluster=${initial}`,
          '--initial-cluster-state=new',
          '--initial-cluster-token=raftshard-bench',
          '--logger=zap',
          '--log-outputs=stderr',
          '--log-level=error',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      p.stderr!.on('data', (d: Buffer) => {
        if (stderr[i].length < 100_000) stderr[i] += d.toString();
      });
      return p;
    });
    const cluster = new EtcdCluster(procs, clientUrls, dir, stderr);
    activeEtcd.add(cluster);
    try {
      await cluster.waitHealthy();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid).filter((p): p is number => p !== undefined);
  }

  /** POSTs a JSON body to the gateway of member `i`; the parsed answer, or a BenchError. */
  async call(i: number, path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.clientUrls[i]}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status !== 200) throw new BenchError(`etcd ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The client URL of the current leader (where a client that knows the leader sends its requests). */
  async leaderUrl(): Promise<string> {
    for (let i = 0; i < this.clientUrls.length; i++) {
      const status = await this.call(i, '/v3/maintenance/status', {});
      const header = status.header as { member_id?: string } | undefined;
      if (header?.member_id !== undefined && header.member_id === status.leader) return this.clientUrls[i];
    }
    throw new BenchError('etcd reports no leader');
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const exited = this.procs.findIndex((p) => p.exitCode !== null);
      if (exited >= 0) throw new BenchError(`etcd member ${exited + 1} exited: ${this.stderr[exited].slice(-500)}`);
      try {
        await this.leaderUrl();
        return;
      } catch {
        if (Date.now() > deadline) throw new BenchError(`etcd not ready within ${READY_TIMEOUT_MS / 1000} s: ${this.stderr.join('\n').slice(-500)}`);
      }
      await sleep(200);
    }
  }

  /** Last resort when the bench is exiting and cannot wait. */
  kill(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    activeEtcd.delete(this);
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
