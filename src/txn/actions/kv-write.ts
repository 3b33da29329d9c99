/**
 * A `/kv` write as a single-key transaction committed in one Raft entry:
 * commitTs = max(ts, floor) + 1, where ts is a TSO timestamp the gateway took
 * for this write and floor the highest timestamp the leader served a read at.
 * So the write lands above every snapshot already read (no read is
 * invalidated) and no higher than one above what the TSO had handed out when
 * it applied (a transaction that starts after the answer sees it). A key
 * whose newest record is at or above that timestamp is refused (tsTooOld: the
 * gateway retries with a fresh one), which keeps the versions of a key in log
 * order, and a key under another transaction's lock is never overwritten.
 *
 * A resend of a write that may have applied carries the same timestamp, which
 * names the version it wrote: found, the write answers as it did the first
 * time instead of applying again (exactly once without a separate record).
 * Only a write whose timestamp was refused gets a fresh one.
 *
 * Without a timestamp (ts 0: the placement driver's own metadata group, which
 * has no TSO to ask) the write lands just above the key's newest record:
 * ordered by the log alone, which is enough where no snapshot reads are served.
 */
import type { KeyMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import { outcomeOn, valueAt } from '../mvcc/reader.js';
import type { KvWrite, TxnResult } from './types.js';
import { max, putVersion } from './version.js';

export async function kvWrite(txn: MvccTxn, cmd: KvWrite, retry = false): Promise<TxnResult> {
  const meta = await txn.meta(cmd.key);
  if (retry && cmd.ts !== 0n) {
    const earlier = await outcomeOn(txn, cmd.key, meta, cmd.ts);
    // Its version exists only if it applied: a put, a delete that found the key, or a cas that matched.
    if (earlier?.kind === 'committed') return { kind: 'ok', deleted: cmd.op === 'delete', current: cmd.op === 'cas' ? cmd.expect : undefined, commitTs: earlier.commitTs };
  }
  if (meta?.lock) return { kind: 'locked', locks: [{ ...meta.lock, key: cmd.key }] };
  const commitTs = cmd.ts === 0n ? max(meta?.maxTs ?? 0n, cmd.floor) + 1n : max(cmd.ts, cmd.floor) + 1n;
  if (meta && meta.maxTs >= commitTs) return { kind: 'tsTooOld', maxTs: meta.maxTs };
  const current = cmd.op === 'put' ? undefined : await valueAt(txn, cmd.key, meta, commitTs);
  switch (cmd.op) {
    case 'put':
      write(txn, cmd, meta, 'put', cmd.value, commitTs);
      return { kind: 'ok', deleted: false, current: undefined, commitTs };
    case 'delete':
      if (current !== undefined) write(txn, cmd, meta, 'delete', undefined, commitTs);
      return { kind: 'ok', deleted: current !== undefined, current: undefined, commitTs };
    case 'cas': {
      const matches = cmd.expect === undefined ? current === undefined : current !== undefined && Buffer.compare(current, cmd.expect) === 0;
      if (!matches) return { kind: 'casFailed', current };
      // A cas that deletes an absent key changes nothing.
      if (cmd.value !== undefined || current !== undefined) write(txn, cmd, meta, cmd.value === undefined ? 'delete' : 'put', cmd.value, commitTs);
      return { kind: 'ok', deleted: false, current, commitTs };
    }
  }
}

function write(txn: MvccTxn, cmd: KvWrite, meta: KeyMeta | undefined, kind: 'put' | 'delete', value: Uint8Array | undefined, commitTs: bigint): void {
  // The write's own TSO timestamp names it (its data, and its start in the write record): unique, like a
  // transaction's start. Without one, its commit timestamp is unique for the key.
  putVersion(txn, cmd.key, meta, { kind, startTs: cmd.ts === 0n ? commitTs : cmd.ts, value, valueInData: false }, commitTs, undefined);
}
