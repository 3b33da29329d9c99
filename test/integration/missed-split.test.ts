/**
 * A store that was away while its range split, and then caught the left half
 * up by snapshot (the log with the split entry was compacted meanwhile), never
 * applied the split, so it never created its replica of the right half. The
 * placement driver notices from its heartbeats and creates the missing
 * replica; the leader fills it by snapshot. Proven the way a user would: with
 * another store paused, the right range still needs that replica for quorum.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'raftshard-missed-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let url = '';
let local: ChildProcess;
const paused = new Set<number>();

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** `count` acknowledged writes to the left half (or as many as fit in `maxMs`). */
async function hammer(count: number, maxMs = 60_000): Promise<number> {
  const until = Date.now() + maxMs;
  let ok = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; ok < count && Date.now() < until; i++) if ((await call('PUT', `/kv/a-${w}-${i % 50}`, { value: String(i) })).status === 200) ok++;
    }),
  );
  return ok;
}

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  local = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  local.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    local.stdout!.on('data', (d: Buffer) => d.toString().includes('raftshard is ready') && resolve());
    local.once('exit', (code) => reject(new Error(`local exited with ${code}`)));
  });
}, 60_000);

afterAll(async () => {
  for (const pid of paused) process.kill(pid, 'SIGCONT');
  await new Promise<void>((resolve) => {
    local.removeAllListeners('exit');
    local.once('exit', () => resolve());
    local.kill('SIGINT');
  });
  rmSync(dir, { recursive: true, force: true });
});

describe('a store that missed a split', () => {
  it('gets its replica of the right half from the placement driver and serves quorum for it', async () => {
    const stores = (await call('GET', '/admin/stores')).json.stores as { id: number; pid: number }[];
    const pid = (id: number) => stores.find((s) => s.id === id)!.pid;
    process.kill(pid(3), 'SIGSTOP');
    paused.add(pid(3));
    await hammer(5_000);
    const split = await call('POST', '/admin/split', { key: 'm' });
    expect(split.status).toBe(200);
    expect(await call('PUT', '/kv/zz', { value: 'before' })).toEqual({ status: 200, json: { ok: true } });
    // Enough that the left half's log is compacted past the split (at 10,000 entries).
    expect(await hammer(12_000)).toBeGreaterThanOrEqual(12_000);
    process.kill(pid(3), 'SIGCONT');
    paused.delete(pid(3));
    await sleep(8_000);
    // Now the right range ["m", "") has a quorum only if store 3 really hosts it.
    process.kill(pid(1), 'SIGSTOP');
    paused.add(pid(1));
    expect(await call('PUT', '/kv/zz', { value: 'after' })).toEqual({ status: 200, json: { ok: true } });
    expect(await call('GET', '/kv/zz')).toEqual({ status: 200, json: { key: 'zz', value: 'after' } });
    process.kill(pid(1), 'SIGCONT');
    paused.delete(pid(1));
  }, 180_000);
});
