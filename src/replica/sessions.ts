/**
 * Exactly-once client commands (Raft dissertation §6.3): every replica's state
 * machine remembers, per client, the last sequence number it applied and that
 * command's result. A retried command (same client id and sequence) is answered
 * from the table instead of being applied again.
 *
 * Clients issue one command at a time with increasing sequence numbers, so one
 * entry per client suffices. Entries are evicted deterministically (by the
 * applying log index, never by wall-clock time) so every replica evicts alike.
 */
export interface Session<R> {
  readonly seq: number;
  readonly result: R;
  /** Log index at which this client last applied a command (for eviction). */
  readonly lastIndex: number;
}

export type SessionCheck<R> =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly result: R }
  /** Older than the last applied command: its result is gone; the client has already moved on. */
  | { readonly kind: 'stale' };

export class SessionTable<R> {
  private readonly sessions = new Map<string, Session<R>>();

  constructor(private readonly maxIdleEntries = Number.POSITIVE_INFINITY) {}

  check(clientId: string, seq: number): SessionCheck<R> {
    const s = this.sessions.get(clientId);
    if (!s || seq > s.seq) return { kind: 'new' };
    if (seq === s.seq) return { kind: 'duplicate', result: s.result };
    return { kind: 'stale' };
  }

  record(clientId: string, seq: number, result: R, index: number): void {
    this.sessions.set(clientId, { seq, result, lastIndex: index });
  }

  /** Drops sessions idle for more than maxIdleEntries log entries before `index`. */
  expire(index: number): void {
    if (!Number.isFinite(this.maxIdleEntries)) return;
    for (const [id, s] of this.sessions) if (index - s.lastIndex > this.maxIdleEntries) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  toJSON(): [string, Session<R>][] {
    return [...this.sessions.entries()];
  }

  static fromJSON<R>(entries: [string, Session<R>][], maxIdleEntries?: number): SessionTable<R> {
    const t = new SessionTable<R>(maxIdleEntries);
    for (const [id, s] of entries) t.sessions.set(id, s);
    return t;
  }
}
