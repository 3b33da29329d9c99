/**
 * Operations collected from many groups' Readies, written in one atomic
 * batch with one fsync (group commit across groups).
 */
import type { BatchOp, Engine } from './engine.js';

export class WriteBatch {
  readonly ops: BatchOp[] = [];
  /** Whether any staged change needs an fsync before messages depending on it go out. */
  sync = false;

  put(key: Uint8Array, value: Uint8Array): void {
    this.ops.push({ type: 'put', key, value });
  }

  del(key: Uint8Array): void {
    this.ops.push({ type: 'del', key });
  }

  get size(): number {
    return this.ops.length;
  }

  write(engine: Engine): Promise<void> {
    return engine.write(this.ops, this.sync);
  }
}
