/**
 * A growable binary writer and a bounds-checked reader (big-endian), for wire
 * and disk formats. The reader throws `malformed` through the given factory, so
 * each boundary reports bad input in its own terms (WireError, StorageCorruption).
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }

  /** An integer up to 2^53 in 8 bytes. */
  u64(v: number): void {
    this.ensure(8);
    this.view.setUint32(this.length, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.length + 4, v >>> 0);
    this.length += 8;
  }

  /** A timestamp (or any u64) as a bigint. */
  ts(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, v);
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
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly malformed: (why: string) => Error,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.byteLength) throw this.malformed(`truncated at byte ${this.at} (need ${n} of ${this.buf.byteLength - this.at})`);
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
    this.need(8);
    const hi = this.view.getUint32(this.at);
    if (hi >= 0x20_0000) throw this.malformed(`integer beyond 2^53 at byte ${this.at}`);
    const v = hi * 0x1_0000_0000 + this.view.getUint32(this.at + 4);
    this.at += 8;
    return v;
  }

  ts(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at);
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
