/**
 * Cluster bootstrap: once enough stores are up, the leader creates the first
 * range, over all keys, on the first `replicas` stores that registered, then
 * records in the group that the cluster exists.
 */
import { rangesFromSplits } from '../replica/index.js';
import type { PdDeps } from './config.js';
import type { PdGroup } from './group.js';
import type { LeaderTerm } from './leadership.js';
import { BOOTSTRAPPED_KEY } from './meta-keys.js';

const BOOTSTRAP_RANGE_ID = 1;

/** One attempt, repeated by the scheduler loop until it succeeds: it waits for `replicas` up stores, then reuses the descriptor an earlier attempt saved. */
export async function bootstrapCluster(l: LeaderTerm, replicas: number, group: PdGroup, deps: PdDeps): Promise<void> {
  const up = l.state.upStores(deps.clock.monotonic()).sort((a, b) => a.id - b.id);
  const existing = l.state.ranges.get(BOOTSTRAP_RANGE_ID)?.desc;
  if (!existing && up.length < replicas) return;
  const desc = existing ?? rangesFromSplits([], up.slice(0, replicas).map((s) => s.id), BOOTSTRAP_RANGE_ID)[0];
  await l.saveRange(desc);
  for (const rep of desc.replicas) {
    const store = l.state.stores.get(rep.store)!;
    const c = deps.dialer.store(store.address);
    try {
      await c.createReplica(desc, true, 5_000);
    } finally {
      c.close();
    }
  }
  await group.put(BOOTSTRAPPED_KEY, '1');
  l.bootstrapped = true;
  deps.logger.info({ stores: desc.replicas.map((r) => r.store) }, 'cluster bootstrapped: one range over all keys');
}
