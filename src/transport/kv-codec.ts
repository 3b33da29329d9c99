/**
 * The binary format of the KV stream between gateway and store: many
 * requests per frame one way, many responses per frame the other, matched by
 * a sequence number. Protobuf objects per request cost the gateway more than
 * the rest of its work together, so the hot path avoids them. Decoding
 * validates everything and throws WireError on malformed input.
 *
 *   requests  := version:u8 count:u32 request*
 *   request   := seq:u32 rangeId:u64 version:u64 confVer:u64 op:u8 flags:u8
 *                requestId:bytes key:bytes [value:bytes] [expect:bytes] end:bytes limit:u32
 *                ts:u64 payload:bytes
 *   responses := version:u8 count:u32 response*
 *   response  := seq:u32 error:u8 flags:u8 message:bytes leaderStore:u64 value:bytes
 *                ranges:u32 range* items:u32 (key:bytes value:bytes)* payload:bytes
 *   range     := id:u64 start:bytes end:bytes version:u64 confVer:u64 replicas:u32 (store:u64 replicaId:u64 learner:u8)*
 */
import { ByteReader, ByteWriter } from '../common/index.js';
import { WireError } from './raft-codec.js';
import type { KvErrorCode, WireKvRequest, WireKvResponse } from './wire-types.js';
import type { RangeDescriptor } from '../common/index.js';

const VERSION = 2;
const OPS = ['get', 'put', 'delete', 'cas', 'scan', 'leader', 'txn', 'gc'];
const ERRORS: readonly KvErrorCode[] = ['', 'NOT_LEADER', 'EPOCH_NOT_MATCH', 'KEY_NOT_IN_RANGE', 'RANGE_NOT_FOUND', 'CONFLICT', 'UNAVAILABLE', 'BAD_REQUEST', 'OUTCOME_UNKNOWN', 'KEY_LOCKED', 'TS_TOO_OLD'];
const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeRequests(reqs: readonly { seq: number; req: Partial<WireKvRequest> }[]): Uint8Array {
  const w = new ByteWriter(64 + reqs.length * 96);
  w.u8(VERSION);
  w.u32(reqs.length);
  for (const { seq, req } of reqs) {
    const op = OPS.indexOf(req.op ?? '');
    if (op < 0) throw new WireError(`unknown op "${req.op}"`);
    w.u32(seq);
    w.u64(req.rangeId ?? 0);
    w.u64(req.epoch?.version ?? 0);
    w.u64(req.epoch?.confVer ?? 0);
    w.u8(op);
    w.u8((req.hasValue ? 1 : 0) | (req.hasExpect ? 2 : 0) | (req.retry ? 4 : 0));
    w.bytes(enc.encode(req.requestId ?? ''));
    w.bytes(req.key ?? EMPTY);
    if (req.hasValue) w.bytes(req.value ?? EMPTY);
    if (req.hasExpect) w.bytes(req.expect ?? EMPTY);
    w.bytes(req.end ?? EMPTY);
    w.u32(req.limit ?? 0);
    w.ts(req.ts ?? 0n);
    w.bytes(req.payload ?? EMPTY);
  }
  return w.finish();
}

export function decodeRequests(buf: Uint8Array): { seq: number; req: WireKvRequest }[] {
  const r = new ByteReader(buf, (why) => new WireError(why));
  if (r.u8() !== VERSION) throw new WireError('unknown KV frame version');
  const count = r.u32();
  if (count * 58 > r.remaining) throw new WireError(`count ${count} exceeds frame size`);
  const out: { seq: number; req: WireKvRequest }[] = [];
  for (let i = 0; i < count; i++) {
    const seq = r.u32();
    const rangeId = r.u64();
    const epoch = { version: r.u64(), confVer: r.u64() };
    const op = OPS[r.u8()];
    if (op === undefined) throw new WireError('unknown op');
    const flags = r.u8();
    const requestId = dec.decode(r.bytes());
    const key = r.bytes();
    const hasValue = (flags & 1) !== 0;
    const hasExpect = (flags & 2) !== 0;
    const value = hasValue ? r.bytes() : EMPTY;
    const expect = hasExpect ? r.bytes() : EMPTY;
    const end = r.bytes();
    const limit = r.u32();
    const ts = r.ts();
    const payload = r.bytes();
    out.push({ seq, req: { requestId, rangeId, epoch, op, key, value, hasValue, expect, hasExpect, end, limit, retry: (flags & 4) !== 0, ts, payload } });
  }
  r.end();
  return out;
}

export function encodeResponses(resps: readonly { seq: number; res: WireKvResponse }[]): Uint8Array {
  const w = new ByteWriter(64 + resps.length * 48);
  w.u8(VERSION);
  w.u32(resps.length);
  for (const { seq, res } of resps) {
    w.u32(seq);
    w.u8(Math.max(0, ERRORS.indexOf(res.error)));
    w.u8((res.found ? 1 : 0) | (res.deleted ? 2 : 0) | (res.more ? 4 : 0));
    w.bytes(res.message ? enc.encode(res.message) : EMPTY);
    w.u64(res.leaderStore);
    w.bytes(res.value);
    w.u32(res.ranges.length);
    for (const d of res.ranges) writeRange(w, d);
    w.u32(res.items.length);
    for (const it of res.items) {
      w.bytes(it.key);
      w.bytes(it.value);
    }
    w.bytes(res.payload);
  }
  return w.finish();
}

export function decodeResponses(buf: Uint8Array): { seq: number; res: WireKvResponse }[] {
  const r = new ByteReader(buf, (why) => new WireError(why));
  if (r.u8() !== VERSION) throw new WireError('unknown KV frame version');
  const count = r.u32();
  if (count * 31 > r.remaining) throw new WireError(`count ${count} exceeds frame size`);
  const out: { seq: number; res: WireKvResponse }[] = [];
  for (let i = 0; i < count; i++) {
    const seq = r.u32();
    const error = ERRORS[r.u8()];
    if (error === undefined) throw new WireError('unknown error code');
    const flags = r.u8();
    const message = dec.decode(r.bytes());
    const leaderStore = r.u64();
    const value = r.bytes();
    const nRanges = r.u32();
    if (nRanges > r.remaining) throw new WireError('too many ranges');
    const ranges: RangeDescriptor[] = [];
    for (let j = 0; j < nRanges; j++) ranges.push(readRange(r));
    const nItems = r.u32();
    if (nItems * 8 > r.remaining) throw new WireError('too many items');
    const items: { key: Uint8Array; value: Uint8Array }[] = [];
    for (let j = 0; j < nItems; j++) items.push({ key: r.bytes(), value: r.bytes() });
    const payload = r.bytes();
    out.push({ seq, res: { error, message, leaderStore, ranges, found: (flags & 1) !== 0, value, deleted: (flags & 2) !== 0, items, more: (flags & 4) !== 0, payload } });
  }
  r.end();
  return out;
}

function writeRange(w: ByteWriter, d: RangeDescriptor): void {
  w.u64(d.id);
  w.bytes(d.start);
  w.bytes(d.end);
  w.u64(d.epoch.version);
  w.u64(d.epoch.confVer);
  w.u32(d.replicas.length);
  for (const rep of d.replicas) {
    w.u64(rep.store);
    w.u64(rep.replicaId);
    w.u8(rep.role === 'learner' ? 1 : 0);
  }
}

function readRange(r: ByteReader): RangeDescriptor {
  const id = r.u64();
  const start = r.bytes();
  const end = r.bytes();
  const epoch = { version: r.u64(), confVer: r.u64() };
  const n = r.u32();
  if (n * 17 > r.remaining) throw new WireError('too many replicas');
  const replicas = [];
  for (let i = 0; i < n; i++) replicas.push({ store: r.u64(), replicaId: r.u64(), role: r.u8() === 1 ? 'learner' : 'voter' });
  return { id, start, end, epoch, replicas };
}
