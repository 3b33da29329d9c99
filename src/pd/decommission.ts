/**
 * Taking a store out for good (`raftshard decommission STORE`). Refused with
 * BAD_REQUEST (nothing changed) while the other up stores could not hold
 * every range's replicas. Otherwise the store is
 * marked decommissioning (persisted, so that a new PD leader goes on with
 * it: its scheduler drains such stores too), gets no new replicas, and each
 * of its replicas is moved to the up store holding the fewest, one at a time,
 * through the same add-learner / promote / remove steps as `move`, so every
 * range keeps its quorum throughout. Then the store is marked removed.
 */
import { BadRequestError, UnavailableError } from '../common/index.js';
import type { Clock, Logger } from '../runtime/index.js';
import type { StoreState } from './cluster-state.js';
import type { LeaderTerm } from './leadership.js';
import { planDrain } from './scheduler.js';

export interface DecommissionResult {
  readonly store: number;
  readonly state: 'removed';
  readonly moves: { range: number; from: number; to: number }[];
}

export async function decommission(l: LeaderTerm, deps: { clock: Clock; logger: Logger }, store: StoreState, replicas: number): Promise<DecommissionResult> {
  const moves: DecommissionResult['moves'] = [];
  if (store.retire === 'removed') return { store: store.id, state: 'removed', moves };
  // Stores in their grace period after a PD failover count as up: they have not been heard from yet, not lost.
  const now = deps.clock.monotonic();
  const others = [...l.state.stores.values()].filter((s) => s.id !== store.id && s.retire === undefined && l.state.liveness(s, now) === 'up');
  // Refused, nothing changed (a failed precondition, as etcd's gateway answers a member removal that would lose quorum).
  if (l.state.replicasOn(store.id) > 0 && others.length < replicas) {
    throw new BadRequestError(`store ${store.id} cannot be decommissioned: ${others.length} other up store(s) cannot hold ${replicas} replicas of every range`);
  }
  if (store.retire === undefined) await l.saveStore(store.id, { retire: 'decommissioning' });
  const total = l.state.replicasOn(store.id);
  deps.logger.info({ store: store.id, replicas: total }, 'decommissioning store');
  for (let left = total; left > 0; left = l.state.replicasOn(store.id)) {
    const m = planDrain(l.state, deps.clock.monotonic(), store.id);
    if (!m) throw new UnavailableError(`store ${store.id}: no up store can take its remaining ${left} replica(s)`);
    await l.operators.move(m.range, m.from, m.to);
    moves.push(m);
    deps.logger.info({ store: store.id, range: m.range, to: m.to, moved: moves.length, left: l.state.replicasOn(store.id) }, 'decommission: replica moved');
  }
  await l.saveStore(store.id, { retire: 'removed' });
  deps.logger.info({ store: store.id, moves: moves.length }, 'store decommissioned: removed');
  return { store: store.id, state: 'removed', moves };
}
