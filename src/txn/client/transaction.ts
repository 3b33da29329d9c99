/**
 * One transaction (client-go's KVTxn and twoPhaseCommitter): reads at the
 * start timestamp (snapshot isolation), writes buffered here until commit.
 *
 * Commit, when every key lies in one range, is one entry in that range's log
 * (one-phase: no locks left behind). Otherwise, Percolator's two phases:
 *   1. prewrite every key, grouped by range, in parallel; the first key is the primary;
 *   2. take commitTs from the TSO;
 *   3. commit the primary's range: the atomic commit point;
 *   4. commit the other ranges in the background: a reader that meets a lock
 *      left behind asks the primary and rolls it forward.
 * A failed prewrite rolls back (a rollback record on the primary decides), so
 * every answer but OUTCOME_UNKNOWN is definite. While the prewrites take
 * longer than a third of the lock TTL, the primary's TTL is extended.
 */
import { DbError, latin1Of, OutcomeUnknownError, UnavailableError } from '../../common/index.js';
import type { Timestamp } from '../../common/index.js';
import type { WireKvResponse } from '../../transport/index.js';
import type { KeyLock, Mutation, TxnResult } from '../actions/index.js';
import { decodeTxnResult } from '../codec.js';
import { WireError } from '../../transport/index.js';
import type { TxnEnv } from './env.js';
import { groupByRange, isRegroup, sendCommand, sendPerRange } from './sender.js';
import { nanoid } from 'nanoid';
import { encodeTxnCommand } from '../codec.js';

/** What SQL and the gateway see of a transaction. */
export interface KvTxn {
  readonly startTs: Timestamp;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Up to `limit` keys in [start, end) (an empty end = unbounded), this transaction's writes included. */
  scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<{ items: { key: Uint8Array; value: Uint8Array }[]; more: boolean }>;
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Applies the writes atomically; rejects with WRITE_CONFLICT (nothing applied), UNAVAILABLE (nothing applied) or OUTCOME_UNKNOWN. */
  commit(): Promise<void>;
  rollback(): void;
}

export class ConflictError extends DbError {
  constructor(message: string) {
    super('WRITE_CONFLICT', message);
  }
}

const keyOf = latin1Of;
const malformed = (why: string) => new WireError(`bad answer from a store: ${why}`);

export class Transaction implements KvTxn {
  /** Buffered writes by key; undefined value = delete. */
  private readonly writes = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>();
  private done = false;
  private readonly deadline: number;

  constructor(
    private readonly env: TxnEnv,
    readonly startTs: Timestamp,
  ) {
    this.deadline = env.clock.monotonic() + env.options.deadlineMs;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const own = this.writes.get(keyOf(key));
    if (own) return own.value;
    const res = check(await this.env.readResolving({ op: 'get', key, ts: this.startTs }, this.deadline));
    return res.found ? res.value : undefined;
  }

  async scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<{ items: { key: Uint8Array; value: Uint8Array }[]; more: boolean }> {
    const items: { key: Uint8Array; value: Uint8Array }[] = [];
    let from = start;
    let more = false;
    for (;;) {
      const res = check(await this.env.readResolving({ op: 'scan', key: from, end, limit: limit - items.length, ts: this.startTs }, this.deadline));
      items.push(...res.items);
      const range = await this.env.sender.rangeOf(from);
      if (items.length >= limit) {
        more = res.more || range.end.length > 0;
        break;
      }
      if (range.end.length === 0 || (end.length > 0 && Buffer.compare(range.end, end) >= 0)) break;
      from = range.end;
    }
    return this.overlay(items, start, end, limit, more);
  }

  /** The scanned items with this transaction's own writes in [start, end) applied. */
  private overlay(items: { key: Uint8Array; value: Uint8Array }[], start: Uint8Array, end: Uint8Array, limit: number, more: boolean): { items: { key: Uint8Array; value: Uint8Array }[]; more: boolean } {
    if (this.writes.size === 0) return { items: items.slice(0, limit), more };
    // Past the last key fetched the stores may hold keys not seen yet: own writes there belong to the next page.
    const last = more && items.length > 0 ? items[items.length - 1].key : undefined;
    const inPage = (k: Uint8Array) => Buffer.compare(k, start) >= 0 && (end.length === 0 || Buffer.compare(k, end) < 0) && (!last || Buffer.compare(k, last) <= 0);
    const merged = new Map(items.map((it) => [keyOf(it.key), it]));
    for (const [k, w] of this.writes) {
      if (!inPage(w.key)) continue;
      if (w.value === undefined) merged.delete(k);
      else merged.set(k, { key: w.key, value: w.value });
    }
    const sorted = [...merged.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    return { items: sorted.slice(0, limit), more: more || sorted.length > limit };
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.checkOpen();
    this.writes.set(keyOf(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.checkOpen();
    this.writes.set(keyOf(key), { key, value: undefined });
  }

  rollback(): void {
    this.done = true;
  }

  async commit(): Promise<void> {
    this.checkOpen();
    this.done = true;
    if (this.writes.size === 0) return;
    const mutations: Mutation[] = [...this.writes.values()].sort((a, b) => Buffer.compare(a.key, b.key)).map((w) => ({ kind: w.value === undefined ? 'delete' : 'put', key: w.key, value: w.value }));
    const groups = await groupByRange(this.env.sender, mutations.map((m) => m.key));
    if (groups.size === 1 && (await this.tryOnePhase(mutations))) return;
    await this.twoPhase(mutations);
  }

  private checkOpen(): void {
    if (this.done) throw new DbError('BAD_REQUEST', 'the transaction has ended');
  }

  /** One entry in one range. Returns false when the keys turn out to span ranges (nothing applied). */
  private async tryOnePhase(mutations: Mutation[]): Promise<boolean> {
    const payload = encodeTxnCommand({ kind: 'prewrite', startTs: this.startTs, primary: mutations[0].key, ttlMs: this.env.options.lockTtlMs, mutations, onePc: true, floor: 0n });
    const requestId = nanoid();
    for (let attempt = 0; ; attempt++) {
      let res: WireKvResponse;
      try {
        // Applies at most once per request id, so a resend after an unknown outcome is safe.
        res = await this.env.sender.send({ op: 'txn', key: mutations[0].key, requestId, retry: attempt > 0, payload });
      } catch (err) {
        if (isRegroup(err)) return false;
        throw err;
      }
      if (res.error !== '') throw new UnavailableError(`${res.error}: ${res.message}`);
      const result = decodeTxnResult(res.payload, malformed);
      if (result.kind === 'ok') return true;
      if (result.kind === 'locked') await this.waitOnLocks(result.locks);
      else throw conflictOf(result);
    }
  }

  private async twoPhase(mutations: Mutation[]): Promise<void> {
    const primary = mutations[0].key;
    const ttlMs = this.env.options.lockTtlMs;
    const byKey = new Map(mutations.map((m) => [keyOf(m.key), m]));
    const heartbeat = this.env.timers.setInterval(() => void sendPerRange(this.env.sender, [primary], () => ({ kind: 'heartbeat', primary, startTs: this.startTs, ttlMs: ttlMs * 2 })).catch(() => {}), Math.max(100, ttlMs / 3));
    try {
      await this.prewriteAll(mutations, byKey, primary, ttlMs);
    } catch (err) {
      clearHeartbeat(this.env, heartbeat);
      // Never committed, so it never will be; the rollback record on the primary makes that final for resolvers too.
      await this.rollbackAll(mutations.map((m) => m.key)).catch(() => {});
      if (err instanceof OutcomeUnknownError) throw new UnavailableError(`prewrite did not complete: ${err.message}`);
      throw err;
    }
    clearHeartbeat(this.env, heartbeat);
    const commitTs = await this.env.tso.next();
    const primaryGroup = [...(await groupByRange(this.env.sender, mutations.map((m) => m.key))).values()].find((g) => g.keys.some((k) => Buffer.compare(k, primary) === 0))!;
    // The primary first in its group: if its lock is gone the whole command fails before touching another key.
    const first = [primary, ...primaryGroup.keys.filter((k) => Buffer.compare(k, primary) !== 0)];
    const result = await this.commitPrimary(first, commitTs);
    if (result.kind === 'rolledBack') throw new ConflictError('the transaction was rolled back by another before it committed');
    const rest = mutations.map((m) => m.key).filter((k) => !first.some((f) => Buffer.compare(f, k) === 0));
    if (rest.length > 0) void sendPerRange(this.env.sender, rest, (keys) => ({ kind: 'commit', startTs: this.startTs, commitTs, keys })).catch(() => {});
  }

  private async commitPrimary(keys: Uint8Array[], commitTs: Timestamp): Promise<TxnResult> {
    for (;;) {
      try {
        return await sendCommand(this.env.sender, keys[0], { kind: 'commit', startTs: this.startTs, commitTs, keys });
      } catch (err) {
        // A split moved some of the group's keys: the primary alone decides.
        if (isRegroup(err) && keys.length > 1) {
          keys = [keys[0]];
          continue;
        }
        if (err instanceof DbError && err.code === 'UNAVAILABLE') throw new OutcomeUnknownError(`the commit of the primary could not be confirmed: ${err.message}`);
        throw err;
      }
    }
  }

  private async prewriteAll(mutations: Mutation[], byKey: Map<string, Mutation>, primary: Uint8Array, ttlMs: number): Promise<void> {
    let todo = mutations.map((m) => m.key);
    while (todo.length > 0) {
      const results = await sendPerRange(this.env.sender, todo, (keys) => ({ kind: 'prewrite', startTs: this.startTs, primary, ttlMs, mutations: keys.map((k) => byKey.get(keyOf(k))!), onePc: false, floor: 0n }));
      todo = [];
      const locks: KeyLock[] = [];
      for (const { keys, result } of results) {
        if (result.kind === 'locked') {
          locks.push(...result.locks);
          todo.push(...keys);
        } else if (result.kind !== 'ok') {
          throw conflictOf(result);
        }
      }
      if (locks.length > 0) await this.waitOnLocks(locks);
    }
  }

  private async rollbackAll(keys: Uint8Array[]): Promise<void> {
    await sendPerRange(this.env.sender, keys, (group) => ({ kind: 'rollback', startTs: this.startTs, keys: group }));
  }

  private async waitOnLocks(locks: readonly KeyLock[]): Promise<void> {
    const wait = await this.env.resolver.resolve(locks);
    if (wait === 0) return;
    if (this.env.clock.monotonic() + wait > this.deadline) throw new UnavailableError('a key is locked by another transaction that is still running');
    await new Promise<void>((r) => this.env.timers.setTimeout(r, wait));
  }
}

function clearHeartbeat(env: TxnEnv, timer: unknown): void {
  env.timers.clearInterval(timer as never);
}

function conflictOf(result: TxnResult): DbError {
  switch (result.kind) {
    case 'conflict':
      return new ConflictError(`write conflict: a newer write at ${result.conflictTs}`);
    case 'rolledBack':
    case 'committed':
      return new ConflictError(`the transaction was ${result.kind === 'committed' ? 'committed' : 'rolled back'} meanwhile`);
    default:
      return new DbError('INTERNAL', `unexpected ${result.kind} answer to a transactional write`);
  }
}

function check(res: WireKvResponse): WireKvResponse {
  if (res.error === '') return res;
  throw new DbError(res.error === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'UNAVAILABLE', `${res.error}: ${res.message}`);
}
