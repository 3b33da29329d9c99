/**
 * Binary encodings of the Raft state kept on disk. Every value is framed as
 *   version:u8  crc32(payload):u32  payload
 * so a flipped bit or a torn write is detected on read (StorageCorruption),
 * never silently used. No JSON: entries are on the hot path.
 */
import { DbError } from '../common/index.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/index.js';
import { crc32 } from './crc32.js';

const FORMAT_VERSION = 1;
const HEADER = 5;

export class StorageCorruption extends DbError {
  constructor(what: string, detail: string) {
    super('STORAGE_CORRUPTION', `corrupt ${what}: ${detail}`, { what });
    this.name = 'StorageCorruption';
  }
}

/** A cursor over a payload that reports truncation as corruption. */
class Reader {
  private at = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.byteLength) throw new StorageCorruption(this.what, 'truncated');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  u64(): number {
    return this.u32() * 0x1_0000_0000 + this.u32();
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  end(): void {
    if (this.at !== this.buf.byteLength) throw new StorageCorruption(this.what, `${this.buf.byteLength - this.at} trailing bytes`);
  }
}

/** Allocates a framed value with room for `payloadBytes`, returning it and a view at the payload. */
function allocFrame(payloadBytes: number): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(HEADER + payloadBytes);
  return { out, view: new DataView(out.buffer, HEADER) };
}

function seal(out: Uint8Array): Uint8Array {
  out[0] = FORMAT_VERSION;
  new DataView(out.buffer).setUint32(1, crc32(out, HEADER));
  return out;
}

function open(value: Uint8Array, what: string): Reader {
  if (value.byteLength < HEADER) throw new StorageCorruption(what, 'truncated header');
  if (value[0] !== FORMAT_VERSION) throw new StorageCorruption(what, `unknown format version ${value[0]}`);
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(1);
  if (crc32(value, HEADER) !== stored) throw new StorageCorruption(what, 'checksum mismatch');
  return new Reader(value.subarray(HEADER), what);
}

function setU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

export function encodeEntry(e: Entry): Uint8Array {
  const { out, view } = allocFrame(17 + e.data.byteLength);
  setU64(view, 0, e.term);
  setU64(view, 8, e.index);
  view.setUint8(16, e.type === 'conf' ? 1 : 0);
  out.set(e.data, HEADER + 17);
  return seal(out);
}

export function decodeEntry(value: Uint8Array, what = 'log entry'): Entry {
  const r = open(value, what);
  const term = r.u64();
  const index = r.u64();
  const t = r.u8();
  if (t > 1) throw new StorageCorruption(what, `entry type ${t}`);
  // Copy so the entry does not pin the (possibly larger) buffer it was read from.
  const data = new Uint8Array(r.bytes(value.byteLength - HEADER - 17));
  r.end();
  return { term, index, type: t === 1 ? 'conf' : 'normal', data };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const { out, view } = allocFrame(24);
  setU64(view, 0, hs.term);
  setU64(view, 8, hs.vote);
  setU64(view, 16, hs.commit);
  return seal(out);
}

export function decodeHardState(value: Uint8Array): HardState {
  const r = open(value, 'hard state');
  const hs = { term: r.u64(), vote: r.u64(), commit: r.u64() };
  r.end();
  return hs;
}

export function encodeSnapshotMeta(m: SnapshotMeta): Uint8Array {
  const { voters, learners } = m.conf;
  const { out, view } = allocFrame(16 + 8 + 8 * (voters.length + learners.length));
  setU64(view, 0, m.index);
  setU64(view, 8, m.term);
  view.setUint32(16, voters.length);
  view.setUint32(20, learners.length);
  [...voters, ...learners].forEach((id, i) => setU64(view, 24 + 8 * i, id));
  return seal(out);
}

export function decodeSnapshotMeta(value: Uint8Array): SnapshotMeta {
  const r = open(value, 'snapshot metadata');
  const index = r.u64();
  const term = r.u64();
  const nv = r.u32();
  const nl = r.u32();
  const voters = Array.from({ length: nv }, () => r.u64());
  const learners = Array.from({ length: nl }, () => r.u64());
  r.end();
  const conf: ConfState = { voters, learners };
  return { index, term, conf };
}

export function encodeApplyState(applied: number): Uint8Array {
  const { out, view } = allocFrame(8);
  setU64(view, 0, applied);
  return seal(out);
}

export function decodeApplyState(value: Uint8Array): number {
  const r = open(value, 'apply state');
  const applied = r.u64();
  r.end();
  return applied;
}
