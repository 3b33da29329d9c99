/**
 * Operations collected from many groups' Readies (and their applies), written
 * in one atomic batch with at most one fsync: group commit across groups.
 * Whoever stages a change that must be durable before a message depending on
 * it goes out raises `sync`; the batch then syncs for everyone.
 */
import { assert } from '../common/index.js';
import type { BatchOp, Engine } from './engine.js';

export class WriteBatch {
  /** Invariant: in staging order; the engine applies them in that order (a later op on a key wins). */
  readonly ops: BatchOp[] = [];
  /** Whether any staged change needs an fsync before messages depending on it go out. */
  sync = false;
  /** Invariant: a batch is written at most once, and nothing is staged into it after. */
  private written = false;

  put(key: Uint8Array, value: Uint8Array): void {
    this.checkOpen();
    this.ops.push({ type: 'put', key, value });
  }

  del(key: Uint8Array): void {
    this.checkOpen();
    this.ops.push({ type: 'del', key });
  }

  get size(): number {
    return this.ops.length;
  }

  write(engine: Engine): Promise<void> {
    this.checkOpen();
    this.written = true;
    return engine.write(this.ops, this.sync);
  }

  private checkOpen(): void {
    assert(!this.written, 'write batch used after it was written');
  }
}
