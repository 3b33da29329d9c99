/**
 * The whole on-disk keyspace of a store, in one place (after TiKV's
 * components/keys and CockroachDB's pkg/keys). One LevelDB holds the Raft state
 * of thousands of groups and the data of every range, under disjoint prefixes:
 *
 *   0x00 0x01                         store ident: the id of the store this data belongs to
 *   0x01 group:u64 0x01               Raft hard state (term, vote, commit)
 *   0x01 group:u64 0x02 index:u64     Raft log entry
 *   0x01 group:u64 0x03               snapshot metadata (index, term, membership; never the data)
 *   0x01 group:u64 0x04               apply state (applied index; written in the batch that applies)
 *   0x01 group:u64 0x05               range descriptor
 *   0x01 group:u64 0x06 gen:u32 requestId  result of an applied write (exactly-once retries)
 *   0x02 mc(userKey) ~startTs:u64     MVCC data: a long value written by the transaction started at startTs
 *   0x03 mc(userKey)                  key metadata: the Percolator lock (Percolator §2.2) and the newest
 *                                     committed version, as CockroachDB keeps intents in MVCCMetadata
 *   0x04 mc(userKey) ~commitTs:u64    Percolator write column: every version and rollback record
 *
 * Integers are big-endian so keys sort numerically and one group's keys are
 * contiguous and ordered (its log by index). mc() is a memcomparable escape
 * encoding: each 0x00 byte becomes 0x00 0xff and the key ends with 0x00 0x01,
 * so encoded keys sort exactly like the raw bytes (a prefix sorts before its
 * extensions) and no encoded key is a prefix of another's; a timestamp can
 * therefore follow it without disturbing the order of user keys. Timestamps
 * are stored bit-inverted so, within one user key, the newest version sorts
 * first (a reader at ts seeks to mc(key) ~ts and takes the first version).
 *
 * Not ideal: rangeDescriptorScan walks every Raft key of the store (logs
 * included) to find the descriptors; a descriptor sub-prefix would make the
 * startup scan proportional to the number of ranges.
 */
import { putU64 } from '../common/index.js';
import { StorageCorruption } from './errors.js';

export const LOCAL_PREFIX = 0x00;
export const RAFT_PREFIX = 0x01;

/** The store's identity, written when its data directory is first used (TiKV's StoreIdent). */
export const storeIdentKey = (): Uint8Array => Uint8Array.of(LOCAL_PREFIX, 0x01);
export const DATA_PREFIX = 0x02;
export const META_PREFIX = 0x03;
export const WRITE_PREFIX = 0x04;

const HARD_STATE = 0x01;
const LOG_ENTRY = 0x02;
const SNAPSHOT_META = 0x03;
const APPLY_STATE = 0x04;
const RANGE_DESCRIPTOR = 0x05;
const DEDUP = 0x06;

/** prefix + group:u64 + suffix byte. */
const GROUP_KEY_BYTES = 10;
const LOG_KEY_BYTES = GROUP_KEY_BYTES + 8;
const TS_BYTES = 8;
const U64_MASK = 0xffff_ffff_ffff_ffffn;

export interface KeyBounds {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
}

function writeU64(buf: Uint8Array, at: number, n: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

function readU64(buf: Uint8Array, at: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

function groupKey(group: number, suffix: number, extra = 0): Uint8Array {
  const key = new Uint8Array(GROUP_KEY_BYTES + extra);
  key[0] = RAFT_PREFIX;
  writeU64(key, 1, group);
  key[9] = suffix;
  return key;
}

// ---- per-group Raft and range state ------------------------------------------

export const raftHardStateKey = (group: number): Uint8Array => groupKey(group, HARD_STATE);
export const snapshotMetaKey = (group: number): Uint8Array => groupKey(group, SNAPSHOT_META);
export const applyStateKey = (group: number): Uint8Array => groupKey(group, APPLY_STATE);
export const rangeDescriptorKey = (group: number): Uint8Array => groupKey(group, RANGE_DESCRIPTOR);

export function raftLogKey(group: number, index: number): Uint8Array {
  const key = groupKey(group, LOG_ENTRY, 8);
  writeU64(key, GROUP_KEY_BYTES, index);
  return key;
}

/** The index in a log entry key; any other key is corruption. */
export function raftLogIndex(key: Uint8Array): number {
  if (key.length !== LOG_KEY_BYTES || key[0] !== RAFT_PREFIX || key[9] !== LOG_ENTRY) throw badKey(key, 'not a log entry key');
  return readU64(key, GROUP_KEY_BYTES);
}

/** [gte, lt) of one group's log entries with index >= fromIndex. */
export function raftLogBounds(group: number, fromIndex = 0): KeyBounds {
  return { gte: raftLogKey(group, fromIndex), lt: groupKey(group, LOG_ENTRY + 1) };
}

/** [gte, lt) of everything a group owns under the Raft prefix (to destroy a replica). */
export function raftGroupBounds(group: number): KeyBounds {
  const lt = new Uint8Array(9);
  lt[0] = RAFT_PREFIX;
  writeU64(lt, 1, group + 1);
  return { gte: groupKey(group, 0), lt };
}

/**
 * Where the result of the write with `requestId` is kept, in the range's own
 * keyspace, in generation `generation`: records are dropped a generation at a
 * time (see Replica), so the table stays bounded.
 *   group DEDUP generation:u32 requestId
 */
export function dedupKey(group: number, generation: number, requestId: Uint8Array): Uint8Array {
  const key = groupKey(group, DEDUP, 4 + requestId.byteLength);
  new DataView(key.buffer).setUint32(GROUP_KEY_BYTES, generation);
  key.set(requestId, GROUP_KEY_BYTES + 4);
  return key;
}

/** The record holding a group's current dedup generation (inside dedupBounds, so it travels with snapshots). */
export const dedupGenerationKey = (group: number): Uint8Array => dedupKey(group, 0xffff_ffff, new Uint8Array(0));

/** [gte, lt) of the records of generations [from, to). */
export function dedupGenerationBounds(group: number, from: number, to: number): KeyBounds {
  return { gte: dedupKey(group, from, new Uint8Array(0)), lt: dedupKey(group, to, new Uint8Array(0)) };
}

/** A dedup record's key (or the generation record) moved to another group: same generation and request id. */
export function dedupKeyForGroup(key: Uint8Array, group: number): Uint8Array {
  const out = groupKey(group, DEDUP, key.byteLength - GROUP_KEY_BYTES);
  out.set(key.subarray(GROUP_KEY_BYTES), GROUP_KEY_BYTES);
  return out;
}

/** [gte, lt) of every exactly-once record of a group (they travel in its snapshots). */
export function dedupBounds(group: number): KeyBounds {
  return { gte: groupKey(group, DEDUP), lt: groupKey(group, DEDUP + 1) };
}

/** Bounds of every range descriptor on the store, for loading them at start (see the header). */
export function rangeDescriptorScan(): KeyBounds {
  return { gte: Uint8Array.of(RAFT_PREFIX), lt: Uint8Array.of(RAFT_PREFIX + 1) };
}

export function isRangeDescriptorKey(key: Uint8Array): boolean {
  return key.length === GROUP_KEY_BYTES && key[0] === RAFT_PREFIX && key[9] === RANGE_DESCRIPTOR;
}

/** The group of a key under the Raft prefix. */
export function groupOf(key: Uint8Array): number {
  return readU64(key, 1);
}

// ---- user data: memcomparable keys with timestamps -------------------------------

/**
 * The memcomparable encoding of a user key after a one-byte `prefix`, with
 * `extra` spare bytes at the end (for a timestamp); `end` is where they start.
 */
export function encodeUserKey(userKey: Uint8Array, prefix: number, extra = 0): { buf: Uint8Array; end: number } {
  let zeros = 0;
  for (let i = 0; i < userKey.length; i++) if (userKey[i] === 0) zeros++;
  const buf = new Uint8Array(1 + userKey.length + zeros + 2 + extra);
  buf[0] = prefix;
  let at = 1;
  for (let i = 0; i < userKey.length; i++) {
    buf[at++] = userKey[i];
    if (userKey[i] === 0) buf[at++] = 0xff;
  }
  buf[at++] = 0x00;
  buf[at++] = 0x01;
  return { buf, end: at };
}

/** Decodes a memcomparable user key starting at `from`; returns it and where its encoding ended. */
export function decodeUserKey(buf: Uint8Array, from = 1): { key: Uint8Array; end: number } {
  // First pass finds the terminator and the length, so the key is allocated once.
  let len = 0;
  let i = from;
  for (;;) {
    if (i >= buf.length) throw badKey(buf, 'unterminated user key');
    if (buf[i] !== 0) {
      len++;
      i++;
      continue;
    }
    const next = buf[i + 1];
    if (next === 0x01) break;
    if (next !== 0xff) throw badKey(buf, `bad escape 0x00 0x${next?.toString(16) ?? '(end)'} at byte ${i}`);
    len++;
    i += 2;
  }
  const key = new Uint8Array(len);
  for (let j = from, k = 0; k < len; j++, k++) {
    key[k] = buf[j];
    if (buf[j] === 0) j++;
  }
  return { key, end: i + 2 };
}

function withTimestamp(prefix: number, userKey: Uint8Array, ts: bigint): Uint8Array {
  if (ts < 0n || ts > U64_MASK) throw new RangeError(`timestamp ${ts} outside u64`);
  const { buf, end } = encodeUserKey(userKey, prefix, TS_BYTES);
  putU64(buf, end, ~ts & U64_MASK);
  return buf;
}

export const dataKey = (userKey: Uint8Array, ts: bigint): Uint8Array => withTimestamp(DATA_PREFIX, userKey, ts);
export const writeKey = (userKey: Uint8Array, commitTs: bigint): Uint8Array => withTimestamp(WRITE_PREFIX, userKey, commitTs);
export const metaKey = (userKey: Uint8Array): Uint8Array => encodeUserKey(userKey, META_PREFIX).buf;

/** The user key of a metadata key. */
export const userKeyOfMeta = (buf: Uint8Array): Uint8Array => decodeUserKey(buf, 1).key;

/** Splits a data or write key into its user key and timestamp; a malformed key is corruption. */
export function decodeVersionedKey(buf: Uint8Array): { userKey: Uint8Array; ts: bigint } {
  if (buf[0] !== DATA_PREFIX && buf[0] !== WRITE_PREFIX) throw badKey(buf, `prefix 0x${buf[0]?.toString(16)} is not versioned`);
  const { key, end } = decodeUserKey(buf, 1);
  if (buf.length - end !== TS_BYTES) throw badKey(buf, `${buf.length - end} timestamp bytes`);
  const ts = ~new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(end) & U64_MASK;
  return { userKey: key, ts };
}

/** [gte, lt) of the keys of one column for user keys in [start, end) (an empty end = unbounded). */
function columnBounds(prefix: number, start: Uint8Array, end: Uint8Array): KeyBounds {
  // Without its terminator, mc(k) sorts below every mc(k') [ts] with k' >= k and above every one with k' < k.
  const gte = encodeUserKey(start, prefix).buf.subarray(0, -2);
  const lt = end.length === 0 ? Uint8Array.of(prefix + 1) : encodeUserKey(end, prefix).buf.subarray(0, -2);
  return { gte, lt };
}

export const dataBounds = (start: Uint8Array, end: Uint8Array): KeyBounds => columnBounds(DATA_PREFIX, start, end);
export const metaBounds = (start: Uint8Array, end: Uint8Array): KeyBounds => columnBounds(META_PREFIX, start, end);
export const writeBounds = (start: Uint8Array, end: Uint8Array): KeyBounds => columnBounds(WRITE_PREFIX, start, end);

/** [gte, lt) of one user key's write records with commitTs <= ts, newest first. */
export function writesAtOrBelow(userKey: Uint8Array, ts: bigint): KeyBounds {
  const { buf, end } = encodeUserKey(userKey, WRITE_PREFIX);
  // mc(k) ends in 0x00 0x01: with 0x02 instead it sorts right after every timestamp of k.
  const lt = buf.slice(0, end);
  lt[end - 1] = 0x02;
  return { gte: writeKey(userKey, ts), lt };
}

// ---- naming keys in errors ----------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const GROUP_SLOTS: Record<number, string> = {
  [HARD_STATE]: 'hard state',
  [SNAPSHOT_META]: 'snapshot metadata',
  [APPLY_STATE]: 'apply state',
  [RANGE_DESCRIPTOR]: 'range descriptor',
};

/** A key in words, for error messages: "log entry 7 of group 3". */
export function describeKey(key: Uint8Array): string {
  if (key[0] === RAFT_PREFIX && key.length >= GROUP_KEY_BYTES) {
    const group = groupOf(key);
    if (key.length === GROUP_KEY_BYTES && GROUP_SLOTS[key[9]]) return `${GROUP_SLOTS[key[9]]} of group ${group}`;
    if (key.length === LOG_KEY_BYTES && key[9] === LOG_ENTRY) return `log entry ${raftLogIndex(key)} of group ${group}`;
    if (key[9] === DEDUP) return `write result ${hex(key.subarray(GROUP_KEY_BYTES))} of group ${group}`;
  }
  const column = { [DATA_PREFIX]: 'data', [META_PREFIX]: 'metadata', [WRITE_PREFIX]: 'write' }[key[0]];
  return column ? `${column} key ${hex(key)}` : `key ${hex(key)}`;
}

function badKey(key: Uint8Array, detail: string): StorageCorruption {
  return new StorageCorruption(describeKey(key), key, detail);
}
