/**
 * A growable binary writer and a bounds-checked reader (big-endian), for wire
 * and disk formats. The reader throws `malformed` through the given factory, so
 * each boundary reports bad input in its own terms (WireError, StorageCorruption).
 */
/**
 * Small writer buffers are carved out of a shared slab (as Buffer.allocUnsafe
 * does from its pool): no zero-filling and no ArrayBuffer per writer, which
 * dominated the cost of encoding a small record. A view keeps its whole slab
 * alive, so whoever keeps the bytes long copies them (`finish().slice()`).
 */
const SLAB_BYTES = 64 * 1024;
const MAX_SLAB_ALLOC = 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function allocate(n: number): Uint8Array {
  if (n > MAX_SLAB_ALLOC) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/** Eight bytes through which a u64 bigint is converted (one DataView for the process). */
const U64_SCRATCH = new Uint8Array(8);
const U64_VIEW = new DataView(U64_SCRATCH.buffer);

/** Writes the u64 `v` big-endian at `buf[at]` (modulo 2^64, as DataView does). */
export function putU64(buf: Uint8Array, at: number, v: bigint): void {
  U64_VIEW.setBigUint64(0, v);
  for (let i = 0; i < 8; i++) buf[at + i] = U64_SCRATCH[i];
}

/** The big-endian u64 at `buf[at]`. */
function getU64(buf: Uint8Array, at: number): bigint {
  for (let i = 0; i < 8; i++) U64_SCRATCH[i] = buf[at + i];
  return U64_VIEW.getBigUint64(0);
}

function putU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

const getU32 = (buf: Uint8Array, at: number): number => ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;

export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initial = 256) {
    this.buf = allocate(initial);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = allocate(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    putU32(this.buf, this.length, v);
    this.length += 4;
  }

  /** An integer up to 2^53 in 8 bytes. */
  u64(v: number): void {
    this.ensure(8);
    putU32(this.buf, this.length, Math.floor(v / 0x1_0000_0000));
    putU32(this.buf, this.length + 4, v >>> 0);
    this.length += 8;
  }

  /** A timestamp (or any u64) as a bigint. */
  ts(v: bigint): void {
    this.ensure(8);
    putU64(this.buf, this.length, v);
    this.length += 8;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.length);
    this.length += b.byteLength;
  }

  /** The written bytes (a view, valid until the next write). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The written bytes as their own buffer: the writer's own when it was sized exactly, else a copy. */
  take(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}

export class ByteReader {
  private at = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly malformed: (why: string) => Error,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.buf.byteLength) throw this.malformed(`truncated at byte ${this.at} (need ${n} of ${this.buf.byteLength - this.at})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  u32(): number {
    this.need(4);
    const v = getU32(this.buf, this.at);
    this.at += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const hi = getU32(this.buf, this.at);
    if (hi >= 0x20_0000) throw this.malformed(`integer beyond 2^53 at byte ${this.at}`);
    const v = hi * 0x1_0000_0000 + getU32(this.buf, this.at + 4);
    this.at += 8;
    return v;
  }

  ts(): bigint {
    this.need(8);
    const v = getU64(this.buf, this.at);
    this.at += 8;
    return v;
  }

  /** Length-prefixed bytes, copied so they do not pin the frame. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = Uint8Array.prototype.slice.call(this.buf, this.at, this.at + n);
    this.at += n;
    return out;
  }

  get remaining(): number {
    return this.buf.byteLength - this.at;
  }

  end(): void {
    if (this.at !== this.buf.byteLength) throw this.malformed(`${this.buf.byteLength - this.at} trailing bytes`);
  }
}

/**
 * The bytes as a latin1 string (one char per byte; such strings compare like
 * the bytes): a map key for binary keys. Node's own slice, called on the view
 * directly, skips the Buffer wrapper that `Buffer.from(…).toString('latin1')`
 * allocates (half the cost for short keys).
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;
export const latin1Of: (bytes: Uint8Array) => string =
  typeof latin1Slice === 'function'
    ? (bytes) => latin1Slice.call(bytes, 0, bytes.byteLength)
    : // An internal of Node's; should a version drop it, the documented way.
      (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
