/**
 * Binary encodings of the Raft state kept on disk. Every value is framed as
 *
 *   crc32c:u32  version:u8  payload
 *
 * with the checksum over version and payload, so a flipped bit, a torn write
 * or a value from an unknown format is detected on read (StorageCorruption
 * naming the key), never silently used. Integers are big-endian u64 (indices
 * and terms stay below 2^53). No JSON: entries are on the hot path, and an
 * entry's data is copied once when encoding and once when decoding.
 */
import { ByteReader, ByteWriter } from '../common/index.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../raft/index.js';
import { crc32c } from './crc32c.js';
import { StorageCorruption } from './errors.js';
import { describeKey } from './keys.js';

const FORMAT_VERSION = 1;
const CRC_BYTES = 4;
const HEADER_BYTES = CRC_BYTES + 1;

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf'];

/** A writer sized exactly for the frame, so finish() returns the whole buffer without a copy. */
function frameWriter(payloadBytes: number): ByteWriter {
  const w = new ByteWriter(HEADER_BYTES + payloadBytes);
  w.u32(0); // the checksum, filled in by seal
  w.u8(FORMAT_VERSION);
  return w;
}

function seal(w: ByteWriter): Uint8Array {
  const out = w.finish();
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, crc32c(out, CRC_BYTES));
  return out;
}

/**
 * Checks the frame and returns a reader over its payload. `key` names the
 * value in errors; `what` stands in when the caller has no key at hand.
 */
function openFrame(value: Uint8Array, key: Uint8Array | undefined, what: string): ByteReader {
  // Described lazily: decoding is hot, corruption is rare.
  const corrupt = (why: string) => new StorageCorruption(key ? describeKey(key) : what, key, why);
  if (value.byteLength < HEADER_BYTES) throw corrupt(`truncated: ${value.byteLength} bytes`);
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  if (crc32c(value, CRC_BYTES) !== stored) throw corrupt('checksum mismatch');
  // After the checksum, so a damaged version byte reads as damage, not as a newer format.
  if (value[CRC_BYTES] !== FORMAT_VERSION) throw corrupt(`unknown format version ${value[CRC_BYTES]}`);
  // A plain Uint8Array view: slices of a Buffer (what LevelDB hands out) would be Buffers.
  return new ByteReader(new Uint8Array(value.buffer, value.byteOffset + HEADER_BYTES, value.byteLength - HEADER_BYTES), corrupt);
}

// ---- Entry: term:u64 index:u64 type:u8 data:bytes ----------------------------------

export function encodeEntry(e: Entry): Uint8Array {
  const w = frameWriter(8 + 8 + 1 + 4 + e.data.byteLength);
  w.u64(e.term);
  w.u64(e.index);
  w.u8(ENTRY_TYPES.indexOf(e.type));
  w.bytes(e.data);
  return seal(w);
}

export function decodeEntry(value: Uint8Array, key?: Uint8Array): Entry {
  const r = openFrame(value, key, 'log entry');
  const term = r.u64();
  const index = r.u64();
  const typeCode = r.u8();
  const type = ENTRY_TYPES[typeCode];
  // A copy: the entry lives in the cache and must not pin the buffer it was read into.
  const data = r.bytes();
  r.end();
  if (type === undefined) throw new StorageCorruption(key ? describeKey(key) : 'log entry', key, `entry type ${typeCode}`);
  return { term, index, type, data };
}

// ---- HardState: term:u64 vote:u64 commit:u64 --------------------------------------

export function encodeHardState(hs: HardState): Uint8Array {
  const w = frameWriter(24);
  w.u64(hs.term);
  w.u64(hs.vote);
  w.u64(hs.commit);
  return seal(w);
}

export function decodeHardState(value: Uint8Array, key?: Uint8Array): HardState {
  const r = openFrame(value, key, 'hard state');
  const hs = { term: r.u64(), vote: r.u64(), commit: r.u64() };
  r.end();
  return hs;
}

// ---- SnapshotMeta: index:u64 term:u64 voters:ids learners:ids, ids = n:u32 id:u64* --

export function encodeSnapshotMeta(m: SnapshotMeta): Uint8Array {
  const { voters, learners } = m.conf;
  const w = frameWriter(16 + 4 + 8 * voters.length + 4 + 8 * learners.length);
  w.u64(m.index);
  w.u64(m.term);
  writeIds(w, voters);
  writeIds(w, learners);
  return seal(w);
}

export function decodeSnapshotMeta(value: Uint8Array, key?: Uint8Array): SnapshotMeta {
  const corrupt = (why: string) => new StorageCorruption(key ? describeKey(key) : 'snapshot metadata', key, why);
  const r = openFrame(value, key, 'snapshot metadata');
  const index = r.u64();
  const term = r.u64();
  const voters = readIds(r, corrupt);
  const learners = readIds(r, corrupt);
  r.end();
  // ConfState's invariant: both sorted ascending, and disjoint.
  const isVoter = new Set(voters);
  if (learners.some((id) => isVoter.has(id))) throw corrupt('a node is both voter and learner');
  const conf: ConfState = { voters, learners };
  return { index, term, conf };
}

function writeIds(w: ByteWriter, ids: readonly number[]): void {
  w.u32(ids.length);
  for (const id of ids) w.u64(id);
}

function readIds(r: ByteReader, corrupt: (why: string) => Error): number[] {
  const n = r.u32();
  if (n * 8 > r.remaining) throw corrupt(`${n} node ids in ${r.remaining} bytes`);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = r.u64();
    if (i > 0 && id <= ids[i - 1]) throw corrupt('node ids not ascending');
    ids.push(id);
  }
  return ids;
}

// ---- ApplyState: applied:u64 ----------------------------------------------------

export function encodeApplyState(applied: number): Uint8Array {
  const w = frameWriter(8);
  w.u64(applied);
  return seal(w);
}

export function decodeApplyState(value: Uint8Array, key?: Uint8Array): number {
  const r = openFrame(value, key, 'apply state');
  const applied = r.u64();
  r.end();
  return applied;
}
