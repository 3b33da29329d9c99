/**
 * Background traffic against a gateway over real HTTP, for end-to-end tests
 * that change a cluster (split, move, kill -9) while clients use it:
 *
 * - writers: writer w writes its own keys "w<w>-<n>" with value n, one request
 *   in flight each; every 200 is recorded (an acknowledged write must survive),
 *   and every 4th acknowledged key is read back at once (a linearizable read
 *   after the ack must see it);
 * - register clients: get / put / cas over a few shared keys, every operation
 *   recorded for the linearizability checker (src/sim/wgl-checker.ts).
 *
 * The load runs in phases; each phase reports its status counts, the answers
 * no client should ever get, and per writer the longest time without an
 * acknowledged write (how long the writer's range was unavailable).
 */
import { kvModel } from '../../src/sim/kv-model.js';
import type { KvCommand, KvResult } from '../../src/sim/kv-model.js';
import type { CheckResult, Operation } from '../../src/sim/wgl-checker.js';
import { checkLinearizable } from '../../src/sim/wgl-checker.js';

export interface HttpResult {
  /** 0 when there was no HTTP answer (connection refused or reset, timeout). */
  readonly status: number;
  /** The parsed body, as the server sent it: tests look into it field by field. */
  readonly json: any;
  readonly text: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request with a JSON body (or `raw` text); never throws. */
export async function httpJson(baseUrl: string, method: string, path: string, body?: unknown, raw?: string, timeoutMs = 30_000): Promise<HttpResult> {
  const hasBody = body !== undefined || raw !== undefined;
  try {
    const res = await fetch(baseUrl + path, {
      method,
      headers: hasBody ? { 'content-type': 'application/json' } : {},
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = { unparsable: text.slice(0, 200) };
    }
    return { status: res.status, json, text };
  } catch (err) {
    return { status: 0, json: null, text: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

export interface LoadOptions {
  readonly writers: number;
  /** Shared keys of the register clients; PUT once by `initRegisters`. */
  readonly registerKeys: readonly string[];
  readonly registerClients: number;
  /** Pause after each operation of a client, to keep the load bounded. */
  readonly pauseMs: number;
}

export interface PhaseReport {
  readonly name: string;
  readonly durationMs: number;
  /** Writes acknowledged (200) in this phase. */
  readonly acked: number;
  /** "<op> <status>" → count; status 0 = no HTTP answer. */
  readonly statuses: Record<string, number>;
  /** Answers outside the contract for the operation (a 500, no answer from the gateway, …). */
  readonly unexpected: readonly string[];
  /** An acknowledged write read back as absent or with another value. */
  readonly violations: readonly string[];
  /** Per writer: the longest time (ms) between acknowledged writes, phase start and end included. */
  readonly maxGapMs: readonly number[];
}

export interface RunningPhase {
  stop(): Promise<PhaseReport>;
}

export class GatewayLoad {
  /** Every acknowledged writer key → its value. */
  readonly acked = new Map<string, string>();
  /** Every writer key ever sent (a write answered otherwise may or may not have happened). */
  readonly attempted = new Set<string>();
  /** The register clients' history, for `checkRegisters`. */
  readonly history: Operation<KvCommand, KvResult>[] = [];
  private readonly nextN: number[];
  private readonly t0 = performance.now();

  constructor(
    private readonly baseUrl: string,
    private readonly opts: LoadOptions,
  ) {
    this.nextN = Array.from({ length: opts.writers }, () => 0);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  /** Gives every register a value before the first phase; throws if a PUT is not acknowledged. */
  async initRegisters(): Promise<void> {
    for (const key of this.opts.registerKeys) {
      const call = this.now();
      const res = await httpJson(this.baseUrl, 'PUT', `/kv/${encodeURIComponent(key)}`, { value: 'init' });
      if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${res.text}`);
      this.history.push({ clientId: -1, input: { op: 'put', key, value: 'init' }, output: { ok: true }, call, ret: this.now() });
    }
  }

  checkRegisters(): CheckResult {
    return checkLinearizable(kvModel, this.history);
  }

  /** Starts the writers and register clients; `stop()` ends them and reports the phase. */
  start(name: string): RunningPhase {
    let stopped = false;
    const started = this.now();
    const statuses: Record<string, number> = {};
    const unexpected: string[] = [];
    const violations: string[] = [];
    const lastOk = Array.from({ length: this.opts.writers }, () => started);
    const maxGap = Array.from({ length: this.opts.writers }, () => 0);
    let acked = 0;
    const note = (op: string, res: HttpResult, allowed: readonly number[]) => {
      statuses[`${op} ${res.status}`] = (statuses[`${op} ${res.status}`] ?? 0) + 1;
      if (!allowed.includes(res.status) && unexpected.length < 20) unexpected.push(`${op} at ${Math.round(this.now() - started)} ms into "${name}": ${res.status} ${res.text.slice(0, 200)}`);
    };

    const writer = async (w: number) => {
      while (!stopped) {
        const n = this.nextN[w]++;
        const key = `w${w}-${n}`;
        const path = `/kv/${encodeURIComponent(key)}`;
        this.attempted.add(key);
        const put = await httpJson(this.baseUrl, 'PUT', path, { value: String(n) });
        note('put', put, [200, 503]);
        if (put.status === 200) {
          acked++;
          this.acked.set(key, String(n));
          const t = this.now();
          maxGap[w] = Math.max(maxGap[w], t - lastOk[w]);
          lastOk[w] = t;
          if (n % 4 === 0) {
            const get = await httpJson(this.baseUrl, 'GET', path);
            note('read-back', get, [200, 503]);
            if (get.status === 404 || (get.status === 200 && get.json?.value !== String(n))) {
              violations.push(`${key} was acknowledged with value ${n}, then GET answered ${get.status} ${get.text.slice(0, 100)}`);
            }
          }
        } else {
          await sleep(100);
        }
        await sleep(this.opts.pauseMs);
      }
    };

    const register = async (c: number) => {
      const keys = this.opts.registerKeys;
      const seen = new Map<string, string | null>();
      for (let i = 0; !stopped; i++) {
        const key = keys[(c + i) % keys.length];
        const path = `/kv/${encodeURIComponent(key)}`;
        const r = (c * 7 + i) % 10;
        const value = `${c}.${i}`;
        const input: KvCommand = r < 4 ? { op: 'get', key } : r < 7 ? { op: 'put', key, value } : { op: 'cas', key, expect: seen.get(key) ?? 'init', value };
        const call = this.now();
        let output: KvResult | undefined;
        if (input.op === 'get') {
          const res = await httpJson(this.baseUrl, 'GET', path);
          note('get', res, [200, 404, 503]);
          if (res.status === 200) output = { value: String(res.json?.value) };
          else if (res.status === 404) output = { value: null };
          if (output && 'value' in output) seen.set(key, output.value);
        } else if (input.op === 'put') {
          const res = await httpJson(this.baseUrl, 'PUT', path, { value });
          note('put', res, [200, 503]);
          if (res.status === 200) output = { ok: true };
        } else if (input.op === 'cas') {
          const res = await httpJson(this.baseUrl, 'POST', `${path}/cas`, { expect: input.expect, value });
          note('cas', res, [200, 409, 503]);
          if (res.status === 200) output = { ok: true, current: input.expect };
          else if (res.status === 409) output = { ok: false, current: (res.json?.current ?? null) as string | null };
          if (output && 'current' in output) seen.set(key, output.ok ? value : output.current);
        }
        // A read without an answer had no effect; a write without one may or may not have happened.
        if (output !== undefined || input.op !== 'get') this.history.push({ clientId: c, input, output, call, ret: output === undefined ? Infinity : this.now() });
        if (output === undefined) await sleep(100);
        await sleep(this.opts.pauseMs);
      }
    };

    const clients = [...Array.from({ length: this.opts.writers }, (_, w) => writer(w)), ...Array.from({ length: this.opts.registerClients }, (_, c) => register(c))];
    return {
      stop: async () => {
        stopped = true;
        await Promise.all(clients);
        const end = this.now();
        return {
          name,
          durationMs: Math.round(end - started),
          acked,
          statuses,
          unexpected,
          violations,
          maxGapMs: maxGap.map((g, w) => Math.round(Math.max(g, end - lastOk[w]))),
        };
      },
    };
  }
}
