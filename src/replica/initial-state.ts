/**
 * The first durable state of a range's replica that starts with the group (an
 * initial member, or the right half of a split on the same stores): its
 * descriptor, an initial Raft snapshot listing the voters, and an applied
 * index to match (see DurableRaftStorage.stageInitialSnapshot). A replica
 * added later starts with its descriptor only and is caught up by snapshot.
 */
import type { RangeDescriptor } from '../common/index.js';
import type { DurableRaftStorage, WriteBatch } from '../storage/index.js';
import { encodeApplyState, INITIAL_LOG_INDEX, keys } from '../storage/index.js';
import { encodeDescriptor } from './range-descriptor.js';

export function stageInitialState(batch: WriteBatch, desc: RangeDescriptor, storage: DurableRaftStorage): void {
  batch.put(keys.rangeDescriptorKey(desc.id), encodeDescriptor(desc));
  storage.stageInitialSnapshot(
    batch,
    desc.replicas.filter((r) => r.role === 'voter').map((r) => r.replicaId),
  );
  batch.put(keys.applyStateKey(desc.id), encodeApplyState(INITIAL_LOG_INDEX));
}
