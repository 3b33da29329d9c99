/**
 * The metrics of one store, in its own prom-client registry (several stores
 * may share a process in tests). The event loop bumps plain fields, which
 * the registry reads at scrape time; the latency histograms are observed
 * once per loop turn or per Raft round, with clock readings the loop takes
 * anyway (see ReadyLoop.turn in replica/ready-loop.ts).
 */
import { Registry } from 'prom-client';
import { counterFrom, gaugeFrom, labelledCounterFrom, LATENCY_BUCKETS, LatencyHistogram, secondsSince } from '../runtime/index.js';

/** What the gauges read from the store when scraped. */
export interface StoreMetricsSource {
  readonly replicas: ReadonlyMap<number, { isLeader(): boolean; readonly quiesced: boolean }>;
  readonly transport: { readonly stats: { readonly frames: number; readonly messages: number; readonly dropped: number } };
}

export class StoreMetrics {
  proposals = 0;
  appliedEntries = 0;
  appliedWrites = 0;
  fsyncs = 0;
  /** Entries persisted in synced batches (writes per fsync = this / fsyncs). */
  syncedEntries = 0;
  readiesPerLoop = { sum: 0, count: 0 };
  messagesIn = 0;
  malformedFrames = 0;
  unknownRangeMessages = 0;
  kvRequests = 0;
  /** Reads a leader served on its lease at once, without a loop turn. */
  immediateReads = 0;
  snapshotsSent = 0;
  snapshotsInstalled = 0;
  compactions = 0;
  kvErrors = new Map<string, number>();

  readonly registry = new Registry();
  /** From a write's proposal to Raft until its result is handed back (leader). */
  readonly proposalApply = this.histogram('raftshard_raft_proposal_apply_seconds', 'Time from proposing a write to Raft until its applied result is handed back (leader).');
  /** Each synced LevelDB batch write (one per loop turn at most). */
  readonly fsync = this.histogram('raftshard_fsync_duration_seconds', 'Duration of each synced LevelDB batch write (one per event-loop turn at most).');
  /** From starting a ReadIndex round until its reads are released. */
  readonly readIndex = this.histogram('raftshard_read_index_seconds', 'Time from starting a ReadIndex round until its reads are released (leader).');

  constructor(source: StoreMetricsSource) {
    const r = this.registry;
    const counter = (name: string, help: string, read: () => number) => counterFrom(r, `raftshard_${name}`, help, read);
    const gauge = (name: string, help: string, read: () => number) => gaugeFrom(r, `raftshard_${name}`, help, read);
    const t = () => source.transport.stats;
    counter('raft_proposals_total', 'Commands proposed to Raft.', () => this.proposals);
    counter('raft_applied_entries_total', 'Committed entries applied.', () => this.appliedEntries);
    counter('kv_writes_applied_total', 'Client writes applied (on this replica).', () => this.appliedWrites);
    counter('fsyncs_total', 'Synced write batches (one per event-loop turn at most).', () => this.fsyncs);
    counter('raft_synced_entries_total', 'Log entries persisted by synced batches.', () => this.syncedEntries);
    counter('loop_readies_sum', 'Readies handled, summed over loop turns.', () => this.readiesPerLoop.sum);
    counter('loop_turns_total', 'Event-loop turns that handled at least one Ready.', () => this.readiesPerLoop.count);
    counter('raft_messages_received_total', 'Raft messages received.', () => this.messagesIn);
    counter('raft_messages_sent_total', 'Raft messages sent.', () => t().messages);
    counter('raft_frames_sent_total', 'Batched frames sent to peer stores.', () => t().frames);
    counter('raft_messages_dropped_total', 'Raft messages dropped (peer unreachable or backlog full).', () => t().dropped);
    counter('raft_malformed_frames_total', 'Frames that failed to decode and were dropped.', () => this.malformedFrames);
    counter('raft_unknown_range_messages_total', 'Messages for ranges this store does not host.', () => this.unknownRangeMessages);
    counter('snapshots_sent_total', 'Range snapshots streamed to other stores.', () => this.snapshotsSent);
    counter('snapshots_installed_total', 'Range snapshots received and installed.', () => this.snapshotsInstalled);
    counter('raft_log_compactions_total', 'Raft log compactions.', () => this.compactions);
    counter('kv_requests_total', 'KV requests received.', () => this.kvRequests);
    counter('lease_reads_immediate_total', 'Reads a leader served on its lease at once, with no loop turn or ReadIndex round.', () => this.immediateReads);
    labelledCounterFrom(r, 'raftshard_kv_errors_total', 'KV requests answered with an error, by code.', 'code', () => this.kvErrors);
    gauge('ranges', 'Range replicas hosted.', () => source.replicas.size);
    gauge('leaders', 'Ranges this store leads.', () => count(source, (x) => x.isLeader()));
    gauge('quiesced_ranges', 'Replicas not ticking because their range is idle.', () => count(source, (x) => x.quiesced));
  }

  /** The Prometheus text of this store's registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  countError(code: string): void {
    this.kvErrors.set(code, (this.kvErrors.get(code) ?? 0) + 1);
  }

  /** Results handed back at `nowMs` for writes proposed at their `proposedAt` (monotonic ms). */
  observeApplied(answers: readonly (readonly [{ readonly proposedAt: number }, unknown])[], nowMs: number): void {
    for (const [w] of answers) this.proposalApply.observe(secondsSince(w.proposedAt, nowMs));
  }

  /** ReadIndex rounds started at `startedAt` (monotonic ms) released at `nowMs`. */
  observeReads(startedAt: readonly number[], nowMs: number): void {
    for (const t of startedAt) this.readIndex.observe(secondsSince(t, nowMs));
  }

  private histogram(name: string, help: string): LatencyHistogram {
    return new LatencyHistogram(this.registry, name, help, LATENCY_BUCKETS);
  }
}

function count(source: StoreMetricsSource, pred: (r: { isLeader(): boolean; readonly quiesced: boolean }) => boolean): number {
  let n = 0;
  for (const r of source.replicas.values()) if (pred(r)) n++;
  return n;
}
