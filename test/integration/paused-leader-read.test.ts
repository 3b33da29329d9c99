/**
 * Lease reads against real processes: a range leader that serves reads on its
 * lease at once is stopped (SIGSTOP) for several election timeouts, another
 * store is elected and takes a write, and a read is sent to the stopped one.
 * Woken (SIGCONT), it finds the read, the other leader's messages and its
 * overdue tick timer all waiting at once. It must answer the read with the
 * new value or refuse it, never with the value from before the write.
 *
 * Here the new leader's messages reach it too (loopback has no partition),
 * and so far it has always stepped down before it read; the whole-cluster
 * simulator's version (test/sim/cluster.test.ts) also cuts it off, and is the
 * one that fails when the ticks are not caught up before the lease is trusted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingKvClient, StoreClient } from '../../src/transport/index.js';
import type { WireKvResponse } from '../../src/transport/index.js';
import { evenRanges } from '../support/range-client.js';
import { freePort } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const STORES = [1, 2, 3];
const ROUNDS = 3;
/** Many election timeouts (10 ticks of 50 ms): the lease has long lapsed when the leader wakes. */
const PAUSE_MS = 2_000;
const dir = mkdtempSync(join(tmpdir(), 'raftshard-paused-'));
const procs = new Map<number, ChildProcess>();
const addresses = new Map<number, string>();
const metricsPorts = new Map<number, number>();
const [range] = evenRanges(1, STORES);
const key = new TextEncoder().encode('k000001');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (res: WireKvResponse) => Buffer.from(res.value).toString();

function startStore(id: number): Promise<void> {
  const peers = [...addresses].map(([i, a]) => `${i}=${a}`).join(',');
  const args = [CLI, 'store', '--id', String(id), '--listen', addresses.get(id)!, '--dir', join(dir, `s${id}`), '--peers', peers, '--tick-ms', '50', '--metrics', `127.0.0.1:${metricsPorts.get(id)}`];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  procs.set(id, child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`store ${id} exited with ${code}`)));
  });
}

async function leaderOf(ids: number[]): Promise<number | undefined> {
  for (const id of ids) {
    const c = new StoreClient(addresses.get(id)!);
    try {
      const st = (await c.ranges(1_000)).ranges.find((r) => r.range.id === range.id);
      if (st?.leaderStore === id) return id;
    } catch {
      // not answering: not the leader we are looking for
    } finally {
      c.close();
    }
  }
  return undefined;
}

async function immediateReads(id: number): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${metricsPorts.get(id)}/metrics`)).text();
  return Number(/^raftshard_lease_reads_immediate_total (\d+)/m.exec(body)?.[1] ?? NaN);
}

const request = (op: 'get' | 'put', value?: string) => ({
  op,
  key,
  rangeId: range.id,
  epoch: range.epoch,
  ...(value === undefined ? {} : { value: new TextEncoder().encode(value), hasValue: true, requestId: nanoid() }),
});

/** Sends `req` to `id` until it answers without a routing or availability error. */
async function untilAnswered(id: number, req: ReturnType<typeof request>, clients: Map<number, BatchingKvClient>): Promise<WireKvResponse> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await clients.get(id)!.kv({ ...req, retry: attempt > 0 }).catch(() => undefined);
    if (res && res.error === '') return res;
    await sleep(100);
  }
  throw new Error(`store ${id} did not answer ${req.op}`);
}

beforeAll(async () => {
  for (const id of STORES) {
    addresses.set(id, `127.0.0.1:${await freePort()}`);
    metricsPorts.set(id, await freePort());
  }
  await Promise.all(STORES.map(startStore));
  for (const id of STORES) {
    const c = new StoreClient(addresses.get(id)!);
    await c.createReplica(range, true);
    c.close();
  }
}, 60_000);

afterAll(() => {
  for (const child of procs.values()) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a range leader stopped past its lease', () => {
  it('never answers a read that waited for it with a value overwritten meanwhile', async () => {
    const clients = new Map(STORES.map((id) => [id, new BatchingKvClient(addresses.get(id)!)]));
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        let old: number | undefined;
        for (let i = 0; i < 100 && old === undefined; i++) {
          old = await leaderOf(STORES);
          if (old === undefined) await sleep(100);
        }
        expect(old, 'a leader').toBeDefined();
        const leader = old!;
        const before = `v${round}-before`;
        await untilAnswered(leader, request('put', before), clients);
        // Read until the leader serves on its lease at once (the path under test).
        const served = await immediateReads(leader);
        for (let i = 0; i < 50 && (await immediateReads(leader)) === served; i++) {
          expect(text(await untilAnswered(leader, request('get'), clients))).toBe(before);
          await sleep(20);
        }
        expect(await immediateReads(leader), 'reads served on the lease before the pause').toBeGreaterThan(served);

        procs.get(leader)!.kill('SIGSTOP');
        const stoppedAt = Date.now();
        const others = STORES.filter((id) => id !== leader);
        let next: number | undefined;
        for (let i = 0; i < 100 && next === undefined; i++) {
          next = await leaderOf(others);
          if (next === undefined) await sleep(100);
        }
        expect(next, 'a new leader among the others').toBeDefined();
        const after = `v${round}-after`;
        await untilAnswered(next!, request('put', after), clients);
        const read = clients.get(leader)!.kv(request('get')).catch((err: Error) => err);
        await sleep(Math.max(100, PAUSE_MS - (Date.now() - stoppedAt)));
        procs.get(leader)!.kill('SIGCONT');
        const res = await read;
        // Refused (it no longer leads, or could not confirm it) or the new value; never the old one.
        if (!(res instanceof Error) && res.error === '') expect(text(res), `round ${round}: read answered by the woken store ${leader}`).toBe(after);
        await sleep(500);
      }
    } finally {
      for (const c of clients.values()) c.close();
    }
  }, 120_000);
});
