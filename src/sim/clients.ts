/**
 * Simulated clients: each runs one operation at a time against the cluster,
 * retrying on timeouts and wrong leaders with the same session sequence number
 * (so a write applies at most once), and records a history for the
 * linearizability checker.
 */
import type { NodeId } from '../common/index.js';
import type { SeededRng } from '../runtime/index.js';
import type { KvCommand, KvResult } from './kv-state-machine.js';
import { encodeEnvelope } from './kv-state-machine.js';
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
  readonly seq: number;
  /** Tick after which the current attempt is abandoned and retried elsewhere. */
  deadline: number;
  /** Context of the current read attempt (reads are retried under a new context). */
  readCtx: string;
  attempts: number;
}

const KEYS = ['a', 'b', 'c'];
const encoder = new TextEncoder();
const ATTEMPT_TICKS = 30;

export class SimClient {
  readonly name: string;
  private seq = 0;
  private pending: Pending | undefined;
  private leaderGuess: NodeId = 0;

  constructor(
    readonly index: number,
    private readonly rng: SeededRng,
    private readonly clock: () => number,
    private readonly nodes: () => readonly SimNode[],
    private readonly history: HistoryOp[],
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
    const op: HistoryOp = { clientId: this.index, input, output: undefined, call: this.clock(), ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    this.pending = { op, seq: ++this.seq, deadline: 0, readCtx: '', attempts: 0 };
    this.attempt(now);
  }

  /** Retries an operation whose attempt timed out. */
  tick(now: number): void {
    if (this.pending && now >= this.pending.deadline) this.attempt(now);
  }

  private attempt(now: number): void {
    const p = this.pending!;
    const live = this.nodes().filter((n) => n.alive);
    p.deadline = now + ATTEMPT_TICKS;
    p.attempts++;
    if (live.length === 0) return;
    const guess = live.find((n) => n.id === this.leaderGuess);
    const node = guess ?? this.rng.pick(live);
    const raw = node.raw!;
    if (p.op.input.op === 'get' && this.rng.chance(0.8)) {
      // Linearizable read by ReadIndex, at whatever node we picked (followers forward).
      p.readCtx = `${this.name}/${p.seq}/${p.attempts}`;
      raw.readIndex(encoder.encode(p.readCtx));
      return;
    }
    p.readCtx = '';
    const res = raw.propose(encodeEnvelope({ client: this.name, seq: p.seq, cmd: p.op.input }));
    if (res.kind === 'notLeader') {
      this.leaderGuess = res.leader;
      p.deadline = now + 1;
    } else if (res.kind === 'rejected') {
      p.deadline = now + 2;
    }
  }

  /** A command of this client was applied somewhere (possibly a duplicate of an earlier attempt). */
  onApplied(seq: number, result: KvResult): void {
    const p = this.pending;
    if (!p || p.seq !== seq) return;
    this.complete(result);
  }

  onReadReady(ctx: string, node: SimNode): void {
    const p = this.pending;
    if (!p || ctx !== p.readCtx || p.op.input.op !== 'get') return;
    this.leaderGuess = node.raw!.status().lead;
    this.complete({ value: node.sm!.read(p.op.input.key) });
  }

  private complete(result: KvResult): void {
    const p = this.pending!;
    p.op.output = result;
    p.op.ret = this.clock();
    this.pending = undefined;
  }
}
