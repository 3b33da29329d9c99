/**
 * Three real `raftshard store` processes on loopback: writes to 100 ranges
 * under load, kill -9 of a store mid-load and a restart; afterwards every
 * acknowledged write is readable and all replicas converge.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreClient } from '../../src/transport/index.js';
import { evenRanges, keyFor, RangeClient } from '../support/range-client.js';
import { freePort } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const RANGES = 100;
const dir = mkdtempSync(join(tmpdir(), 'raftshard-procs-'));
const procs = new Map<number, ChildProcess>();
const addresses = new Map<number, string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function startStore(id: number): Promise<void> {
  const peers = [...addresses].map(([i, a]) => `${i}=${a}`).join(',');
  const child = spawn(process.execPath, [CLI, 'store', '--id', String(id), '--listen', addresses.get(id)!, '--dir', join(dir, `s${id}`), '--peers', peers, '--tick-ms', '50'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RAFTSHARD_LOG: 'warn' },
  });
  procs.set(id, child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`store ${id} exited with ${code}`)));
  });
}

function kill9(id: number): Promise<void> {
  const child = procs.get(id)!;
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function statuses(id: number) {
  const c = new StoreClient(addresses.get(id)!);
  try {
    return (await c.ranges()).ranges;
  } finally {
    c.close();
  }
}

const ranges = evenRanges(RANGES, [1, 2, 3]);
let client: RangeClient;

beforeAll(async () => {
  for (const id of [1, 2, 3]) addresses.set(id, `127.0.0.1:${await freePort()}`);
  await Promise.all([1, 2, 3].map(startStore));
  for (const id of [1, 2, 3]) {
    const c = new StoreClient(addresses.get(id)!);
    await Promise.all(ranges.map((r) => c.createReplica(r, true)));
    c.close();
  }
  client = new RangeClient(addresses, ranges);
}, 60_000);

afterAll(async () => {
  client?.close();
  for (const id of procs.keys()) await kill9(id).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('three store processes', () => {
  it('no acknowledged write is lost across kill -9 of a store during load, and replicas converge', async () => {
    const acked = new Map<string, string>();
    let failed = 0;
    let stop = false;
    // 8 writers, each writing distinct keys spread over all ranges.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = keyFor((i * 7919 + w * 104_729) % 1_000_000);
        const value = `w${w}-${i}`;
        try {
          const r = await client.put(key, value);
          if (r.error === '') acked.set(key, value);
          else failed++;
        } catch {
          failed++;
        }
      }
    });
    await sleep(1500);
    await kill9(3);
    await sleep(1500);
    await startStore(3);
    await sleep(1500);
    stop = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(500);

    // Every acknowledged write is there (linearizable reads through the leaders).
    const entries = [...acked];
    for (let i = 0; i < entries.length; i += 50) {
      const batch = entries.slice(i, i + 50);
      const got = await Promise.all(batch.map(([k]) => client.get(k)));
      got.forEach((r, j) => expect(Buffer.from(r.value).toString(), batch[j][0]).toBe(batch[j][1]));
    }

    // All replicas converge: every store applies each range up to the same index.
    const deadline = Date.now() + 20_000;
    for (;;) {
      // A store just restarted may not take calls yet: that round simply does not count.
      const all = await Promise.all([1, 2, 3].map((id) => statuses(id).catch(() => [])));
      const byRange = new Map<number, number[]>();
      for (const list of all) for (const s of list) byRange.set(s.range.id, [...(byRange.get(s.range.id) ?? []), s.applied]);
      const converged = byRange.size === RANGES && [...byRange.values()].every((a) => a.length === 3 && a.every((x) => x === a[0]));
      if (converged) break;
      if (Date.now() > deadline) throw new Error('replicas did not converge');
      await sleep(200);
    }
  }, 90_000);
});
