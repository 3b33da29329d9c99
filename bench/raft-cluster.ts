/**
 * A 3-node cluster of the real Raft core for benchmarks: messages are handed
 * over in memory; each node persists its Ready through a pluggable `persist`
 * (nothing, or a synced LevelDB batch) before sending, as the Ready contract
 * demands. One "round" = every node handles one Ready; messages sent in a
 * round arrive in the next, so commit latency is counted in rounds (ticks).
 */
import type { Message, RaftStorage, Ready } from '../src/raft/index.js';
import { DEFAULT_CONFIG, RawNode } from '../src/raft/index.js';
import { SeededRng } from '../src/runtime/index.js';

export interface BenchNode {
  readonly id: number;
  readonly raw: RawNode;
  /** Makes the Ready durable (and updates the storage the core reads). */
  persist(rd: Ready): Promise<void> | void;
  close?: () => Promise<void>;
}

export type NodeFactory = (id: number, voters: number[]) => Promise<{ storage: RaftStorage; persist: (rd: Ready) => Promise<void> | void; close?: () => Promise<void> }>;

export interface RunResult {
  readonly proposals: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Rounds: number;
  readonly p99Rounds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly readies: number;
}

export async function buildCluster(factory: NodeFactory): Promise<BenchNode[]> {
  const voters = [1, 2, 3];
  const nodes: BenchNode[] = [];
  for (const id of voters) {
    const { storage, persist, close } = await factory(id, voters);
    const raw = new RawNode({ ...DEFAULT_CONFIG, id, applied: 0, maxSizePerMsg: 1 << 20, maxInflightMsgs: 64 }, storage, new SeededRng(id));
    nodes.push({ id, raw, persist, close });
  }
  return nodes;
}

/**
 * Runs a closed loop keeping `window` proposals in flight for `seconds`.
 * Returns throughput and commit latency (proposal to applied on the leader).
 */
export async function runLoad(nodes: BenchNode[], payloadBytes: number, seconds: number, window: number, now: () => number): Promise<RunResult> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let inbox: Message[] = [];
  let round = 0;
  let readies = 0;
  // Elect node 1.
  nodes[0].raw.campaign();
  for (let i = 0; i < 20; i++) inbox = await runRound(nodes, byId, inbox, () => {}, () => readies++);
  const leader = nodes[0];
  if (leader.raw.status().role !== 'leader') throw new Error('bench: node 1 did not become leader');

  const payload = new Uint8Array(payloadBytes).fill(7);
  const pending = new Map<number, { round: number; at: number }>(); // index -> submission
  const roundLat: number[] = [];
  const msLat: number[] = [];
  let committed = 0;
  const start = now();
  const end = start + seconds * 1000;
  while (now() < end) {
    const room = window - pending.size;
    if (room > 0) {
      const batch = new Array<Uint8Array>(room).fill(payload);
      const r = leader.raw.proposeBatch(batch);
      if (r.kind !== 'ok') throw new Error(`bench: proposal failed: ${r.kind}`);
      const t = now();
      for (let i = r.index - room + 1; i <= r.index; i++) pending.set(i, { round, at: t });
    }
    inbox = await runRound(
      nodes,
      byId,
      inbox,
      (id, index) => {
        if (id !== leader.id) return;
        const p = pending.get(index);
        if (!p) return;
        pending.delete(index);
        committed++;
        roundLat.push(round - p.round);
        msLat.push(now() - p.at);
      },
      () => readies++,
    );
    round++;
  }
  const secs = (now() - start) / 1000;
  return {
    proposals: committed,
    seconds: secs,
    perSecond: committed / secs,
    p50Rounds: percentile(roundLat, 0.5),
    p99Rounds: percentile(roundLat, 0.99),
    p50Ms: percentile(msLat, 0.5),
    p99Ms: percentile(msLat, 0.99),
    readies,
  };
}

/** Every node handles one Ready concurrently (persist, then send, then apply); returns the messages sent. */
async function runRound(
  nodes: BenchNode[],
  byId: Map<number, BenchNode>,
  inbox: Message[],
  onApplied: (id: number, index: number) => void,
  onReady: () => void,
): Promise<Message[]> {
  for (const m of inbox) byId.get(m.to)!.raw.step(m);
  const out: Message[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      if (!n.raw.hasReady()) return;
      const rd = n.raw.ready();
      onReady();
      await n.persist(rd);
      for (const m of rd.messages) out.push(m);
      for (const e of rd.committedEntries) onApplied(n.id, e.index);
      n.raw.advance(rd);
    }),
  );
  return out;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
