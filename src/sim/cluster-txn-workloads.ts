/**
 * The transactional workloads of the whole-cluster simulator, run through
 * the gateway's own transaction client (src/txn/client, wired as the gateway
 * wires it: the router as its sender, the PD's TSO over its stream) against
 * the real stores and placement driver, under the same nemesis as the `/kv`
 * workload:
 *   - bank: transfers between accounts (most across ranges, two-phase), one
 *     in fifty abandoned by its coordinator after its prewrites or after its
 *     primary's commit (left for readers to roll back or forward), and
 *     snapshot reads of every balance, each of which must sum to the total;
 *   - append: list-append transactions of 1–4 reads and appends (Elle's
 *     workload), mixed with `/kv` appends (a get, then a cas), checked for
 *     G0, G1a/b/c, G-single, lost updates and their real-time variants.
 * A workload runs one operation per `step`; the simulator runs the clients'
 * loops, the faults and the final checks.
 */
import type { Hash } from 'node:crypto';
import { DbError } from '../common/index.js';
import type { SeededRng } from '../runtime/index.js';
import type { WireKvResponse } from '../transport/index.js';
import { sendCommand, sendPerRange } from '../txn/index.js';
import type { Mutation, TxnClient } from '../txn/index.js';
import { checkBank, checkListAppend, describeAnomaly } from './txn-checkers.js';
import type { BankRead, ListAppendOp, ListAppendTxn, TxnStatus } from './txn-checkers.js';

/** What a workload needs of the simulator. */
export interface WorkloadContext {
  readonly txns: TxnClient;
  readonly keys: readonly string[];
  /** Unique, increasing stamps of real-time order. */
  stamp(): number;
  /** A broken expectation: the run fails. */
  fail(why: string): void;
  readonly stats: { committed: number; conflicts: number; abandoned: number; unknown: number; ops: number };
}

export interface TxnWorkload {
  /** Before any fault (the bank opens its accounts). */
  setup(): Promise<void>;
  /** One operation of client `index`. */
  step(index: number, r: SeededRng): Promise<void>;
  /** Once healed: a last read that must succeed (whatever dead coordinators left is resolved). */
  final(): Promise<string | undefined>;
  /** The workload's check of what it saw. */
  check(): string | undefined;
  digest(h: Hash): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const codeOf = (err: unknown): string | undefined => (err instanceof DbError ? err.code : undefined);

/** Errors a transaction may end with under faults: a conflict, an outcome unknown, or nothing applied. */
function expected(err: unknown): 'conflict' | 'unknown' | 'unavailable' | undefined {
  const code = codeOf(err);
  if (code === 'WRITE_CONFLICT') return 'conflict';
  if (code === 'OUTCOME_UNKNOWN') return 'unknown';
  // The gateway answers these 503: the ranges kept changing, no leader or no TSO within the deadline.
  if (code === 'UNAVAILABLE' || code === 'KEY_NOT_IN_RANGE' || code === 'EPOCH_NOT_MATCH') return 'unavailable';
  return undefined;
}

/** Every key is an account opened with this balance. */
const BALANCE = 100;

export class BankWorkload implements TxnWorkload {
  /** Snapshot reads, in the order they completed. */
  readonly reads: BankRead[] = [];

  constructor(private readonly ctx: WorkloadContext) {}

  /** Every account starts with BALANCE, in one transaction before any fault. */
  async setup(): Promise<void> {
    const txn = await this.ctx.txns.begin();
    for (const k of this.ctx.keys) txn.put(enc.encode(k), enc.encode(String(BALANCE)));
    await txn.commit();
  }

  async step(index: number, r: SeededRng): Promise<void> {
    const keys = this.ctx.keys;
    try {
      if (index === 0 || r.chance(0.3)) await this.snapshotRead();
      else if (r.chance(0.02)) await this.abandonedTransfer(r.pick(keys), r.pick(keys), 1 + r.int(20), r.chance(0.5) ? 'prewrite' : 'primary');
      else await this.transfer(r.pick(keys), r.pick(keys), 1 + r.int(20));
    } catch (err) {
      const kind = expected(err);
      if (kind === 'conflict') this.ctx.stats.conflicts++;
      else if (kind === 'unknown') this.ctx.stats.unknown++;
      else if (kind === undefined) this.ctx.fail(`bank client ${index}: ${(err as Error).message}`);
    }
  }

  private async transfer(from: string, to: string, amount: number): Promise<void> {
    if (from === to) return;
    const txn = await this.ctx.txns.begin();
    const [a, b] = await Promise.all([txn.get(enc.encode(from)), txn.get(enc.encode(to))]);
    const [x, y] = [Number(dec.decode(a!)), Number(dec.decode(b!))];
    const moved = Math.min(x, amount);
    txn.put(enc.encode(from), enc.encode(String(x - moved)));
    txn.put(enc.encode(to), enc.encode(String(y + moved)));
    await txn.commit();
    this.ctx.stats.committed++;
  }

  /**
   * A transfer whose coordinator dies at a chosen point, driven command by
   * command as TxnClient does it: after prewriting both keys (never committed:
   * its locks expire and readers roll it back), or after committing the
   * primary alone (committed: readers roll the secondary forward). Nothing
   * follows: no heartbeat, no rollback, no commit of the secondary.
   */
  private async abandonedTransfer(from: string, to: string, amount: number, point: 'prewrite' | 'primary'): Promise<void> {
    if (from === to) return;
    const client = this.ctx.txns;
    const txn = await client.begin();
    const [a, b] = await Promise.all([txn.get(enc.encode(from)), txn.get(enc.encode(to))]);
    const [x, y] = [Number(dec.decode(a!)), Number(dec.decode(b!))];
    const moved = Math.min(x, amount);
    const mutations: Mutation[] = [
      { kind: 'put' as const, key: enc.encode(from), value: enc.encode(String(x - moved)) },
      { kind: 'put' as const, key: enc.encode(to), value: enc.encode(String(y + moved)) },
    ].sort((m, n) => Buffer.compare(m.key, n.key));
    const primary = mutations[0].key;
    const prewrites = await sendPerRange(client.sender, [primary, mutations[1].key], (keys) => ({
      kind: 'prewrite',
      startTs: txn.startTs,
      primary,
      ttlMs: client.options.lockTtlMs,
      mutations: mutations.filter((m) => keys.some((k) => Buffer.compare(k, m.key) === 0)),
      onePc: false,
      floor: 0n,
    }));
    this.ctx.stats.abandoned++;
    if (point === 'prewrite' || prewrites.some((p) => p.result.kind !== 'ok')) return;
    const commitTs = await client.tso.next();
    const res = await sendCommand(client.sender, primary, { kind: 'commit', startTs: txn.startTs, commitTs, keys: [primary] });
    if (res.kind === 'ok') this.ctx.stats.committed++;
  }

  private async snapshotRead(): Promise<void> {
    const keys = this.ctx.keys;
    const txn = await this.ctx.txns.begin();
    const values = await Promise.all(keys.map((k) => txn.get(enc.encode(k))));
    this.reads.push({ id: this.reads.length, balances: Object.fromEntries(keys.map((k, i) => [k, values[i] === undefined ? Number.NaN : Number(dec.decode(values[i]!))])) });
  }

  async final(): Promise<string | undefined> {
    return this.snapshotRead().then(
      () => undefined,
      (err: Error) => `liveness: the final snapshot read failed: ${err.message}`,
    );
  }

  check(): string | undefined {
    const initial = Object.fromEntries(this.ctx.keys.map((k) => [k, BALANCE]));
    const res = checkBank(initial, this.reads);
    return res.ok ? undefined : `bank: ${res.anomalies.slice(0, 3).map(describeAnomaly).join('; ')}`;
  }

  digest(h: Hash): void {
    for (const read of this.reads) h.update(JSON.stringify(read.balances));
  }
}

export class ListAppendWorkload implements TxnWorkload {
  /** The transactions, in the order they ended; each appends elements unique in the run. */
  readonly txns: ListAppendTxn[] = [];
  private lastElement = 0;

  constructor(private readonly ctx: WorkloadContext) {}

  async setup(): Promise<void> {}

  /** A transaction of 1–4 steps, each a read of a key's list or an append of a new element to it (read, then write back); or a `/kv` append. */
  async step(index: number, r: SeededRng): Promise<void> {
    const steps = Array.from({ length: 1 + r.int(4) }, () => ({ key: r.pick(this.ctx.keys), append: r.chance(0.5) ? ++this.lastElement : undefined }));
    const viaKv = r.chance(0.3);
    const status = viaKv ? await this.kvAppend(index, steps[0].key, ++this.lastElement) : await this.appendTxn(index, steps);
    if (status === 'ok') this.ctx.stats.committed++;
  }

  /**
   * Runs one list-append transaction and records it. A conflict and a 503
   * (nothing applied) record it as failed, which the checker holds to: none
   * of its appends may ever be seen.
   */
  private async appendTxn(clientId: number, steps: readonly { key: string; append: number | undefined }[]): Promise<TxnStatus> {
    const invokedAt = this.ctx.stamp();
    const ops: ListAppendOp[] = [];
    let status: TxnStatus = 'ok';
    try {
      const txn = await this.ctx.txns.begin();
      for (const { key, append } of steps) {
        const raw = await txn.get(enc.encode(key));
        const list = raw === undefined ? [] : dec.decode(raw).split(',').map(Number);
        if (append === undefined) {
          ops.push({ f: 'r', key, value: raw === undefined ? null : list });
        } else {
          txn.put(enc.encode(key), enc.encode([...list, append].join(',')));
          ops.push({ f: 'append', key, value: append });
        }
      }
      await txn.commit();
    } catch (err) {
      const kind = expected(err);
      if (kind === 'conflict') this.ctx.stats.conflicts++;
      if (kind === 'unknown') this.ctx.stats.unknown++;
      if (kind === 'conflict' || kind === 'unavailable') status = 'fail';
      else if (kind === 'unknown') status = 'unknown';
      else this.ctx.fail(`list-append client ${clientId}: ${(err as Error).message}`);
    }
    this.txns.push({ id: this.txns.length, status, ops, invokedAt, completedAt: this.ctx.stamp() });
    return status;
  }

  /**
   * An append through `/kv` alone: a get, then a cas from that list to the
   * list with the element, again on a conflict. A cas that applied read and
   * wrote the key atomically, so it is recorded as a transaction of that read
   * and the append: `/kv` writes join the same real-time order as the
   * transactions (a transaction that starts before a `/kv` write must not
   * see it).
   */
  private async kvAppend(clientId: number, key: string, element: number): Promise<TxnStatus> {
    const invokedAt = this.ctx.stamp();
    const client = this.ctx.txns;
    const k = enc.encode(key);
    let status: TxnStatus = 'fail';
    let ops: ListAppendOp[] = [];
    try {
      for (let attempt = 0; attempt < 5 && status === 'fail'; attempt++) {
        const res = answered(await client.read({ op: 'get', key: k }));
        const list = res.found ? dec.decode(res.value).split(',').map(Number) : [];
        const cas = await client.write({ op: 'cas', key: k, hasExpect: res.found, expect: res.found ? res.value : undefined, hasValue: true, value: enc.encode([...list, element].join(',')) });
        if (cas.error === 'CONFLICT') continue;
        answered(cas);
        ops = [{ f: 'r', key, value: res.found ? list : null }, { f: 'append', key, value: element }];
        status = 'ok';
      }
    } catch (err) {
      const kind = expected(err);
      if (kind === undefined) this.ctx.fail(`list-append client ${clientId}: ${(err as Error).message}`);
      else if (kind === 'unknown') {
        // The cas may have applied: its append may be seen, its read is not known.
        status = 'unknown';
        ops = [{ f: 'append', key, value: element }];
        this.ctx.stats.unknown++;
      }
      // Anything else is a 503: nothing applied, the append is failed.
    }
    if (status === 'fail') this.ctx.stats.conflicts++;
    this.txns.push({ id: this.txns.length, status, ops, invokedAt, completedAt: this.ctx.stamp() });
    return status;
  }

  async final(): Promise<string | undefined> {
    const status = await this.appendTxn(-1, this.ctx.keys.map((key) => ({ key, append: undefined })));
    return status === 'ok' ? undefined : `liveness: the final read of every list ended ${status}`;
  }

  check(): string | undefined {
    // Snapshots respect real time: a transaction sees every one answered before it started.
    const res = checkListAppend(this.txns, { realtime: true });
    return res.ok ? undefined : `list-append: ${res.anomalies.slice(0, 3).map(describeAnomaly).join('; ')}`;
  }

  digest(h: Hash): void {
    for (const txn of this.txns) h.update(JSON.stringify([txn.status, txn.ops]));
  }
}

/** The answer of a `/kv` request as the gateway takes it: an error code is a 503 (nothing applied), a refusal a bug. */
function answered(res: WireKvResponse): WireKvResponse {
  if (res.error === 'BAD_REQUEST') throw new Error(`a store refused a well-formed request: ${res.message}`);
  if (res.error !== '') throw new DbError('UNAVAILABLE', `${res.error}: ${res.message}`);
  return res;
}
