/**
 * The MVCC records of one user key, in binary (layout in src/storage/keys.ts):
 *
 *   metadata (one per key)  := flags:u8 maxTs:u64 [version] [lock]
 *   version                 := commitTs:u64 startTs:u64 kind:u8 inline:u8 [value:bytes]
 *   lock                    := primary:bytes startTs:u64 ttlMs:u32 kind:u8 inline:u8 [value:bytes]
 *   write record (per ts)   := kind:u8 startTs:u64 inline:u8 [value:bytes]
 *
 * A value up to INLINE_VALUE_BYTES travels inside the lock and the write
 * record; a longer one is written once to the data column at (key, startTs)
 * and the records point at it. The metadata's version (the key's newest) is
 * written without the value, so each write stores its value once: a get of
 * the newest value reads the metadata (usually cached) and that version's
 * write record. (A version with a value inline is still read as such.)
 *
 * `maxTs` is the highest timestamp of any write record of the key, rollbacks
 * included: a prewrite at or below it conflicts (Percolator §2.2, and a late
 * prewrite after its own rollback fails), and a single-key write must commit
 * above it.
 */
import { ByteReader, ByteWriter } from '../../common/index.js';
import type { Timestamp } from '../../common/index.js';
import { StorageCorruption } from '../../storage/index.js';

export const INLINE_VALUE_BYTES = 256;

export type MutationKind = 'put' | 'delete';
export type WriteKind = MutationKind | 'rollback';

/** A committed put or delete. A put's value is inline, or undefined when it lives in the data column. */
export interface Version {
  readonly commitTs: Timestamp;
  readonly startTs: Timestamp;
  readonly kind: MutationKind;
  readonly value: Uint8Array | undefined;
}

/** A prewritten, not yet resolved mutation (Percolator §2.2 "lock" column). */
export interface Lock {
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly ttlMs: number;
  readonly kind: MutationKind;
  readonly value: Uint8Array | undefined;
}

export interface KeyMeta {
  readonly maxTs: Timestamp;
  readonly latest: Version | undefined;
  readonly lock: Lock | undefined;
}

export interface WriteRecord {
  readonly kind: WriteKind;
  readonly startTs: Timestamp;
  readonly value: Uint8Array | undefined;
}

const KINDS: readonly WriteKind[] = ['put', 'delete', 'rollback'];
const HAS_LATEST = 1;
const HAS_LOCK = 2;

const corrupt = (what: string) => (why: string) => new StorageCorruption(what, new Uint8Array(0), why);

function kindOf(r: ByteReader, allowRollback: boolean): WriteKind {
  const k = KINDS[r.u8()];
  if (k === undefined || (k === 'rollback' && !allowRollback)) throw corrupt('mvcc record')('unknown kind');
  return k;
}

function writeValue(w: ByteWriter, value: Uint8Array | undefined): void {
  w.u8(value ? 1 : 0);
  if (value) w.bytes(value);
}

const readValue = (r: ByteReader): Uint8Array | undefined => (r.u8() === 1 ? r.bytes() : undefined);

/** The inline form of a value: itself when short, undefined when it belongs in the data column. */
export const inlineValue = (value: Uint8Array): Uint8Array | undefined => (value.byteLength <= INLINE_VALUE_BYTES ? value : undefined);

const valueBytes = (v: Uint8Array | undefined): number => (v ? 5 + v.byteLength : 1);

export function encodeMeta(m: KeyMeta): Uint8Array {
  const size = 9 + (m.latest ? 17 + valueBytes(m.latest.value) : 0) + (m.lock ? 4 + m.lock.primary.byteLength + 13 + valueBytes(m.lock.value) : 0);
  const w = new ByteWriter(size);
  w.u8((m.latest ? HAS_LATEST : 0) | (m.lock ? HAS_LOCK : 0));
  w.ts(m.maxTs);
  if (m.latest) {
    w.ts(m.latest.commitTs);
    w.ts(m.latest.startTs);
    w.u8(KINDS.indexOf(m.latest.kind));
    writeValue(w, m.latest.value);
  }
  if (m.lock) {
    w.bytes(m.lock.primary);
    w.ts(m.lock.startTs);
    w.u32(m.lock.ttlMs);
    w.u8(KINDS.indexOf(m.lock.kind));
    writeValue(w, m.lock.value);
  }
  return w.take();
}

export function decodeMeta(buf: Uint8Array): KeyMeta {
  const r = new ByteReader(buf, corrupt('key metadata'));
  const flags = r.u8();
  const maxTs = r.ts();
  let latest: Version | undefined;
  let lock: Lock | undefined;
  if (flags & HAS_LATEST) {
    const commitTs = r.ts();
    const startTs = r.ts();
    latest = { commitTs, startTs, kind: kindOf(r, false) as MutationKind, value: readValue(r) };
  }
  if (flags & HAS_LOCK) {
    const primary = r.bytes();
    const startTs = r.ts();
    const ttlMs = r.u32();
    lock = { primary, startTs, ttlMs, kind: kindOf(r, false) as MutationKind, value: readValue(r) };
  }
  r.end();
  return { maxTs, latest, lock };
}

export function encodeWrite(rec: WriteRecord): Uint8Array {
  const w = new ByteWriter(9 + valueBytes(rec.value));
  w.u8(KINDS.indexOf(rec.kind));
  w.ts(rec.startTs);
  writeValue(w, rec.value);
  return w.take();
}

export function decodeWrite(buf: Uint8Array): WriteRecord {
  const r = new ByteReader(buf, corrupt('write record'));
  const kind = kindOf(r, true);
  const startTs = r.ts();
  const value = readValue(r);
  r.end();
  return { kind, startTs, value };
}
