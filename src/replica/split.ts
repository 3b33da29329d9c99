/**
 * Applying a split (the same step on every replica, at the same log index):
 * the left descriptor shrinks to [start, splitKey) with its version bumped,
 * and the right half [splitKey, end) becomes a new range whose Raft group
 * starts (from an initial snapshot, see stageInitialSnapshot) on the same stores, all in the apply batch, so a crash leaves
 * either the unsplit range or both halves. User data stays where it is (data
 * keys are not prefixed by range); the exactly-once records are copied, so a
 * retry of a write applied before the split is still recognised by the right
 * range.
 */
import type { DurableRaftStorage, Engine, WriteBatch } from '../storage/index.js';
import { keys } from '../storage/index.js';
import type { SplitCommand } from './command.js';
import { encodeDescriptor, replicaIdFor } from './range-descriptor.js';
import { stageInitialState } from './initial-state.js';
import type { RangeDescriptor } from '../common/index.js';

/** Why the split cannot apply to `desc` (stale epoch, key outside), or undefined. */
export function splitRejection(desc: RangeDescriptor, cmd: SplitCommand): string | undefined {
  if (desc.epoch.version !== cmd.version || desc.epoch.confVer !== cmd.confVer) return `range ${desc.id} is at epoch ${desc.epoch.version}/${desc.epoch.confVer}`;
  if (Buffer.compare(cmd.splitKey, desc.start) <= 0 || (desc.end.byteLength > 0 && Buffer.compare(cmd.splitKey, desc.end) >= 0)) return `split key is not inside range ${desc.id}`;
  return undefined;
}

/** The two halves of `desc` split at `cmd.splitKey`. */
export function splitDescriptors(desc: RangeDescriptor, cmd: SplitCommand): { left: RangeDescriptor; right: RangeDescriptor } {
  const version = desc.epoch.version + 1;
  const left = { ...desc, end: cmd.splitKey, epoch: { version, confVer: desc.epoch.confVer } };
  const voters = desc.replicas.filter((r) => r.role === 'voter');
  const right: RangeDescriptor = {
    id: cmd.newRangeId,
    start: cmd.splitKey,
    end: desc.end,
    epoch: { version, confVer: desc.epoch.confVer },
    replicas: voters.map((r) => ({ store: r.store, replicaId: replicaIdFor(r.store, 1), role: 'voter' })),
  };
  return { left, right };
}

/**
 * Stages the split into `batch`: both descriptors, the right range's initial
 * Raft state, and copies of the left range's exactly-once records.
 */
export async function stageSplit(engine: Engine, batch: WriteBatch, left: RangeDescriptor, right: RangeDescriptor, rightStorage: DurableRaftStorage): Promise<void> {
  batch.put(keys.rangeDescriptorKey(left.id), encodeDescriptor(left));
  stageInitialState(batch, right, rightStorage);
  const { gte, lt } = keys.dedupBounds(left.id);
  for await (const [k, v] of engine.range(gte, lt)) batch.put(keys.dedupKeyForGroup(k, right.id), v);
}
