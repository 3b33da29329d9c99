/**
 * Write commands as they travel through a range's Raft log, in binary. Every
 * replica applies the same bytes to the same state and so computes the same
 * result (a cas that fails is a result, not an error).
 *
 *   command := op:u8 flags:u8 requestId:bytes key:bytes [value:bytes] [expect:bytes]
 *   flags   := 1 hasValue | 2 hasExpect | 4 retry (check the dedup table)
 *   split   := 3:u8 requestId:bytes splitKey:bytes newRangeId:u64 version:u64 confVer:u64
 *   rotate  := 4:u8 (start a new generation of exactly-once records, drop the one before the last)
 */
import { ByteReader, ByteWriter, DbError } from '../common/index.js';

export type WriteOp = 'put' | 'delete' | 'cas';
const OPS: readonly WriteOp[] = ['put', 'delete', 'cas'];

export interface WriteCommand {
  readonly op: WriteOp;
  readonly requestId: string;
  readonly key: Uint8Array;
  /** put: the value; cas: the new value, or undefined to delete. */
  readonly value: Uint8Array | undefined;
  /** cas: the expected current value, or undefined for "absent". */
  readonly expect: Uint8Array | undefined;
  /** A client retry: look the request id up before applying. */
  readonly retry: boolean;
}

/** Splits the range at `splitKey` if it is still at epoch (version, confVer); the right half becomes range `newRangeId`. */
export interface SplitCommand {
  readonly requestId: string;
  readonly splitKey: Uint8Array;
  readonly newRangeId: number;
  readonly version: number;
  readonly confVer: number;
}

const SPLIT_OP = 3;
const ROTATE_OP = 4;

/** The rotate command: the same bytes every time. */
export const ROTATE_DEDUP = Uint8Array.of(ROTATE_OP);

/** The outcome every replica computes for a command. */
export interface WriteResult {
  readonly ok: boolean;
  /** The key (or split) no longer belongs to this range: nothing was applied; the client re-routes. */
  readonly stale?: boolean;
  /** delete: whether the key existed. */
  readonly deleted: boolean;
  /** cas failure: the current value (undefined = absent). */
  readonly current: Uint8Array | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(c: WriteCommand): Uint8Array {
  const w = new ByteWriter(32 + c.key.byteLength + (c.value?.byteLength ?? 0) + (c.expect?.byteLength ?? 0));
  w.u8(OPS.indexOf(c.op));
  w.u8((c.value ? 1 : 0) | (c.expect ? 2 : 0) | (c.retry ? 4 : 0));
  w.bytes(encoder.encode(c.requestId));
  w.bytes(c.key);
  if (c.value) w.bytes(c.value);
  if (c.expect) w.bytes(c.expect);
  return w.finish().slice();
}

export function encodeSplit(c: SplitCommand): Uint8Array {
  const w = new ByteWriter(64 + c.splitKey.byteLength);
  w.u8(SPLIT_OP);
  w.bytes(encoder.encode(c.requestId));
  w.bytes(c.splitKey);
  w.u64(c.newRangeId);
  w.u64(c.version);
  w.u64(c.confVer);
  return w.finish().slice();
}

const corrupt = (why: string) => new DbError('CORRUPT_COMMAND', `bad command in log: ${why}`);

/** A log entry's command: a client write or a split. */
export function decodeEntry(data: Uint8Array): { kind: 'write'; cmd: WriteCommand } | { kind: 'split'; split: SplitCommand } | { kind: 'rotate' } {
  if (data[0] === ROTATE_OP && data.byteLength === 1) return { kind: 'rotate' };
  if (data[0] !== SPLIT_OP) return { kind: 'write', cmd: decodeCommand(data) };
  const r = new ByteReader(data, corrupt);
  r.u8();
  const split = { requestId: decoder.decode(r.bytes()), splitKey: r.bytes(), newRangeId: r.u64(), version: r.u64(), confVer: r.u64() };
  r.end();
  return { kind: 'split', split };
}

export function decodeCommand(data: Uint8Array): WriteCommand {
  const r = new ByteReader(data, corrupt);
  const op = OPS[r.u8()];
  if (!op) throw new DbError('CORRUPT_COMMAND', 'unknown command op');
  const flags = r.u8();
  const requestId = decoder.decode(r.bytes());
  const key = r.bytes();
  const value = flags & 1 ? r.bytes() : undefined;
  const expect = flags & 2 ? r.bytes() : undefined;
  r.end();
  return { op, requestId, key, value, expect, retry: (flags & 4) !== 0 };
}

/** Results stored for deduplication: ok:u8 deleted:u8 hasCurrent:u8 [current:bytes]. */
export function encodeResult(res: WriteResult): Uint8Array {
  const w = new ByteWriter(16 + (res.current?.byteLength ?? 0));
  w.u8(res.ok ? 1 : 0);
  w.u8(res.deleted ? 1 : 0);
  w.u8(res.current ? 1 : 0);
  if (res.current) w.bytes(res.current);
  return w.finish().slice();
}

export function decodeResult(data: Uint8Array): WriteResult {
  const r = new ByteReader(data, (why) => new DbError('CORRUPT_RESULT', `bad dedup record: ${why}`));
  const ok = r.u8() === 1;
  const deleted = r.u8() === 1;
  const current = r.u8() === 1 ? r.bytes() : undefined;
  return { ok, deleted, current };
}
