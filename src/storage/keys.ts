/**
 * The whole on-disk keyspace of a store, in one place (after TiKV's
 * components/keys and CockroachDB's pkg/keys). One LevelDB holds the Raft state
 * of every group and the data of every range, under disjoint prefixes:
 *
 *   0x01 group:u64 0x01               Raft hard state (term, vote, commit)
 *   0x01 group:u64 0x02 index:u64     Raft log entry
 *   0x01 group:u64 0x03               snapshot metadata (index, term, membership)
 *   0x01 group:u64 0x04               apply state (applied index; written with the data it applied)
 *   0x01 group:u64 0x05               range descriptor
 *   0x01 group:u64 0x06 requestId     result of an applied write (exactly-once retries)
 *   0x02 mc(userKey) ~ts:u64          MVCC data: a value version at timestamp ts
 *   0x03 mc(userKey)                  Percolator lock column
 *   0x04 mc(userKey) ~commitTs:u64    Percolator write column
 *
 * Integers are big-endian so keys sort numerically; a group's keys are
 * contiguous. mc() is a memcomparable escape encoding (0x00 -> 0x00 0xff,
 * terminated by 0x00 0x01) so encoded keys sort like the raw bytes and no key
 * is a prefix of another's encoding. Timestamps are stored bit-inverted so the
 * newest version of a key sorts first.
 */

export const RAFT_PREFIX = 0x01;
export const DATA_PREFIX = 0x02;
export const LOCK_PREFIX = 0x03;
export const WRITE_PREFIX = 0x04;

const HARD_STATE = 0x01;
const LOG_ENTRY = 0x02;
const SNAPSHOT_META = 0x03;
const APPLY_STATE = 0x04;
const RANGE_DESCRIPTOR = 0x05;
const DEDUP = 0x06;

function writeU64(buf: Uint8Array, at: number, n: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

export function readU64(buf: Uint8Array, at: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

function groupKey(group: number, suffix: number, extra = 0): Uint8Array {
  const key = new Uint8Array(10 + extra);
  key[0] = RAFT_PREFIX;
  writeU64(key, 1, group);
  key[9] = suffix;
  return key;
}

export const raftHardStateKey = (group: number): Uint8Array => groupKey(group, HARD_STATE);
export const snapshotMetaKey = (group: number): Uint8Array => groupKey(group, SNAPSHOT_META);
export const applyStateKey = (group: number): Uint8Array => groupKey(group, APPLY_STATE);
export const rangeDescriptorKey = (group: number): Uint8Array => groupKey(group, RANGE_DESCRIPTOR);

/** Where the result of the write with `requestId` is kept, in the range's own keyspace. */
export function dedupKey(group: number, requestId: Uint8Array): Uint8Array {
  const key = groupKey(group, DEDUP, requestId.byteLength);
  key.set(requestId, 10);
  return key;
}

/** Bounds of every range descriptor on the store, for loading them at start. */
export function rangeDescriptorScan(): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(RAFT_PREFIX), lt: Uint8Array.of(RAFT_PREFIX + 1) };
}

export function isRangeDescriptorKey(key: Uint8Array): boolean {
  return key.length === 10 && key[0] === RAFT_PREFIX && key[9] === RANGE_DESCRIPTOR;
}

export function groupOf(key: Uint8Array): number {
  return readU64(key, 1);
}

/** [gte, lt) of the data keys of user keys in [start, end) (empty end = unbounded). */
export function dataBounds(start: Uint8Array, end: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: encodeUserKey(start, DATA_PREFIX).buf.subarray(0, -2), lt: end.length === 0 ? Uint8Array.of(DATA_PREFIX + 1) : encodeUserKey(end, DATA_PREFIX).buf.subarray(0, -2) };
}

export function raftLogKey(group: number, index: number): Uint8Array {
  const key = groupKey(group, LOG_ENTRY, 8);
  writeU64(key, 10, index);
  return key;
}

/** The index in a log entry key. */
export function raftLogIndex(key: Uint8Array): number {
  return readU64(key, 10);
}

/** [gte, lt) bounds of one group's log entries. */
export function raftLogBounds(group: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: raftLogKey(group, 0), lt: groupKey(group, LOG_ENTRY + 1) };
}

/** [gte, lt) bounds of everything a group owns in the Raft prefix. */
export function raftGroupBounds(group: number): { gte: Uint8Array; lt: Uint8Array } {
  const lt = new Uint8Array(9);
  lt[0] = RAFT_PREFIX;
  writeU64(lt, 1, group + 1);
  return { gte: groupKey(group, 0), lt };
}

/** Memcomparable encoding of a user key. */
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

/** Decodes a memcomparable user key starting after the prefix byte; returns it and where it ended. */
export function decodeUserKey(buf: Uint8Array, from = 1): { key: Uint8Array; end: number } {
  const out: number[] = [];
  let i = from;
  for (;;) {
    if (i >= buf.length) throw new RangeError('unterminated user key');
    const b = buf[i++];
    if (b !== 0) {
      out.push(b);
      continue;
    }
    const next = buf[i++];
    if (next === 0xff) out.push(0);
    else if (next === 0x01) return { key: Uint8Array.from(out), end: i };
    else throw new RangeError(`bad escape 0x${next?.toString(16)} in user key`);
  }
}

function withTimestamp(prefix: number, userKey: Uint8Array, ts: bigint): Uint8Array {
  const { buf, end } = encodeUserKey(userKey, prefix, 8);
  new DataView(buf.buffer).setBigUint64(end, ~ts & 0xffff_ffff_ffff_ffffn);
  return buf;
}

export const dataKey = (userKey: Uint8Array, ts: bigint): Uint8Array => withTimestamp(DATA_PREFIX, userKey, ts);
export const writeKey = (userKey: Uint8Array, commitTs: bigint): Uint8Array => withTimestamp(WRITE_PREFIX, userKey, commitTs);
export const lockKey = (userKey: Uint8Array): Uint8Array => encodeUserKey(userKey, LOCK_PREFIX).buf;

/** Splits a data or write key into its user key and timestamp. */
export function decodeVersionedKey(buf: Uint8Array): { userKey: Uint8Array; ts: bigint } {
  const { key, end } = decodeUserKey(buf, 1);
  const ts = ~new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(end) & 0xffff_ffff_ffff_ffffn;
  return { userKey: key, ts };
}
