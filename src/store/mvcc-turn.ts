/**
 * One Ready-loop turn of the store's MVCC ranges (the loop's ApplyTurn):
 * every apply of the turn goes through one ApplyView over the turn's batch.
 * Before the applies, the key metadata every entry of every replica will read
 * is taken from the replicas' caches or read from the engine in one call
 * (instead of one LevelDB read after another, entry by entry); once the batch
 * is on disk, the caches learn what the turn read and wrote. A replica that
 * became leader asks the TSO for its read floor (ts-sync.ts).
 */
import type { Ready } from '../raft/index.js';
import type { ApplyTurn, Entry } from '../replica/index.js';
import type { Engine, WriteBatch } from '../storage/index.js';
import { keys } from '../storage/index.js';
import type { TxnCommand } from '../txn/index.js';
import { ApplyView } from './apply-view.js';
import { keysOf } from './mvcc-range.js';
import type { StoreReplica } from './mvcc-range.js';
import type { TimestampSync } from './ts-sync.js';

/** The metadata keys the entries will read. */
function metaKeysOf(entries: readonly (Entry<TxnCommand> | undefined)[]): Uint8Array[] {
  return entries.flatMap((d) => (d?.kind === 'cmd' ? keysOf(d.entry.cmd).map(keys.metaKey) : []));
}

export class MvccTurn implements ApplyTurn<StoreReplica> {
  readonly view: ApplyView;

  constructor(
    engine: Engine,
    batch: WriteBatch,
    private readonly tsSync: TimestampSync,
  ) {
    this.view = new ApplyView(engine, batch);
  }

  async beforeApplies(work: readonly (readonly [StoreReplica, (Entry<TxnCommand> | undefined)[]])[]): Promise<void> {
    await this.view.prefetch(work.flatMap(([r, entries]) => this.view.lookupCached(r.machine.metaCache, metaKeysOf(entries))));
  }

  applying(r: StoreReplica, rd: Ready): void {
    this.view.owner = r.machine.metaCache;
    if (rd.softState?.role === 'leader') this.tsSync.request(r, r.raw.term);
  }

  written(): void {
    this.view.settleCaches();
  }
}
