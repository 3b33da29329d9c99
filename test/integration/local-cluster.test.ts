/**
 * `raftshard local` as a user runs it: real store and gateway processes,
 * driven over HTTP. The contract's KV API and error table; kill -9 and
 * SIGSTOP/SIGCONT of stores under concurrent clients with the history checked
 * for linearizability; Ctrl-C and a restart on the same directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvModel } from '../../src/sim/kv-model.js';
import type { KvCommand, KvResult } from '../../src/sim/kv-model.js';
import type { Operation } from '../../src/sim/wgl-checker.js';
import { checkLinearizable } from '../../src/sim/wgl-checker.js';
import { clusterBasePort } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'raftshard-local-'));
let port = 0;
let url = '';
let local: ChildProcess;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startLocal(): Promise<void> {
  local = spawn(process.execPath, [CLI, 'local', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTSHARD_LOG: 'warn' } });
  local.stderr!.resume();
  return new Promise((resolve, reject) => {
    local.stdout!.on('data', (d: Buffer) => d.toString().includes('raftshard is ready') && resolve());
    local.once('exit', (code) => reject(new Error(`local exited with ${code}`)));
  });
}

function stopLocal(): Promise<void> {
  return new Promise((resolve) => {
    local.removeAllListeners('exit');
    local.once('exit', () => resolve());
    local.kill('SIGINT');
  });
}

function storePid(id: number): number {
  const out = execFileSync('pgrep', ['-f', `store --id ${id} --listen 127.0.0.1:${port + 10 + id}`]).toString().trim();
  return Number(out.split('\n')[0]);
}

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, { method, headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  port = await clusterBasePort();
  url = `http://127.0.0.1:${port}`;
  await startLocal();
}, 60_000);

afterAll(async () => {
  await stopLocal().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('raftshard local over HTTP', () => {
  it('serves the key-value API of the contract', async () => {
    expect(await call('PUT', '/kv/apple', { value: 'red' })).toEqual({ status: 200, json: { ok: true } });
    expect(await call('GET', '/kv/apple')).toEqual({ status: 200, json: { key: 'apple', value: 'red' } });
    expect((await call('GET', '/kv/missing')).status).toBe(404);
    expect(await call('POST', '/kv/apple/cas', { expect: 'green', value: 'x' })).toMatchObject({ status: 409, json: { ok: false, current: 'red', code: 'CONFLICT' } });
    expect(await call('POST', '/kv/pear/cas', { expect: null, value: 'new' })).toEqual({ status: 200, json: { ok: true } });
    expect(await call('POST', '/kv/pear/cas', { expect: 'new', value: null })).toEqual({ status: 200, json: { ok: true } });
    expect((await call('GET', '/kv/pear')).status).toBe(404);
    for (const k of ['zebra', 'kiwi', 'mango', 'hat', 'a b/c']) await call('PUT', `/kv/${encodeURIComponent(k)}`, { value: `v-${k}` });
    const all = await call('GET', '/kv');
    expect((all.json.items as { key: string }[]).map((i) => i.key)).toEqual(['a b/c', 'apple', 'hat', 'kiwi', 'mango', 'zebra']);
    const page = await call('GET', '/kv?start=b&end=n&limit=2');
    expect(page.json).toEqual({ items: [{ key: 'hat', value: 'v-hat' }, { key: 'kiwi', value: 'v-kiwi' }], more: true });
    expect(await call('DELETE', '/kv/zebra')).toEqual({ status: 200, json: { ok: true, deleted: true } });
    expect(await call('DELETE', '/kv/zebra')).toEqual({ status: 200, json: { ok: true, deleted: false } });
  });

  it('answers bad input with the error table and changes nothing', async () => {
    await call('PUT', '/kv/keep', { value: 'same' });
    const cases: [string, string, unknown, string | undefined, number, string][] = [
      ['PUT', '/kv/keep', undefined, '{"value":', 400, 'BAD_REQUEST'],
      ['PUT', '/kv/keep', { value: 42 }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', '/kv/keep', { other: 'x' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', '/kv/keep', [1, 2], undefined, 400, 'BAD_REQUEST'],
      ['POST', '/kv/keep/cas', { value: 'x' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', `/kv/${'k'.repeat(4097)}`, { value: 'x' }, undefined, 413, 'TOO_LARGE'],
      ['PUT', '/kv/keep', { value: 'x'.repeat((1 << 20) + 1) }, undefined, 413, 'TOO_LARGE'],
      ['GET', '/kv?limit=0', undefined, undefined, 400, 'BAD_REQUEST'],
      ['GET', '/kv?limit=10001', undefined, undefined, 400, 'BAD_REQUEST'],
      ['GET', '/nowhere', undefined, undefined, 404, 'NOT_FOUND'],
      ['PATCH', '/kv/keep', undefined, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['DELETE', '/kv', undefined, undefined, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, raw, status, code] of cases) {
      const res = await call(method, path, body, raw);
      expect(res.status, `${method} ${path.slice(0, 40)}`).toBe(status);
      expect(res.json.code).toBe(code);
      expect(typeof res.json.error).toBe('string');
    }
    expect(await call('GET', '/kv/keep')).toEqual({ status: 200, json: { key: 'keep', value: 'same' } });
    expect((await call('PUT', `/kv/${'k'.repeat(4096)}`, { value: 'x'.repeat(1 << 20) })).status).toBe(200); // limits are inclusive
    expect((await call('GET', '/health')).json).toMatchObject({ ok: true });
  });

  it('without a quorum: a write answers 504 OUTCOME_UNKNOWN, a read 503 UNAVAILABLE with Retry-After; back with a quorum, the write is settled either way', async () => {
    expect((await call('PUT', '/kv/fate', { value: 'before' })).status).toBe(200);
    const paused = [2, 3].map(storePid);
    for (const pid of paused) process.kill(pid, 'SIGSTOP');
    try {
      const pending = fetch(`${url}/kv/fate`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'after' }) });
      // Until its lease lapses (under an election timeout, 1 s) the leader still serves reads on it; after, a read needs a quorum.
      await sleep(1_500);
      const [put, get] = await Promise.all([pending, fetch(`${url}/kv/fate`)]);
      expect({ status: put.status, json: await put.json() }).toMatchObject({ status: 504, json: { code: 'OUTCOME_UNKNOWN' } });
      expect({ status: get.status, json: await get.json() }).toMatchObject({ status: 503, json: { code: 'UNAVAILABLE' } });
      expect(get.headers.get('retry-after')).not.toBeNull();
    } finally {
      for (const pid of paused) process.kill(pid, 'SIGCONT');
    }
    const settled = await call('GET', '/kv/fate');
    expect(settled.status).toBe(200);
    expect(['before', 'after']).toContain(settled.json.value);
  }, 40_000);

  it('stays linearizable while stores are killed (-9) and paused (SIGSTOP/SIGCONT)', async () => {
    const history: Operation<KvCommand, KvResult>[] = [];
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    let stop = false;
    const clients = Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const key = ['x', 'y', 'z'][(c + i) % 3];
        const r = (c * 7 + i) % 10;
        const value = `${c}.${i}`;
        const input: KvCommand = r < 4 ? { op: 'get', key } : r < 8 ? { op: 'put', key, value } : { op: 'cas', key, expect: i % 2 ? null : `${(c + 1) % 6}.${i - 1}`, value };
        const call0 = now();
        let output: KvResult | undefined;
        try {
          if (input.op === 'get') {
            const res = await call('GET', `/kv/${key}`);
            if (res.status === 200) output = { value: res.json.value as string };
            else if (res.status === 404) output = { value: null };
          } else if (input.op === 'put') {
            if ((await call('PUT', `/kv/${key}`, { value })).status === 200) output = { ok: true };
          } else if (input.op === 'cas') {
            const res = await call('POST', `/kv/${key}/cas`, { expect: input.expect, value });
            if (res.status === 200) output = { ok: true, current: input.expect };
            else if (res.status === 409) output = { ok: false, current: res.json.current as string | null };
          }
        } catch {
          output = undefined;
        }
        // A failed read has no effect; a failed write may or may not have happened.
        if (output === undefined && input.op === 'get') continue;
        history.push({ clientId: c, input, output, call: call0, ret: output === undefined ? Infinity : now() });
      }
    });
    const nemesis = (async () => {
      for (let round = 0; round < 4; round++) {
        await sleep(1200);
        const victim = 1 + (round % 3);
        if (round % 2 === 0) {
          process.kill(storePid(victim), 'SIGKILL'); // the supervisor restarts it after ~1 s
        } else {
          const pid = storePid(victim);
          process.kill(pid, 'SIGSTOP');
          await sleep(2500); // longer than an election timeout
          process.kill(pid, 'SIGCONT');
        }
      }
      await sleep(2500);
      stop = true;
    })();
    await Promise.all([nemesis, ...clients]);
    const completed = history.filter((h) => h.output !== undefined).length;
    expect(completed).toBeGreaterThan(100);
    const result = checkLinearizable(kvModel, history);
    if (!result.ok) {
      // Kept for replaying the checker and reading the history by hand: this failure has been rare.
      const file = join(tmpdir(), `raftshard-nonlinearizable-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify(history));
      console.log(`history written to ${file}`);
    }
    expect(result, JSON.stringify(result)).toEqual({ ok: true });
  }, 90_000);

  it('serves Prometheus metrics on the gateway, every PD member and every store', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^raftshard_gateway_requests_total \d+$/m);
    // The layout of `raftshard local --port P` with 3 stores: PD member i on P+3+i, store i on P+13+i.
    const metricsOf = async (p: number) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
    const pd = await Promise.all([1, 2, 3].map((i) => metricsOf(port + 3 + i)));
    expect(pd.map((m) => Number(/^raftshard_pd_is_leader (\d)$/m.exec(m)?.[1])).reduce((a, b) => a + b)).toBe(1);
    for (const i of [1, 2, 3]) expect(await metricsOf(port + 13 + i)).toMatch(/^raftshard_ranges \d+$/m);
    // prom-client: latency histograms beside the counters, and each process's own metrics.
    expect(text).toMatch(/^raftshard_http_request_duration_seconds_bucket\{le="0\.0001",method="GET",route="\/kv\/:key",status_code="\d+"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    for (const m of pd) {
      expect(m).toMatch(/^raftshard_pd_term \d+$/m);
      expect(m).toMatch(/^raftshard_pd_tso_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
      expect(m).toMatch(/^raftshard_fsync_duration_seconds_bucket\{le="0\.001"\} \d+$/m);
    }
    const store = await metricsOf(port + 14);
    for (const h of ['raft_proposal_apply_seconds', 'fsync_duration_seconds', 'read_index_seconds']) expect(store).toMatch(new RegExp(`^raftshard_${h}_bucket\\{le="0\\.0001"\\} \\d+$`, 'm'));
    expect(store).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('kill -9 of every process, then a restart: every acknowledged write is back', async () => {
    const acked = [];
    for (let i = 0; i < 50; i++) if ((await call('PUT', `/kv/k9-${i}`, { value: `v${i}` })).status === 200) acked.push(i);
    expect(acked.length).toBe(50);
    const all = [local.pid!, ...[1, 2, 3].map(storePid), Number(execFileSync('pgrep', ['-f', `gateway --listen 127.0.0.1:${port}`]).toString().trim())];
    local.removeAllListeners('exit');
    for (const pid of all) process.kill(pid, 'SIGKILL');
    await sleep(500);
    await startLocal();
    for (const i of acked) expect(await call('GET', `/kv/k9-${i}`)).toEqual({ status: 200, json: { key: `k9-${i}`, value: `v${i}` } });
  }, 60_000);

  it('Ctrl-C stops every process; started again on the same directory, all data is back', async () => {
    await call('PUT', '/kv/durable', { value: 'yes' });
    await stopLocal();
    expect(() => storePid(1)).toThrow(); // pgrep finds nothing
    await startLocal();
    expect(await call('GET', '/kv/durable')).toEqual({ status: 200, json: { key: 'durable', value: 'yes' } });
    expect((await call('GET', '/kv/apple')).json.value).toBe('red');
  }, 60_000);
});
