/**
 * Typed access to one range's MVCC records over a view of the engine, with
 * every change going to a sink (TiKV's MvccTxn over a snapshot). In apply, the
 * view includes the changes made earlier in the same batch, so the actions of
 * one batch see each other; for reads the view is the engine itself.
 */
import type { Timestamp } from '../../common/index.js';
import { keys } from '../../storage/index.js';
import type { KeyMeta, WriteRecord } from './records.js';
import { decodeMeta, decodeWrite, encodeMeta, encodeWrite } from './records.js';

export interface MvccView {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Pairs with gte <= key < lt, in key order. */
  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface MvccSink {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
}

/** A sink for read-only use: an action that tries to write through it is a bug. */
export const READ_ONLY: MvccSink = {
  put() {
    throw new Error('write through a read-only MVCC view');
  },
  del() {
    throw new Error('write through a read-only MVCC view');
  },
};

export class MvccTxn {
  /** The metadata key of the user key last asked for: an action reads and then writes the same one. */
  private lastUserKey: Uint8Array | undefined;
  private lastMetaKey: Uint8Array | undefined;

  constructor(
    readonly view: MvccView,
    private readonly sink: MvccSink,
  ) {}

  private metaKey(key: Uint8Array): Uint8Array {
    if (key !== this.lastUserKey) {
      this.lastUserKey = key;
      this.lastMetaKey = keys.metaKey(key);
    }
    return this.lastMetaKey!;
  }

  async meta(key: Uint8Array): Promise<KeyMeta | undefined> {
    const raw = await this.view.get(this.metaKey(key));
    return raw ? decodeMeta(raw) : undefined;
  }

  setMeta(key: Uint8Array, meta: KeyMeta): void {
    this.sink.put(this.metaKey(key), encodeMeta(meta));
  }

  deleteMeta(key: Uint8Array): void {
    this.sink.del(this.metaKey(key));
  }

  async write(key: Uint8Array, ts: Timestamp): Promise<WriteRecord | undefined> {
    const raw = await this.view.get(keys.writeKey(key, ts));
    return raw ? decodeWrite(raw) : undefined;
  }

  putWrite(key: Uint8Array, ts: Timestamp, rec: WriteRecord): void {
    this.sink.put(keys.writeKey(key, ts), encodeWrite(rec));
  }

  deleteWrite(key: Uint8Array, ts: Timestamp): void {
    this.sink.del(keys.writeKey(key, ts));
  }

  /** The write records of `key` with from >= ts >= to, newest first. */
  async *writesBetween(key: Uint8Array, from: Timestamp, to: Timestamp): AsyncIterable<[Timestamp, WriteRecord]> {
    const { gte, lt } = keys.writesAtOrBelow(key, from);
    for await (const [k, v] of this.view.range(gte, lt)) {
      const { ts } = keys.decodeVersionedKey(k);
      if (ts < to) return;
      yield [ts, decodeWrite(v)];
    }
  }

  data(key: Uint8Array, startTs: Timestamp): Promise<Uint8Array | undefined> {
    return this.view.get(keys.dataKey(key, startTs));
  }

  putData(key: Uint8Array, startTs: Timestamp, value: Uint8Array): void {
    this.sink.put(keys.dataKey(key, startTs), value);
  }

  deleteData(key: Uint8Array, startTs: Timestamp): void {
    this.sink.del(keys.dataKey(key, startTs));
  }
}
