/**
 * The replicated state machine of the simulator: a string map with exactly-once
 * client commands. Deterministic: every replica that applies the same log
 * reaches the same state and computes the same results.
 */
import { SessionTable } from '../replica/index.js';

export type KvCommand =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string | null };

export type KvResult = { readonly value: string | null } | { readonly ok: true } | { readonly ok: boolean; readonly current: string | null };

/** What clients put in the log: a command tagged with its client session. */
export interface Envelope {
  readonly client: string;
  readonly seq: number;
  readonly cmd: KvCommand;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(e: Envelope): Uint8Array {
  return encoder.encode(JSON.stringify(e));
}

export function decodeEnvelope(data: Uint8Array): Envelope {
  return JSON.parse(decoder.decode(data)) as Envelope;
}

export type ApplyOutcome =
  | { readonly kind: 'applied' | 'duplicate'; readonly client: string; readonly seq: number; readonly result: KvResult }
  | { readonly kind: 'stale' };

export class KvStateMachine {
  private data = new Map<string, string>();
  private sessions = new SessionTable<KvResult>();

  /** Applies one committed command (a retried one is answered from the session table, not re-applied). */
  apply(index: number, payload: Uint8Array): ApplyOutcome {
    const { client, seq, cmd } = decodeEnvelope(payload);
    const seen = this.sessions.check(client, seq);
    if (seen.kind === 'duplicate') return { kind: 'duplicate', client, seq, result: seen.result };
    if (seen.kind === 'stale') return { kind: 'stale' };
    const result = this.execute(cmd);
    this.sessions.record(client, seq, result, index);
    return { kind: 'applied', client, seq, result };
  }

  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  private execute(cmd: KvCommand): KvResult {
    switch (cmd.op) {
      case 'get':
        return { value: this.read(cmd.key) };
      case 'put':
        this.data.set(cmd.key, cmd.value);
        return { ok: true };
      case 'delete':
        this.data.delete(cmd.key);
        return { ok: true };
      case 'cas': {
        const current = this.read(cmd.key);
        if (current !== cmd.expect) return { ok: false, current };
        if (cmd.value === null) this.data.delete(cmd.key);
        else this.data.set(cmd.key, cmd.value);
        return { ok: true, current };
      }
    }
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ data: [...this.data.entries()], sessions: this.sessions.toJSON() }));
  }

  static restore(bytes: Uint8Array): KvStateMachine {
    const sm = new KvStateMachine();
    if (bytes.byteLength === 0) return sm;
    const parsed = JSON.parse(decoder.decode(bytes)) as { data: [string, string][]; sessions: ReturnType<SessionTable<KvResult>['toJSON']> };
    sm.data = new Map(parsed.data);
    sm.sessions = SessionTable.fromJSON(parsed.sessions);
    return sm;
  }

  /** A canonical image for comparing replicas. */
  fingerprint(): string {
    return JSON.stringify([...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
