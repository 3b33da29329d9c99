/** Bench nodes persisting through the real DurableRaftStorage on their own LevelDB, one synced batch per Ready. */
import { join } from 'node:path';
import { DurableRaftStorage, LevelEngine, WriteBatch } from '../src/storage/index.js';
import type { NodeFactory } from './raft-cluster.js';

export function levelFactory(dir: string): NodeFactory {
  return async (id, voters) => {
    const engine = await LevelEngine.open(join(dir, `node-${id}`));
    const storage = await DurableRaftStorage.open(engine, 1);
    const boot = new WriteBatch();
    const rd = storage.stageBootstrap(boot, voters);
    await boot.write(engine);
    storage.onPersisted(rd);
    return {
      storage,
      persist: async (ready) => {
        const batch = new WriteBatch();
        storage.stage(batch, ready);
        await batch.write(engine);
        storage.onPersisted(ready);
      },
      close: () => engine.close(),
    };
  };
}
