/**
 * The host's handle on one Raft node (etcd's rawnode.go): feed it time,
 * messages and requests; collect a Ready; persist, send, apply; advance.
 * See `Ready` in types.ts for the order the host must follow.
 */
import type { LogIndex, NodeId, Rng, Term } from '../common/index.js';
import type { ConfChange } from './conf-change.js';
import type { ProposeResult } from './raft.js';
import { Raft } from './raft.js';
import type { RaftStorage } from './storage.js';
import type { ConfState, HardState, Message, RaftConfig, Ready, Role, SoftState } from './types.js';

export interface Status {
  readonly id: NodeId;
  readonly term: Term;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly role: Role;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly lastIndex: LogIndex;
  readonly conf: ConfState;
  /** Leader only: each member's match index. */
  readonly progress: ReadonlyMap<NodeId, { match: LogIndex; next: LogIndex; state: string }>;
  /** Leader only: the node leadership is being handed to (0: none). */
  readonly leadTransferee: NodeId;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(cfg: RaftConfig, storage: RaftStorage, rng: Rng) {
    this.raft = new Raft(cfg, storage, rng);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  /** Cheap accessors for hot paths (status() allocates). */
  get role(): Role {
    return this.raft.role;
  }

  get lead(): NodeId {
    return this.raft.lead;
  }

  get term(): Term {
    return this.raft.term;
  }

  get lastIndex(): LogIndex {
    return this.raft.log.lastIndex();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (used at bootstrap and by tests). */
  campaign(): void {
    this.raft.hup(false);
  }

  /** Delivers a message from a peer. Messages to other nodes are ignored. */
  step(m: Message): void {
    if (m.to !== this.raft.id) return;
    this.raft.step(m);
  }

  /** Appends one or many commands (one batch); the result says where they landed, or who leads. */
  propose(...datas: Uint8Array[]): ProposeResult {
    return this.raft.propose(datas);
  }

  proposeBatch(datas: readonly Uint8Array[]): ProposeResult {
    return this.raft.propose(datas);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc);
  }

  transferLeader(to: NodeId): void {
    this.raft.transferLeader(to);
  }

  /**
   * Leader: sends every follower the commit index at the next Ready instead of
   * with the next append or heartbeat (commitBroadcast 'lazy'), for an entry
   * whose apply on the followers must not wait, like a split.
   */
  broadcastCommit(): void {
    this.raft.broadcastCommit();
  }

  /** Lease reads: the host stopped ticking this node for a while (see Raft.dropLease). */
  dropLease(): void {
    this.raft.dropLease();
  }

  /** Requests a read index; the answer arrives as a ReadState carrying `ctx` (unique per request). */
  readIndex(ctx: Uint8Array): void {
    this.raft.readIndex(ctx);
  }

  /** The index a read may be served at now without a round (a leader within its lease), else undefined. */
  leaseReadIndex(): LogIndex | undefined {
    return this.raft.leaseReadIndex();
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  /** Index of a received snapshot the host has not persisted yet (it was accepted by step), if any. */
  pendingSnapshotIndex(): LogIndex | undefined {
    return this.raft.log.unstableSnapshot()?.meta.index;
  }

  /** Membership in force at `index` (what a snapshot taken at `index` must record). */
  confStateAt(index: LogIndex): ConfState {
    return this.raft.confStateAt(index);
  }

  hasReady(): boolean {
    this.raft.flush();
    const r = this.raft;
    return (
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstableEntries().length > 0 ||
      r.log.unstableSnapshot() !== undefined ||
      r.log.hasNextCommittedEntries() ||
      !sameHard(this.hardState(), this.prevHard) ||
      !sameSoft(this.softState(), this.prevSoft)
    );
  }

  /** Everything to persist, send and apply since the last advance. Call advance() before the next ready(). */
  ready(): Ready {
    this.raft.flush();
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const entries = r.log.unstableEntries().slice();
    const snapshot = r.log.unstableSnapshot();
    const committedEntries = r.log.nextCommittedEntries();
    if (committedEntries.length > 0) r.log.acceptApplying(committedEntries[committedEntries.length - 1].index);
    const hardChanged = !sameHard(hard, this.prevHard);
    const rd: Ready = {
      softState: sameSoft(soft, this.prevSoft) ? undefined : soft,
      hardState: hardChanged ? hard : undefined,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== undefined || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (rd.softState) this.prevSoft = soft;
    if (rd.hardState) this.prevHard = hard;
    return rd;
  }

  /**
   * The host made `rd`'s snapshot, entries and hard state durable. Optional
   * (advance implies it); calling it as soon as the write lands lets a leader
   * count its own log toward commit before the Ready is fully handled.
   */
  persisted(rd: Ready): void {
    const log = this.raft.log;
    if (rd.snapshot) log.stableSnapTo(rd.snapshot.meta.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.raft.onPersisted(last.index, last.term);
    }
  }

  /** The host persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    const log = this.raft.log;
    this.persisted(rd);
    if (rd.snapshot) log.appliedTo(rd.snapshot.meta.index);
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
    // Configurations at or below the applied index can no longer be truncated.
    this.raft.conf.compact(log.applied);
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, { match: LogIndex; next: LogIndex; state: string }>();
    for (const [id, pr] of r.prs) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      conf: r.conf.current(),
      progress,
      leadTransferee: r.leadTransferee,
    };
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}
