/**
 * The binary format of a Raft frame: the messages of many ranges that one store
 * sends another in one flush. Decoding validates everything (kinds, lengths,
 * integer ranges); a malformed frame throws WireError and is dropped whole by
 * the caller, counted, never trusted.
 *
 *   frame   := version:u8 count:u32 item*
 *   item    := rangeId:u64 flags:u8 message
 *   message := kind:u8 from:u64 to:u64 term:u64 fields-of-kind
 */
import { assertNever, ByteReader, ByteWriter, DbError } from '../common/index.js';
import type { ConfState, Entry, Message, MessageKind } from '../raft/index.js';

const VERSION = 1;

export class WireError extends DbError {
  constructor(why: string) {
    super('MALFORMED_MESSAGE', `malformed frame: ${why}`);
    this.name = 'WireError';
  }
}

/** One Raft message addressed to a range, with transport-level flags. */
export interface RangeMessage {
  readonly rangeId: number;
  /** The sender's range is quiescing: the receiver may stop ticking it. */
  readonly quiesce: boolean;
  readonly msg: Message;
}

const KINDS: readonly MessageKind[] = ['app', 'appResp', 'vote', 'preVote', 'voteResp', 'preVoteResp', 'heartbeat', 'heartbeatResp', 'snap', 'timeoutNow', 'readIndex', 'readIndexResp', 'transferLeader'];
const KIND_CODE = new Map(KINDS.map((k, i) => [k, i]));

export function encodeFrame(items: readonly RangeMessage[]): Uint8Array {
  const w = new ByteWriter(64 + items.length * 48);
  w.u8(VERSION);
  w.u32(items.length);
  for (const it of items) {
    w.u64(it.rangeId);
    w.u8(it.quiesce ? 1 : 0);
    writeMessage(w, it.msg);
  }
  return w.finish();
}

export function decodeFrame(buf: Uint8Array): RangeMessage[] {
  const r = new ByteReader(buf, (why) => new WireError(why));
  const version = r.u8();
  if (version !== VERSION) throw new WireError(`unknown version ${version}`);
  const count = r.u32();
  // Every item takes at least 34 bytes: reject absurd counts before allocating.
  if (count * 34 > r.remaining) throw new WireError(`count ${count} exceeds frame size`);
  const out: RangeMessage[] = [];
  for (let i = 0; i < count; i++) {
    const rangeId = r.u64();
    const flags = r.u8();
    out.push({ rangeId, quiesce: (flags & 1) === 1, msg: readMessage(r) });
  }
  r.end();
  return out;
}

function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(KIND_CODE.get(m.kind)!);
  w.u64(m.from);
  w.u64(m.to);
  w.u64(m.term);
  switch (m.kind) {
    case 'app':
      w.u64(m.index);
      w.u64(m.logTerm);
      w.u64(m.commit);
      w.u32(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      break;
    case 'appResp':
      w.u64(m.index);
      w.u8(m.reject ? 1 : 0);
      w.u64(m.rejectHint);
      w.u64(m.hintTerm);
      break;
    case 'vote':
    case 'preVote':
      w.u64(m.index);
      w.u64(m.logTerm);
      w.u8(m.transfer ? 1 : 0);
      break;
    case 'voteResp':
    case 'preVoteResp':
      w.u8(m.reject ? 1 : 0);
      break;
    case 'heartbeat':
      w.u64(m.commit);
      w.bytes(m.ctx);
      break;
    case 'heartbeatResp':
    case 'readIndex':
      w.bytes(m.ctx);
      break;
    case 'snap':
      w.u64(m.snapshot.meta.index);
      w.u64(m.snapshot.meta.term);
      writeConf(w, m.snapshot.meta.conf);
      w.bytes(m.snapshot.data);
      break;
    case 'timeoutNow':
      break;
    case 'readIndexResp':
      w.u64(m.index);
      w.bytes(m.ctx);
      break;
    case 'transferLeader':
      w.u64(m.target);
      break;
    default:
      assertNever(m, 'message');
  }
}

function readMessage(r: ByteReader): Message {
  const code = r.u8();
  const kind = KINDS[code];
  if (kind === undefined) throw new WireError(`unknown message kind ${code}`);
  const from = r.u64();
  const to = r.u64();
  const term = r.u64();
  const base = { from, to, term };
  switch (kind) {
    case 'app': {
      const index = r.u64();
      const logTerm = r.u64();
      const commit = r.u64();
      const n = r.u32();
      if (n * 21 > r.remaining) throw new WireError(`entry count ${n} exceeds frame size`);
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) {
        const e = readEntry(r);
        if (e.index !== index + 1 + i) throw new WireError(`entry ${e.index} out of sequence after ${index}`);
        entries.push(e);
      }
      return { kind, ...base, index, logTerm, commit, entries };
    }
    case 'appResp':
      return { kind, ...base, index: r.u64(), reject: bool(r), rejectHint: r.u64(), hintTerm: r.u64() };
    case 'vote':
    case 'preVote':
      return { kind, ...base, index: r.u64(), logTerm: r.u64(), transfer: bool(r) };
    case 'voteResp':
    case 'preVoteResp':
      return { kind, ...base, reject: bool(r) };
    case 'heartbeat':
      return { kind, ...base, commit: r.u64(), ctx: r.bytes() };
    case 'heartbeatResp':
    case 'readIndex':
      return { kind, ...base, ctx: r.bytes() };
    case 'snap': {
      const index = r.u64();
      const snapTerm = r.u64();
      const conf = readConf(r);
      return { kind, ...base, snapshot: { meta: { index, term: snapTerm, conf }, data: r.bytes() } };
    }
    case 'timeoutNow':
      return { kind, ...base };
    case 'readIndexResp':
      return { kind, ...base, index: r.u64(), ctx: r.bytes() };
    case 'transferLeader':
      return { kind, ...base, target: r.u64() };
    default:
      return assertNever(kind, 'message kind');
  }
}

function bool(r: ByteReader): boolean {
  const b = r.u8();
  if (b > 1) throw new WireError(`boolean byte ${b}`);
  return b === 1;
}

function writeEntry(w: ByteWriter, e: Entry): void {
  w.u64(e.term);
  w.u64(e.index);
  w.u8(e.type === 'conf' ? 1 : 0);
  w.bytes(e.data);
}

function readEntry(r: ByteReader): Entry {
  const term = r.u64();
  const index = r.u64();
  const t = r.u8();
  if (t > 1) throw new WireError(`entry type ${t}`);
  const data = r.bytes();
  if (t === 1 && data.byteLength !== 5) throw new WireError(`conf entry of ${data.byteLength} bytes`);
  return { term, index, type: t === 1 ? 'conf' : 'normal', data };
}

function writeConf(w: ByteWriter, c: ConfState): void {
  w.u32(c.voters.length);
  for (const id of c.voters) w.u64(id);
  w.u32(c.learners.length);
  for (const id of c.learners) w.u64(id);
}

function readConf(r: ByteReader): ConfState {
  const ids = (): number[] => {
    const n = r.u32();
    if (n * 8 > r.remaining) throw new WireError(`member count ${n} exceeds frame size`);
    return Array.from({ length: n }, () => r.u64());
  };
  const conf = { voters: ids(), learners: ids() };
  const all = [...conf.voters, ...conf.learners];
  const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] < x);
  if (!ascending(conf.voters) || !ascending(conf.learners) || new Set(all).size !== all.length) throw new WireError('membership not sorted and disjoint');
  return conf;
}
