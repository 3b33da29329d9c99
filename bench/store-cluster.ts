/**
 * Three real `raftshard store` processes on loopback for benchmarks, with
 * their metrics and CPU readable from outside.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evenSplits, rangesFromSplits } from '../src/replica/index.js';
import { StoreClient } from '../src/transport/index.js';
import { freePort } from '../test/support/ports.js';
import type { RangeDescriptor } from '../src/common/index.js';

const CLI = join(import.meta.dirname, '../src/cli/main.js');
const CLK_TCK = 100; // Linux USER_HZ
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


export class StoreCluster {
  readonly addresses = new Map<number, string>();
  readonly metricsAddresses = new Map<number, string>();
  private readonly procs = new Map<number, ChildProcess>();
  readonly ranges: RangeDescriptor[];
  private readonly dir = mkdtempSync(join(tmpdir(), 'raftshard-bench-store-'));

  private constructor(rangeCount: number) {
    this.ranges = rangesFromSplits(evenSplits(rangeCount), [1, 2, 3]);
  }

  static async start(rangeCount: number): Promise<StoreCluster> {
    const c = new StoreCluster(rangeCount);
    for (const id of [1, 2, 3]) {
      c.addresses.set(id, `127.0.0.1:${await freePort()}`);
      c.metricsAddresses.set(id, `127.0.0.1:${await freePort()}`);
    }
    await Promise.all([1, 2, 3].map((id) => c.spawnStore(id)));
    for (const id of [1, 2, 3]) {
      const client = new StoreClient(c.addresses.get(id)!);
      for (let i = 0; i < c.ranges.length; i += 500) await Promise.all(c.ranges.slice(i, i + 500).map((r) => client.createReplica(r, true, 120_000)));
      client.close();
    }
    await c.waitForLeaders();
    return c;
  }

  private spawnStore(id: number): Promise<void> {
    const peers = [...this.addresses].map(([i, a]) => `${i}=${a}`).join(',');
    const args = [CLI, 'store', '--id', String(id), '--listen', this.addresses.get(id)!, '--dir', join(this.dir, `s${id}`), '--peers', peers, '--metrics', this.metricsAddresses.get(id)!];
    if (this.procs.size === 0) {
      // Never leave store processes behind if the benchmark dies.
      process.once('exit', () => {
        for (const p of this.procs.values()) p.kill('SIGKILL');
      });
    }
    const child = spawn(process.execPath, [...(process.env.STORE_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.STORE_PROFILE] : []), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
    this.procs.set(id, child);
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`store ${id} exited with ${code}`)));
    });
  }

  async waitForLeaders(timeoutMs = 300_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const leaders = await this.metric('leaders');
      if (leaders === this.ranges.length) return;
      if (Date.now() - t0 > timeoutMs) throw new Error(`only ${leaders}/${this.ranges.length} ranges have leaders`);
      await sleep(1000);
    }
  }

  /** Sum of one counter over every store's /metrics. */
  async metric(name: string): Promise<number> {
    let sum = 0;
    for (const addr of this.metricsAddresses.values()) {
      const text = await (await fetch(`http://${addr}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`raftshard_${name} `));
      sum += line ? Number(line.split(' ')[1]) : 0;
    }
    return sum;
  }

  /** CPU seconds (user + system) each store process has used so far. */
  cpuSeconds(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [id, p] of this.procs) {
      const fields = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(id, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    }
    return out;
  }

  async stop(): Promise<void> {
    for (const p of this.procs.values()) {
      p.removeAllListeners('exit');
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      p.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
