/**
 * Transactional commands and results in binary: the bytes of a Raft entry
 * (every replica decodes the same command) and of the KV stream between
 * gateway and store. Decoding validates everything and throws through the
 * given factory (corruption in the log, a WireError on the network).
 *
 *   command := kind:u8 fields…      (field order as in actions/types.ts)
 *   result  := kind:u8 fields…
 *   lock    := key:bytes primary:bytes startTs:u64 ttlMs:u32 kind:u8 inline:u8 [value:bytes]
 */
import { ByteReader, ByteWriter } from '../common/index.js';
import type { KeyLock, Mutation, TxnCommand, TxnResult } from './actions/index.js';

const COMMANDS = ['kvWrite', 'prewrite', 'commit', 'rollback', 'checkTxnStatus', 'heartbeat', 'resolveLock', 'gc'] as const;
const RESULTS = ['ok', 'casFailed', 'locked', 'conflict', 'tsTooOld', 'rolledBack', 'committed', 'alive'] as const;
const KV_OPS = ['put', 'delete', 'cas'] as const;
const MUTATION_KINDS = ['put', 'delete'] as const;

type Malformed = (why: string) => Error;

function optional(w: ByteWriter, b: Uint8Array | undefined): void {
  w.u8(b ? 1 : 0);
  if (b) w.bytes(b);
}

const readOptional = (r: ByteReader): Uint8Array | undefined => (r.u8() === 1 ? r.bytes() : undefined);

function keyList(w: ByteWriter, list: readonly Uint8Array[]): void {
  w.u32(list.length);
  for (const k of list) w.bytes(k);
}

function readKeyList(r: ByteReader, malformed: Malformed): Uint8Array[] {
  const n = r.u32();
  if (n * 4 > r.remaining) throw malformed(`${n} keys exceed the frame`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes());
  return out;
}

function pick<T>(table: readonly T[], i: number, what: string, malformed: Malformed): T {
  const v = table[i];
  if (v === undefined) throw malformed(`unknown ${what} ${i}`);
  return v;
}

export function writeLock(w: ByteWriter, l: KeyLock): void {
  w.bytes(l.key);
  w.bytes(l.primary);
  w.ts(l.startTs);
  w.u32(l.ttlMs);
  w.u8(MUTATION_KINDS.indexOf(l.kind));
  optional(w, l.value);
}

export function readLock(r: ByteReader, malformed: Malformed): KeyLock {
  const key = r.bytes();
  const primary = r.bytes();
  const startTs = r.ts();
  const ttlMs = r.u32();
  const kind = pick(MUTATION_KINDS, r.u8(), 'mutation kind', malformed);
  return { key, primary, startTs, ttlMs, kind, value: readOptional(r) };
}

export function encodeTxnCommand(c: TxnCommand): Uint8Array {
  const w = new ByteWriter(128);
  writeTxnCommand(w, c);
  return w.finish().slice();
}

/** Appends the command to `w` (a Raft entry writes its header first, then this, into one buffer). */
export function writeTxnCommand(w: ByteWriter, c: TxnCommand): void {
  w.u8(COMMANDS.indexOf(c.kind));
  switch (c.kind) {
    case 'kvWrite':
      w.u8(KV_OPS.indexOf(c.op));
      w.bytes(c.key);
      optional(w, c.value);
      optional(w, c.expect);
      w.ts(c.ts);
      w.ts(c.floor);
      break;
    case 'prewrite':
      w.ts(c.startTs);
      w.bytes(c.primary);
      w.u32(c.ttlMs);
      w.u8(c.onePc ? 1 : 0);
      w.ts(c.floor);
      w.u32(c.mutations.length);
      for (const m of c.mutations) {
        w.u8(MUTATION_KINDS.indexOf(m.kind));
        w.bytes(m.key);
        optional(w, m.value);
      }
      break;
    case 'commit':
      w.ts(c.startTs);
      w.ts(c.commitTs);
      keyList(w, c.keys);
      break;
    case 'rollback':
      w.ts(c.startTs);
      keyList(w, c.keys);
      break;
    case 'checkTxnStatus':
      w.bytes(c.primary);
      w.ts(c.startTs);
      w.ts(c.currentTs);
      break;
    case 'heartbeat':
      w.bytes(c.primary);
      w.ts(c.startTs);
      w.u32(c.ttlMs);
      break;
    case 'resolveLock':
      w.ts(c.startTs);
      w.ts(c.commitTs);
      keyList(w, c.keys);
      break;
    case 'gc':
      w.ts(c.safePoint);
      break;
  }
}

export function decodeTxnCommand(buf: Uint8Array, malformed: Malformed): TxnCommand {
  const r = new ByteReader(buf, malformed);
  const cmd = readCommand(r, malformed);
  r.end();
  return cmd;
}

function readCommand(r: ByteReader, malformed: Malformed): TxnCommand {
  const kind = pick(COMMANDS, r.u8(), 'command', malformed);
  switch (kind) {
    case 'kvWrite': {
      const op = pick(KV_OPS, r.u8(), 'kv op', malformed);
      return { kind, op, key: r.bytes(), value: readOptional(r), expect: readOptional(r), ts: r.ts(), floor: r.ts() };
    }
    case 'prewrite': {
      const startTs = r.ts();
      const primary = r.bytes();
      const ttlMs = r.u32();
      const onePc = r.u8() === 1;
      const floor = r.ts();
      const n = r.u32();
      if (n * 6 > r.remaining) throw malformed(`${n} mutations exceed the frame`);
      const mutations: Mutation[] = [];
      for (let i = 0; i < n; i++) mutations.push({ kind: pick(MUTATION_KINDS, r.u8(), 'mutation kind', malformed), key: r.bytes(), value: readOptional(r) });
      return { kind, startTs, primary, ttlMs, onePc, floor, mutations };
    }
    case 'commit':
      return { kind, startTs: r.ts(), commitTs: r.ts(), keys: readKeyList(r, malformed) };
    case 'rollback':
      return { kind, startTs: r.ts(), keys: readKeyList(r, malformed) };
    case 'checkTxnStatus':
      return { kind, primary: r.bytes(), startTs: r.ts(), currentTs: r.ts() };
    case 'heartbeat':
      return { kind, primary: r.bytes(), startTs: r.ts(), ttlMs: r.u32() };
    case 'resolveLock':
      return { kind, startTs: r.ts(), commitTs: r.ts(), keys: readKeyList(r, malformed) };
    case 'gc':
      return { kind, safePoint: r.ts() };
  }
}

export function encodeTxnResult(res: TxnResult): Uint8Array {
  const w = new ByteWriter(32);
  writeResult(w, res);
  return w.finish().slice();
}

export function writeResult(w: ByteWriter, res: TxnResult): void {
  w.u8(RESULTS.indexOf(res.kind));
  switch (res.kind) {
    case 'ok':
      w.u8(res.deleted ? 1 : 0);
      optional(w, res.current);
      w.ts(res.commitTs);
      break;
    case 'casFailed':
      optional(w, res.current);
      break;
    case 'locked':
      w.u32(res.locks.length);
      for (const l of res.locks) writeLock(w, l);
      break;
    case 'conflict':
      w.bytes(res.key);
      w.ts(res.conflictTs);
      break;
    case 'tsTooOld':
      w.ts(res.maxTs);
      break;
    case 'rolledBack':
      break;
    case 'committed':
      w.ts(res.commitTs);
      break;
    case 'alive':
      w.u32(res.ttlMs);
      break;
  }
}

export function decodeTxnResult(buf: Uint8Array, malformed: Malformed): TxnResult {
  const r = new ByteReader(buf, malformed);
  const res = readResult(r, malformed);
  r.end();
  return res;
}

export function readResult(r: ByteReader, malformed: Malformed): TxnResult {
  const kind = pick(RESULTS, r.u8(), 'result', malformed);
  switch (kind) {
    case 'ok':
      return { kind, deleted: r.u8() === 1, current: readOptional(r), commitTs: r.ts() };
    case 'casFailed':
      return { kind, current: readOptional(r) };
    case 'locked': {
      const n = r.u32();
      if (n * 8 > r.remaining) throw malformed(`${n} locks exceed the frame`);
      const locks: KeyLock[] = [];
      for (let i = 0; i < n; i++) locks.push(readLock(r, malformed));
      return { kind, locks };
    }
    case 'conflict':
      return { kind, key: r.bytes(), conflictTs: r.ts() };
    case 'tsTooOld':
      return { kind, maxTs: r.ts() };
    case 'rolledBack':
      return { kind };
    case 'committed':
      return { kind, commitTs: r.ts() };
    case 'alive':
      return { kind, ttlMs: r.u32() };
  }
}
