/**
 * The safety properties of Raft (Figure 3 of the paper), checked as the
 * simulation runs. Each check throws a SafetyViolation naming the property.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type { Entry } from '../raft/index.js';
import type { SimNode } from './sim-node.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SafetyChecker {
  /** Election Safety: at most one leader per term. */
  private readonly leaders = new Map<Term, NodeId>();
  /** Entries known committed (applied by some node), by index. */
  private readonly committed = new Map<LogIndex, Entry>();
  private maxCommitted: LogIndex = 0;

  /** Election Safety (§5.2). */
  leaderElected(node: SimNode, term: Term): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node.id) {
      throw new SafetyViolation(`Election Safety: nodes ${prev} and ${node.id} both leaders in term ${term}`);
    }
    this.leaders.set(term, node.id);
    this.checkLeaderCompleteness(node);
  }

  /**
   * Leader Completeness (§5.4): a leader's log holds every committed entry.
   * Entries the leader compacted are covered by its snapshot.
   */
  checkLeaderCompleteness(node: SimNode): void {
    const disk = node.log!;
    if (disk.lastIndex() < this.maxCommitted && node.raw!.status().lastIndex < this.maxCommitted) {
      throw new SafetyViolation(`Leader Completeness: leader ${node.id} log ends at ${node.raw!.status().lastIndex}, committed ${this.maxCommitted}`);
    }
    const from = disk.firstIndex();
    for (let i = from; i <= Math.min(this.maxCommitted, disk.lastIndex()); i++) {
      const c = this.committed.get(i);
      if (c && disk.term(i) !== c.term) {
        throw new SafetyViolation(`Leader Completeness: leader ${node.id} has term ${disk.term(i)} at ${i}, committed term ${c.term}`);
      }
    }
  }

  /** State Machine Safety (§5.4.3): no two nodes apply different entries at one index. */
  applied(node: SimNode, e: Entry): void {
    const prev = this.committed.get(e.index);
    if (!prev) {
      this.committed.set(e.index, e);
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
      return;
    }
    if (prev.term !== e.term || prev.type !== e.type || !sameBytes(prev.data, e.data)) {
      throw new SafetyViolation(`State Machine Safety: node ${node.id} applied term ${e.term} at ${e.index}, another applied term ${prev.term}`);
    }
  }

  /**
   * Log Matching (§5.3), checked inductively as entries are persisted: if
   * another node holds an entry with the same index and term, the entries are
   * identical and so are their predecessors' terms.
   */
  persisted(node: SimNode, entries: readonly Entry[], others: Iterable<SimNode>): void {
    const log = node.log!;
    for (const other of others) {
      const od = other.log;
      if (other === node || !od) continue;
      for (const e of entries) {
        if (od.term(e.index) !== e.term) continue;
        const oe = od.entries(e.index, e.index + 1, Infinity)?.[0];
        if (oe && (oe.type !== e.type || !sameBytes(oe.data, e.data))) {
          throw new SafetyViolation(`Log Matching: nodes ${node.id} and ${other.id} differ at ${e.index} term ${e.term}`);
        }
        const a = log.term(e.index - 1);
        const b = od.term(e.index - 1);
        if (a !== undefined && b !== undefined && a !== b) {
          throw new SafetyViolation(`Log Matching: nodes ${node.id} and ${other.id} agree at ${e.index} but differ at ${e.index - 1} (${a} vs ${b})`);
        }
      }
    }
  }

  get committedCount(): number {
    return this.maxCommitted;
  }
}
