/**
 * Simulated clients: each runs one operation at a time against the cluster,
 * as the gateway does against a range: writes are `/kv` writes (single-key
 * MVCC transactions) carrying a request id and, when retried (on timeouts,
 * wrong leaders, unknown outcomes), the retry flag. In odd seeds clients
 * write as the gateway does, at a timestamp from a TSO (a counter here),
 * which names the version a write made, so its retry finds it (exactly once
 * by timestamp; a timestamp the key outgrew is replaced by a fresh one); in
 * even seeds they write without one, as the placement driver's metadata
 * group does, and production's exactly-once records make a write apply at
 * most once.
 * Reads are linearizable ReadIndex reads of the newest state at whichever
 * node was picked. An operation gives up after a deadline (its outcome is
 * then unknown). Each records a history for the linearizability checker.
 */
import { NotLeaderError } from '../common/index.js';
import type { NodeId } from '../common/index.js';
import { replicaIdFor } from '../replica/index.js';
import type { CommandEntry, EntryResult } from '../replica/index.js';
import type { Timestamp } from '../common/index.js';
import { assert } from '../common/index.js';
import type { TxnCommand, TxnResult } from '../txn/index.js';
import type { SeededRng } from '../runtime/index.js';
import type { KvCommand, KvResult } from './kv-model.js';
import type { SimNode } from './sim-node.js';

export interface HistoryOp {
  readonly clientId: number;
  readonly input: KvCommand;
  output: KvResult | undefined;
  readonly call: number;
  ret: number;
}

interface Pending {
  readonly op: HistoryOp;
  readonly requestId: string;
  /** Tick after which the current attempt is abandoned and retried elsewhere. */
  deadline: number;
  /** Tick at which the operation is abandoned (outcome unknown). */
  giveUpAt: number;
  attempts: number;
  /** The write's timestamp (0: none); the same on every resend until the key refuses it as too old. */
  ts: Timestamp;
}

const KEYS = ['a', 'b', 'c'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ATTEMPT_TICKS = 30;
/** How long a client retries one operation (the gateway's deadline); exactly-once records must outlive it. */
export const OP_DEADLINE_TICKS = 300;

export class SimClient {
  readonly name: string;
  private seq = 0;
  private pending: Pending | undefined;
  private leaderGuess: NodeId = 0;

  constructor(
    readonly index: number,
    private readonly rng: SeededRng,
    /** Logical stamps of the history: unique and in real-time order. */
    private readonly stamp: () => number,
    private readonly nodes: () => readonly SimNode[],
    private readonly history: HistoryOp[],
    /** A fresh timestamp for each write (the gateway's TSO), or none (the placement driver's writes). */
    private readonly tso: (() => Timestamp) | undefined,
  ) {
    // Seeded stand-in for a nanoid: real clients use nanoid(), the simulator must replay exactly.
    this.name = `c${index}-${rng.nextU32().toString(36)}`;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Starts a new random operation. */
  begin(now: number): void {
    const key = this.rng.pick(KEYS);
    const value = `${this.index}.${this.seq + 1}`;
    const r = this.rng.int(10);
    const input: KvCommand =
      r < 4 ? { op: 'get', key } : r < 7 ? { op: 'put', key, value } : r < 8 ? { op: 'delete', key } : { op: 'cas', key, expect: this.rng.chance(0.5) ? null : `${this.rng.int(4)}.${this.rng.int(8)}`, value: this.rng.chance(0.2) ? null : value };
    const op: HistoryOp = { clientId: this.index, input, output: undefined, call: this.stamp(), ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    this.pending = { op, requestId: `${this.name}/${++this.seq}`, deadline: 0, giveUpAt: now + OP_DEADLINE_TICKS, attempts: 0, ts: this.tso?.() ?? 0n };
    this.attempt(now);
  }

  /** Retries an operation whose attempt timed out, or gives it up. */
  tick(now: number): void {
    const p = this.pending;
    if (!p) return;
    if (now >= p.giveUpAt) this.pending = undefined;
    else if (now >= p.deadline) this.attempt(now);
  }

  /** The faults healed: a pending operation keeps trying until `until` (the liveness bound). */
  extendDeadline(until: number): void {
    if (this.pending) this.pending.giveUpAt = Math.max(this.pending.giveUpAt, until);
  }

  private attempt(now: number): void {
    const p = this.pending!;
    const live = this.nodes().filter((n) => n.alive);
    p.deadline = now + ATTEMPT_TICKS;
    p.attempts++;
    if (live.length === 0) return;
    const node = live.find((n) => n.id === this.leaderGuess) ?? this.rng.pick(live);
    const input = p.op.input;
    // Any attempt's answer is the operation's: a retry is answered from the exactly-once record.
    const answer = (result: KvResult) => {
      if (this.pending === p) this.complete(result);
    };
    if (input.op === 'get') {
      node.read(encoder.encode(input.key)).then(
        (v) => answer({ value: v === undefined ? null : decoder.decode(v) }),
        () => this.retrySoon(p, now + 1),
      );
      return;
    }
    // Writes go to the leader: a follower answers with its hint, as the store's KV service does.
    const raw = node.raw!;
    if (raw.role !== 'leader') {
      if (raw.lead !== 0) this.leaderGuess = raw.lead;
      p.deadline = now + 1;
      return;
    }
    node.write(command(input, p.requestId, p.ts, p.attempts > 1)).then(
      (res) => {
        assert(!res.stale, () => `client ${this.index}: the simulator's one range refused a key as not its own`);
        // Nothing applied: the key has a record at or above the timestamp. A fresh one, as the gateway takes.
        if (res.result.kind === 'tsTooOld') {
          if (this.pending !== p) return;
          p.ts = this.tso!();
          this.attempt(now);
          return;
        }
        answer(result(input, res));
      },
      (err: unknown) => {
        if (err instanceof NotLeaderError && err.leaderStore !== 0) this.leaderGuess = replicaIdFor(err.leaderStore, 1);
        this.retrySoon(p, now + 1);
      },
    );
  }

  private retrySoon(p: Pending, at: number): void {
    if (this.pending === p) p.deadline = Math.min(p.deadline, at);
  }

  private complete(result: KvResult): void {
    const p = this.pending!;
    p.op.output = result;
    p.op.ret = this.stamp();
    this.pending = undefined;
  }
}

/** The `/kv` write as the store's KV service builds it (the leader stamps its read floor when it proposes). */
function command(input: Exclude<KvCommand, { op: 'get' }>, requestId: string, ts: Timestamp, retry: boolean): CommandEntry<TxnCommand> {
  const key = encoder.encode(input.key);
  const write = { kind: 'kvWrite', key, ts, floor: 0n } as const;
  switch (input.op) {
    case 'put':
      return { requestId, retry, cmd: { ...write, op: 'put', value: encoder.encode(input.value), expect: undefined } };
    case 'delete':
      return { requestId, retry, cmd: { ...write, op: 'delete', value: undefined, expect: undefined } };
    case 'cas':
      return { requestId, retry, cmd: { ...write, op: 'cas', value: input.value === null ? undefined : encoder.encode(input.value), expect: input.expect === null ? undefined : encoder.encode(input.expect) } };
  }
}

function result(input: KvCommand, res: EntryResult<TxnResult> & { stale: false }): KvResult {
  const r = res.result;
  assert(r.kind === 'ok' || r.kind === 'casFailed', () => `a /kv write answered ${r.kind}`);
  if (input.op !== 'cas') return { ok: true };
  return { ok: r.kind === 'ok', current: r.current === undefined ? null : decoder.decode(r.current) };
}
