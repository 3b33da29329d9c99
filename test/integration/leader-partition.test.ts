/**
 * A range leader cut off by a real network partition (its process keeps
 * running): three placement-driver members and a gateway on a bridge, each
 * store process in a network namespace of its own behind a veth pair; the
 * leader's link is taken down for 8 s and brought back. Writers and readers
 * go on through the gateway the whole time. Writes and reads must resume
 * within 3 s of the cut (ISSUE 8 §3), no request may fail, and every
 * acknowledged write must read back after the heal.
 *
 * Then a leader is stopped (SIGSTOP) and cut off from the other stores only,
 * another is elected and takes a write through the gateway, and a read sent
 * straight to the stopped one waits for it: woken, it must not answer with
 * the value from before the write (lease reads, ISSUE 12).
 *
 * Needs root and iproute2 (`ip netns`); skipped with a message otherwise.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingKvClient, StoreClient } from '../../src/transport/index.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const STORES = [1, 2, 3];
const CUT_MS = 8_000;
const RESUME_TARGET_MS = 3_000;

function canUseNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'no iproute2 (ip netns)';
  }
  return undefined;
}

const skipReason = canUseNetns();
if (skipReason) console.warn(`leader-partition: skipped (${skipReason}); it needs root and iproute2`);

const tag = `rs${process.pid % 100_000}`;
const subnet = `10.201.${process.pid % 250}`;
const hostIp = `${subnet}.254`;
const storeIp = (id: number) => `${subnet}.${id}`;
const bridge = `${tag}b`;
const hostVeth = (id: number) => `${tag}v${id}`;
const nsVeth = (id: number) => `${tag}p${id}`;
const netns = (id: number) => `${tag}n${id}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/**
 * Where bridged frames pass through iptables (br_netfilter, which Docker loads
 * along with a FORWARD policy of DROP), the stores' traffic to each other
 * needs a rule letting this bridge's own traffic through.
 */
const FORWARD_RULE = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
let forwardRuleAdded = false;

function bridgedFramesFiltered(): boolean {
  try {
    return readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

function createNetwork(): void {
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${hostIp}/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  if (bridgedFramesFiltered()) {
    execFileSync('iptables', ['-I', ...FORWARD_RULE], { stdio: 'pipe' });
    forwardRuleAdded = true;
  }
  for (const id of STORES) {
    ip('netns', 'add', netns(id));
    ip('link', 'add', hostVeth(id), 'type', 'veth', 'peer', 'name', nsVeth(id));
    ip('link', 'set', nsVeth(id), 'netns', netns(id));
    ip('link', 'set', hostVeth(id), 'master', bridge);
    ip('link', 'set', hostVeth(id), 'up');
    ip('netns', 'exec', netns(id), 'ip', 'addr', 'add', `${storeIp(id)}/24`, 'dev', nsVeth(id));
    ip('netns', 'exec', netns(id), 'ip', 'link', 'set', nsVeth(id), 'up');
    ip('netns', 'exec', netns(id), 'ip', 'link', 'set', 'lo', 'up');
  }
}

function removeNetwork(): void {
  for (const id of STORES) {
    try {
      ip('netns', 'del', netns(id));
    } catch {
      // not created
    }
  }
  try {
    ip('link', 'del', bridge);
  } catch {
    // not created
  }
  if (forwardRuleAdded) execFileSync('iptables', ['-D', ...FORWARD_RULE], { stdio: 'pipe' });
}

const dir = mkdtempSync(join(tmpdir(), 'raftshard-partition-'));
const children: ChildProcess[] = [];
const storeProcs = new Map<number, ChildProcess>();
let logs = '';
const basePort = 20_000 + (process.pid % 1_000) * 10;
const pdPeers = [1, 2, 3].map((i) => `${i}=${hostIp}:${basePort + i}`).join(',');
const pdAddresses = [1, 2, 3].map((i) => `${hostIp}:${basePort + i}`).join(',');
const gateway = `http://${hostIp}:${basePort}`;
const storeAddress = (id: number) => `${storeIp(id)}:${basePort + 10}`;

function launch(argv: string[], prefix: string[] = []): ChildProcess {
  const [cmd, ...rest] = prefix.length > 0 ? [...prefix, process.execPath, CLI, ...argv] : [process.execPath, CLI, ...argv];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  child.stderr!.on('data', (d: Buffer) => {
    logs = (logs + d.toString()).slice(-64 * 1024);
  });
  children.push(child);
  return child;
}

async function call(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(gateway + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipReason !== undefined)('a range leader cut off by a network partition', () => {
  beforeAll(async () => {
    removeNetwork();
    createNetwork();
    for (const i of [1, 2, 3]) launch(['pd', '--id', String(i), '--peers', pdPeers, '--dir', join(dir, `pd-${i}`)]);
    for (const id of STORES) storeProcs.set(id, launch(['store', '--id', String(id), '--listen', storeAddress(id), '--dir', join(dir, `store-${id}`), '--pd', pdAddresses], ['ip', 'netns', 'exec', netns(id)]));
    launch(['gateway', '--listen', `${hostIp}:${basePort}`, '--pd', pdAddresses]);
    for (let i = 0; ; i++) {
      const ok = await call('GET', '/health', undefined, 2_000).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 600) throw new Error(`cluster not healthy within 60 s:\n${logs.slice(-4000)}`);
      await sleep(100);
    }
  }, 90_000);

  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    await sleep(200);
    removeNetwork();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writes and reads going: they resume within 3 s of the cut, none fails, all acknowledged writes read back', async () => {
    // The leader as the placement driver reports it (heartbeats bring it within a second or so).
    let leader: number | null = null;
    for (let i = 0; i < 100 && leader === null; i++) {
      const ranges = (await call('GET', '/admin/ranges')).json.ranges as { id: number; leader: number | null }[];
      leader = ranges.length === 1 ? ranges[0].leader : null;
      if (leader === null) await sleep(100);
    }
    expect(leader).not.toBeNull();

    const acknowledged = new Map<string, string>();
    const failures: string[] = [];
    // Completion times of successful requests, per kind, to find the longest stall.
    const done = { write: [] as number[], read: [] as number[] };
    let stop = false;
    const worker = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const key = `w${w}-${n}`;
        const value = `v${n}`;
        const put = await call('PUT', `/kv/${key}`, { value }).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
        if (put.status === 200) {
          acknowledged.set(key, value);
          done.write.push(performance.now());
        } else failures.push(`PUT ${key}: ${put.status} ${JSON.stringify(put.json)}`);
        const get = await call('GET', `/kv/w${w}-${Math.max(0, n - 1)}`).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
        if (get.status === 200 || get.status === 404) done.read.push(performance.now());
        else failures.push(`GET: ${get.status} ${JSON.stringify(get.json)}`);
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await sleep(2_000);
    const cutAt = performance.now();
    ip('link', 'set', hostVeth(leader!), 'down');
    await sleep(CUT_MS);
    ip('link', 'set', hostVeth(leader!), 'up');
    await sleep(3_000);
    stop = true;
    await Promise.all(workers);

    const stall = (times: number[]) => {
      const after = times.filter((t) => t > cutAt).sort((a, b) => a - b);
      const before = times.filter((t) => t <= cutAt);
      let longest = (after[0] ?? Infinity) - Math.max(cutAt, ...before);
      for (let i = 1; i < after.length && after[i] < cutAt + CUT_MS; i++) longest = Math.max(longest, after[i] - after[i - 1]);
      return Math.round(longest);
    };
    const writeStall = stall(done.write);
    const readStall = stall(done.read);
    console.log(`leader store ${leader} cut off for ${CUT_MS} ms: longest stall of writes ${writeStall} ms, of reads ${readStall} ms; ${acknowledged.size} writes acknowledged, ${failures.length} failures`);
    expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
    expect(writeStall).toBeLessThan(RESUME_TARGET_MS);
    expect(readStall).toBeLessThan(RESUME_TARGET_MS);

    for (const [key, value] of acknowledged) {
      const res = await call('GET', `/kv/${key}`);
      expect(res, key).toMatchObject({ status: 200, json: { value } });
    }
  }, 60_000);

  it('a leader stopped and cut off from the other stores never answers a read that waited for it with an overwritten value', async () => {
    const leaderOf = async (): Promise<number | null> => {
      const ranges = (await call('GET', '/admin/ranges')).json.ranges as { id: number; leader: number | null }[];
      return ranges.length === 1 ? ranges[0].leader : null;
    };
    let old: number | null = null;
    for (let i = 0; i < 100 && old === null; i++) {
      old = await leaderOf();
      if (old === null) await sleep(100);
    }
    expect(old).not.toBeNull();
    const leader = old!;
    const status = new StoreClient(storeAddress(leader));
    const direct = new BatchingKvClient(storeAddress(leader));
    try {
      const range = (await status.ranges()).ranges[0].range;
      const get = () => direct.kv({ op: 'get', key: new TextEncoder().encode('lease-key'), rangeId: range.id, epoch: range.epoch });
      expect((await call('PUT', '/kv/lease-key', { value: 'before' })).status).toBe(200);
      // Reads straight at the leader: it serves them on its lease (heartbeats flow meanwhile).
      for (let i = 0; i < 20; i++) {
        const res = await get();
        expect(res.error).toBe('');
        expect(Buffer.from(res.value).toString()).toBe('before');
        await sleep(20);
      }

      storeProcs.get(leader)!.kill('SIGSTOP');
      for (const other of STORES.filter((id) => id !== leader)) {
        for (const [chain, flag] of [['INPUT', '-s'], ['OUTPUT', '-d']]) ip('netns', 'exec', netns(leader), 'iptables', '-A', chain, flag, storeIp(other), '-j', 'DROP');
      }
      expect((await call('PUT', '/kv/lease-key', { value: 'after' })).status).toBe(200);
      const read = get().catch((err: Error) => err);
      await sleep(200); // the read waits in the stopped store's socket
      storeProcs.get(leader)!.kill('SIGCONT');
      const res = await read;
      // Refused (it cannot confirm its leadership, or learned it lost it) or, were it still leading, the new value.
      if (!(res instanceof Error) && res.error === '') expect(Buffer.from(res.value).toString(), `store ${leader} answered the read it woke to`).toBe('after');
    } finally {
      status.close();
      direct.close();
      for (const other of STORES.filter((id) => id !== leader)) {
        for (const [chain, flag] of [['INPUT', '-s'], ['OUTPUT', '-d']]) ip('netns', 'exec', netns(leader), 'iptables', '-D', chain, flag, storeIp(other), '-j', 'DROP');
      }
    }
  }, 60_000);
});
