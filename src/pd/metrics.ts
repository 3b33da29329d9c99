/**
 * The placement driver's own metrics, in its own prom-client registry (the
 * store hosting the PD group has another; src/cli serves both): who leads,
 * the group's term, and how long the timestamp oracle takes to answer.
 */
import { Registry } from 'prom-client';
import { gaugeFrom, LATENCY_BUCKETS, LatencyHistogram } from '../runtime/index.js';
import type { PdGroup } from './group.js';

export class PdMetrics {
  readonly registry = new Registry();
  /** Tso requests served by this member as leader, from arrival until the answer (or failure). */
  readonly tso = new LatencyHistogram(
    this.registry,
    'raftshard_pd_tso_request_duration_seconds',
    'Time to serve a Tso request as leader: take a window of timestamps, then confirm leadership by a quorum read.',
    LATENCY_BUCKETS,
  );

  constructor(group: PdGroup) {
    gaugeFrom(this.registry, 'raftshard_pd_is_leader', '1 on the member that leads the placement driver.', () => (group.isLeader() ? 1 : 0));
    gaugeFrom(this.registry, 'raftshard_pd_term', 'Raft term of the placement driver group.', () => group.term());
  }
}
