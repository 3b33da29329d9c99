/** Counters of a store process, exposed in the Prometheus text format. */
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
  snapshotsSent = 0;
  snapshotsInstalled = 0;
  compactions = 0;
  kvErrors = new Map<string, number>();

  render(gauges: { ranges: number; leaders: number; quiesced: number; transport: { frames: number; messages: number; bytes: number; dropped: number; reconnects: number } }): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
      lines.push(`# HELP raftshard_${name} ${help}`, `# TYPE raftshard_${name} ${type}`, `raftshard_${name} ${value}`);
    };
    metric('raft_proposals_total', 'counter', 'Commands proposed to Raft.', this.proposals);
    metric('raft_applied_entries_total', 'counter', 'Committed entries applied.', this.appliedEntries);
    metric('kv_writes_applied_total', 'counter', 'Client writes applied (on this replica).', this.appliedWrites);
    metric('fsyncs_total', 'counter', 'Synced write batches (one per event-loop turn at most).', this.fsyncs);
    metric('raft_synced_entries_total', 'counter', 'Log entries persisted by synced batches.', this.syncedEntries);
    metric('loop_readies_sum', 'counter', 'Readies handled, summed over loop turns.', this.readiesPerLoop.sum);
    metric('loop_turns_total', 'counter', 'Event-loop turns that handled at least one Ready.', this.readiesPerLoop.count);
    metric('raft_messages_received_total', 'counter', 'Raft messages received.', this.messagesIn);
    metric('raft_messages_sent_total', 'counter', 'Raft messages sent.', gauges.transport.messages);
    metric('raft_frames_sent_total', 'counter', 'Batched frames sent to peer stores.', gauges.transport.frames);
    metric('raft_messages_dropped_total', 'counter', 'Raft messages dropped (peer unreachable or backlog full).', gauges.transport.dropped);
    metric('raft_malformed_frames_total', 'counter', 'Frames that failed to decode and were dropped.', this.malformedFrames);
    metric('raft_unknown_range_messages_total', 'counter', 'Messages for ranges this store does not host.', this.unknownRangeMessages);
    metric('snapshots_sent_total', 'counter', 'Range snapshots streamed to other stores.', this.snapshotsSent);
    metric('snapshots_installed_total', 'counter', 'Range snapshots received and installed.', this.snapshotsInstalled);
    metric('raft_log_compactions_total', 'counter', 'Raft log compactions.', this.compactions);
    metric('kv_requests_total', 'counter', 'KV requests received.', this.kvRequests);
    lines.push('# HELP raftshard_kv_errors_total KV requests answered with an error, by code.', '# TYPE raftshard_kv_errors_total counter');
    for (const [code, n] of this.kvErrors) lines.push(`raftshard_kv_errors_total{code="${code}"} ${n}`);
    metric('ranges', 'gauge', 'Range replicas hosted.', gauges.ranges);
    metric('leaders', 'gauge', 'Ranges this store leads.', gauges.leaders);
    metric('quiesced_ranges', 'gauge', 'Replicas not ticking because their range is idle.', gauges.quiesced);
    return lines.join('\n') + '\n';
  }

  countError(code: string): void {
    this.kvErrors.set(code, (this.kvErrors.get(code) ?? 0) + 1);
  }
}
