/**
 * One range's MVCC state over a MemoryEngine, for the txn unit and golden
 * tests (src/txn/**\/*.test.ts). Each command runs through applyTxnCommand
 * against the engine as it stands, its changes buffered in a sink and written
 * to the engine before the next command, as a store applies one Raft entry
 * after another. Reads run over the engine with the READ_ONLY sink.
 *
 * The harness checks one contract on every command (actions/types.ts): a
 * result documented as "nothing applied" comes with no change at all.
 */
import { composeTimestamp, logicalOf, physicalOf } from '../../src/common/index.js';
import type { Timestamp } from '../../src/common/index.js';
import type { BatchOp } from '../../src/storage/index.js';
import { keys, MemoryEngine } from '../../src/storage/index.js';
import type { GetResult, KeyLock, Mutation, ScanResult, TxnCommand, TxnResult } from '../../src/txn/index.js';
import { applyTxnCommand, get, LATEST, MvccTxn, READ_ONLY, scan } from '../../src/txn/index.js';
import type { KeyMeta, Lock, WriteRecord } from '../../src/txn/mvcc/records.js';
import { decodeMeta, decodeWrite } from '../../src/txn/mvcc/records.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : dec.decode(u));
/** A timestamp at `ms` physical milliseconds (logical 0), for tests where TTLs matter. */
export const ms = (physicalMs: number, logical = 0): Timestamp => composeTimestamp(physicalMs, logical);

/** Results that must leave the range as it was (actions/types.ts). */
const NOTHING_APPLIED = new Set<TxnResult['kind']>(['casFailed', 'locked', 'conflict', 'tsTooOld']);

export class TxnHarness {
  readonly engine = new MemoryEngine();
  /** The range's bounds: the whole keyspace unless given. */
  constructor(readonly range: { start: Uint8Array; end: Uint8Array } = { start: new Uint8Array(0), end: new Uint8Array(0) }) {}
  /** The changes of the last command, as written to the engine. */
  lastOps: BatchOp[] = [];

  async apply(cmd: TxnCommand): Promise<TxnResult> {
    const ops: BatchOp[] = [];
    const sink = {
      put: (key: Uint8Array, value: Uint8Array) => void ops.push({ type: 'put', key: key.slice(), value: value.slice() }),
      del: (key: Uint8Array) => void ops.push({ type: 'del', key: key.slice() }),
    };
    const res = await applyTxnCommand(new MvccTxn(this.engine, sink), cmd, this.range);
    if (NOTHING_APPLIED.has(res.kind) && ops.length > 0) throw new Error(`${cmd.kind} answered ${res.kind} but wrote ${ops.length} record(s)`);
    await this.engine.write(ops);
    this.lastOps = ops;
    return res;
  }

  /** Applies commands in order, none of which may be refused (a setup that does not hold fails the test). */
  async applyAll(...cmds: TxnCommand[]): Promise<void> {
    for (const cmd of cmds) {
      const res = await this.apply(cmd);
      if (NOTHING_APPLIED.has(res.kind)) throw new Error(`setup: ${cmd.kind} answered ${JSON.stringify(res, replacer)}`);
    }
  }

  private reader(): MvccTxn {
    return new MvccTxn(this.engine, READ_ONLY);
  }

  get(key: string | Uint8Array, ts: Timestamp = LATEST): Promise<GetResult> {
    return get(this.reader(), typeof key === 'string' ? bytes(key) : key, ts);
  }

  /** The value of `key` at ts as text (undefined: absent); a lock in the way fails the test. */
  async value(key: string, ts: Timestamp = LATEST): Promise<string | undefined> {
    const r = await this.get(key, ts);
    if (r.kind === 'locked') throw new Error(`get ${key}@${ts} met a lock of ${r.locks[0].startTs}`);
    return text(r.value);
  }

  scan(start: string, end: string, ts: Timestamp = LATEST, limit = Number.MAX_SAFE_INTEGER): Promise<ScanResult> {
    return scan(this.reader(), bytes(start), bytes(end), ts, limit);
  }

  meta(key: string): Promise<KeyMeta | undefined> {
    return this.reader().meta(bytes(key));
  }

  /** Every write record of `key`, newest first. */
  async writes(key: string): Promise<[Timestamp, WriteRecord][]> {
    const out: [Timestamp, WriteRecord][] = [];
    for await (const rec of this.reader().writesBetween(bytes(key), LATEST, 0n)) out.push(rec);
    return out;
  }

  /** The start timestamps of the long values of `key` in the data column, newest first. */
  async dataOf(key: string): Promise<Timestamp[]> {
    const { gte, lt } = keys.dataBounds(bytes(key), bytes(`${key}\0`));
    const out: Timestamp[] = [];
    for await (const [k] of this.engine.range(gte, lt)) out.push(keys.decodeVersionedKey(k).ts);
    return out;
  }

  /** Every MVCC record of the range in words, one a line, by user key: metadata, write records, data. */
  async dump(): Promise<string[]> {
    const byKey = new Map<string, string[][]>();
    const add = (key: Uint8Array, column: number, line: string) => {
      const name = text(key)!;
      if (!byKey.has(name)) byKey.set(name, [[], [], []]);
      byKey.get(name)![column].push(line);
    };
    for await (const [k, v] of this.engine.range(Uint8Array.of(keys.DATA_PREFIX), Uint8Array.of(keys.WRITE_PREFIX + 1))) {
      if (k[0] === keys.META_PREFIX) {
        const key = keys.userKeyOfMeta(k);
        add(key, 0, `${text(key)}: ${formatMeta(decodeMeta(v))}`);
        continue;
      }
      const { userKey, ts } = keys.decodeVersionedKey(k);
      if (k[0] === keys.WRITE_PREFIX) {
        const w = decodeWrite(v);
        add(userKey, 1, `${text(userKey)}@${formatTs(ts)}: ${w.kind} start=${formatTs(w.startTs)}${w.kind === 'put' ? ` value=${stored(w.value)}` : ''}`);
      } else {
        add(userKey, 2, `${text(userKey)} data@${formatTs(ts)}: ${formatValue(v)}`);
      }
    }
    return [...byKey.keys()].sort().flatMap((k) => byKey.get(k)!.flat());
  }
}

// ---- command builders -----------------------------------------------------------

const key = (k: string | Uint8Array): Uint8Array => (typeof k === 'string' ? bytes(k) : k);
const opt = (v: string | undefined): Uint8Array | undefined => (v === undefined ? undefined : bytes(v));

export const kvPut = (k: string, value: string, ts: Timestamp, floor = 0n): TxnCommand => ({ kind: 'kvWrite', op: 'put', key: key(k), value: bytes(value), expect: undefined, ts, floor });
export const kvDelete = (k: string, ts: Timestamp, floor = 0n): TxnCommand => ({ kind: 'kvWrite', op: 'delete', key: key(k), value: undefined, expect: undefined, ts, floor });
/** A compare-and-set: `expect` undefined means "absent", `value` undefined deletes. */
export const kvCas = (k: string, expect: string | undefined, value: string | undefined, ts: Timestamp, floor = 0n): TxnCommand => ({
  kind: 'kvWrite',
  op: 'cas',
  key: key(k),
  value: opt(value),
  expect: opt(expect),
  ts,
  floor,
});

/** A mutation: `[key, value]` puts, `[key]` deletes. */
export type M = readonly [string] | readonly [string, string];
export const mutation = ([k, v]: M): Mutation => (v === undefined ? { kind: 'delete', key: key(k), value: undefined } : { kind: 'put', key: key(k), value: bytes(v) });

export function prewrite(startTs: Timestamp, primary: string, muts: readonly M[], opts: { ttlMs?: number; onePc?: boolean; floor?: Timestamp } = {}): TxnCommand {
  return { kind: 'prewrite', startTs, primary: key(primary), ttlMs: opts.ttlMs ?? 3000, mutations: muts.map(mutation), onePc: opts.onePc ?? false, floor: opts.floor ?? 0n };
}
export const commit = (startTs: Timestamp, commitTs: Timestamp, ks: readonly string[]): TxnCommand => ({ kind: 'commit', startTs, commitTs, keys: ks.map(key) });
export const rollback = (startTs: Timestamp, ks: readonly string[]): TxnCommand => ({ kind: 'rollback', startTs, keys: ks.map(key) });
export const checkTxnStatus = (primary: string, startTs: Timestamp, currentTs: Timestamp): TxnCommand => ({ kind: 'checkTxnStatus', primary: key(primary), startTs, currentTs });
export const heartbeat = (primary: string, startTs: Timestamp, ttlMs: number): TxnCommand => ({ kind: 'heartbeat', primary: key(primary), startTs, ttlMs });
/** commitTs 0 rolls back; no keys means every lock of the transaction in the range. */
export const resolveLock = (startTs: Timestamp, commitTs: Timestamp, ks: readonly string[] = []): TxnCommand => ({ kind: 'resolveLock', startTs, commitTs, keys: ks.map(key) });
export const gc = (safePoint: Timestamp): TxnCommand => ({ kind: 'gc', safePoint });

// ---- results --------------------------------------------------------------------

export const ok = (commitTs = 0n, extra: { deleted?: boolean; current?: string } = {}): TxnResult => ({ kind: 'ok', deleted: extra.deleted ?? false, current: opt(extra.current), commitTs });
export const casFailed = (current: string | undefined): TxnResult => ({ kind: 'casFailed', current: opt(current) });
export const conflict = (k: string, conflictTs: Timestamp): TxnResult => ({ kind: 'conflict', key: bytes(k), conflictTs });

/** The lock a reader or writer is shown for `key`. */
export const keyLock = (k: string, primary: string, startTs: Timestamp, value: string | undefined, ttlMs = 3000): KeyLock => ({
  key: bytes(k),
  primary: bytes(primary),
  startTs,
  ttlMs,
  kind: value === undefined ? 'delete' : 'put',
  value: opt(value),
});

// ---- formatting (golden traces, failure messages) -------------------------------

/** `N` for physical N ms, `N.L` with a logical part, `latest` for LATEST. */
export function formatTs(ts: Timestamp): string {
  if (ts === LATEST) return 'latest';
  const l = logicalOf(ts);
  return l === 0 ? `${physicalOf(ts)}` : `${physicalOf(ts)}.${l}`;
}

export function parseTs(s: string): Timestamp {
  if (s === 'latest') return LATEST;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new Error(`bad timestamp ${s}`);
  return ms(Number(m[1]), Number(m[2] ?? 0));
}

/** A value as text; a long run of one character as `c*n`; `<none>` for undefined. */
export function formatValue(v: Uint8Array | undefined): string {
  if (v === undefined) return '<none>';
  if (v.length > 16 && v.every((x) => x === v[0])) return `${String.fromCharCode(v[0])}*${v.length}`;
  return text(v)!;
}

export function parseValue(s: string): string {
  const m = /^(.)\*(\d+)$/.exec(s);
  return m ? m[1].repeat(Number(m[2])) : s;
}

/** A put's value as a record holds it: inline, or `<data>` when it lives in the data column. */
const stored = (v: Uint8Array | undefined): string => (v === undefined ? '<data>' : formatValue(v));

const lockFields = (l: Lock): string => `primary=${text(l.primary)} start=${formatTs(l.startTs)} ttl=${l.ttlMs} ${l.kind}${l.kind === 'put' ? `=${stored(l.value)}` : ''}`;

export const formatLock = (l: KeyLock): string => `${text(l.key)}: ${lockFields(l)}`;

function formatMeta(m: KeyMeta): string {
  // The metadata's copy of the newest version points at its write record (the value is there).
  const latest = m.latest ? `${m.latest.kind}@${formatTs(m.latest.commitTs)}/${formatTs(m.latest.startTs)}${m.latest.value ? `=${formatValue(m.latest.value)}` : ''}` : '<none>';
  const lock = m.lock ? `{${lockFields(m.lock)}}` : '<none>';
  return `max=${formatTs(m.maxTs)} latest=${latest} lock=${lock}`;
}

export function formatResult(r: TxnResult | GetResult): string[] {
  switch (r.kind) {
    case 'ok':
      return [`ok${r.deleted ? ' deleted' : ''}${r.current !== undefined ? ` current=${formatValue(r.current)}` : ''}${r.commitTs !== 0n ? ` commit=${formatTs(r.commitTs)}` : ''}`];
    case 'value':
      return [`value=${formatValue(r.value)}`];
    case 'casFailed':
      return [`cas-failed current=${formatValue(r.current)}`];
    case 'locked':
      return ['locked', ...r.locks.map((l) => `  ${formatLock(l)}`)];
    case 'conflict':
      return [`conflict key=${text(r.key)} at=${formatTs(r.conflictTs)}`];
    case 'tsTooOld':
      return [`ts-too-old max=${formatTs(r.maxTs)}`];
    case 'rolledBack':
      return ['rolled-back'];
    case 'committed':
      return [`committed at=${formatTs(r.commitTs)}`];
    case 'alive':
      return [`alive ttl=${r.ttlMs}`];
  }
}

/** JSON.stringify with bigints and bytes readable. */
export function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return text(v);
  return v;
}
