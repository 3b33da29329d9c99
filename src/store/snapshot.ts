/**
 * Range snapshots, streamed over gRPC in chunks. The sender fixes a
 * consistent view of the range (its data and its exactly-once records) at its
 * applied index, synchronously, and streams it; the receiver collects the
 * chunks, hands the Raft message to its replica, and installs the data in the
 * same write batch that persists the Raft snapshot, so a crash leaves either
 * the old replica or the new one, never a mix.
 *
 * Not ideal: the receiver holds the range's key/value pairs in memory until
 * that batch is written (fine while ranges are split at a bounded size); a
 * staging keyspace would lift that.
 */
import { ByteReader, ByteWriter, DbError } from '../common/index.js';
import type { ConfState, Message } from '../raft/index.js';
import type { Engine } from '../storage/index.js';
import type { RangeMessage, WireSnapshotChunk } from '../transport/index.js';
import { decodeFrame, encodeFrame } from '../transport/index.js';
import { decodeDescriptor, encodeDescriptor, rangeStateBounds } from '../replica/index.js';
import type { RangeDescriptor } from '../common/index.js';

const CHUNK_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * The chunks of a snapshot of `desc` at `index`. The engine views are taken
 * before this returns, so later applies do not leak into it.
 */
export function snapshotChunks(engine: Engine, fromStore: number, desc: RangeDescriptor, msg: Message, meta: { index: number; term: number; conf: ConfState }): AsyncIterable<WireSnapshotChunk> {
  if (msg.kind !== 'snap') throw new Error('not a snapshot message');
  const views = rangeStateBounds(desc).map((b) => engine.snapshotRange(b.gte, b.lt));
  const item: RangeMessage = { rangeId: desc.id, quiesce: false, msg: { ...msg, snapshot: { meta, data: EMPTY } } };
  const header = new ByteWriter();
  header.bytes(encodeFrame([item]));
  header.bytes(encodeDescriptor(desc));
  const headerBytes = header.finish().slice();
  return (async function* () {
    let w = new ByteWriter(CHUNK_BYTES + 1024);
    let first = true;
    const chunk = (last: boolean): WireSnapshotChunk => {
      const out = { fromStore: fromStore, rangeId: desc.id, header: first ? headerBytes : EMPTY, data: w.finish().slice(), last };
      first = false;
      w = new ByteWriter(CHUNK_BYTES + 1024);
      return out;
    };
    for (const view of views) {
      for await (const [k, v] of view) {
        w.bytes(k);
        w.bytes(v);
        if (w.length >= CHUNK_BYTES) yield chunk(false);
      }
    }
    yield chunk(true);
  })();
}

export interface ReceivedSnapshot {
  readonly item: RangeMessage;
  readonly desc: RangeDescriptor;
  readonly pairs: [Uint8Array, Uint8Array][];
}

const malformed = (why: string) => new DbError('BAD_SNAPSHOT', `malformed snapshot: ${why}`);

export async function receiveSnapshot(chunks: AsyncIterable<WireSnapshotChunk>): Promise<ReceivedSnapshot> {
  let item: RangeMessage | undefined;
  let desc: RangeDescriptor | undefined;
  const pairs: [Uint8Array, Uint8Array][] = [];
  let done = false;
  for await (const c of chunks) {
    if (done) throw malformed('chunk after the last one');
    if (!item) {
      const h = new ByteReader(c.header, malformed);
      const items = decodeFrame(h.bytes());
      desc = decodeDescriptor(h.bytes());
      if (items.length !== 1 || items[0].msg.kind !== 'snap' || items[0].rangeId !== desc.id) throw malformed('header is not one snapshot message for its range');
      item = items[0];
    }
    const r = new ByteReader(c.data, malformed);
    while (r.remaining > 0) pairs.push([r.bytes(), r.bytes()]);
    done = c.last;
  }
  if (!item || !desc || !done) throw malformed('stream ended early');
  return { item, desc, pairs };
}
