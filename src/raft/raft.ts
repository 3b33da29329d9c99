/**
 * The Raft state machine of one node (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", and Ongaro's dissertation), shaped like
 * etcd-io/raft's raft.go: `step` does the role-independent work, then
 * dispatches to the role's step function; outputs (messages, read states) are
 * accumulated and handed out by RawNode, never performed here.
 *
 * Pure: no I/O, no clocks, no timers; randomness only from the Rng handed in.
 */
import { assert, assertNever } from '../common/index.js';
import type { LogIndex, NodeId, Rng, Term } from '../common/index.js';
import type { ConfChange } from './conf-change.js';
import { ConfHistory, decodeConfChange, encodeConfChange, validateConfChange } from './conf-change.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import type { RaftStorage } from './storage.js';
import type { ConfState, Entry, Message, MsgApp, MsgHeartbeat, MsgSnap, MsgVote, RaftConfig, ReadState, Role, Snapshot } from './types.js';

export type ProposeResult =
  | { readonly kind: 'ok'; readonly index: LogIndex; readonly term: Term }
  | { readonly kind: 'notLeader'; readonly leader: NodeId }
  | { readonly kind: 'rejected'; readonly reason: string };

const EMPTY = new Uint8Array(0);
/** Ticks of clock drift between nodes a lease tolerates per election timeout. */
const LEASE_MARGIN = 2;
/** Heartbeat context of a lease round: a marker byte no ReadIndex context starts with, and the send tick. */
const LEASE_CTX_MARKER = 0xff;

function encodeLeaseCtx(tick: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = LEASE_CTX_MARKER;
  new DataView(out.buffer).setFloat64(1, tick);
  return out;
}

function decodeLeaseCtx(ctx: Uint8Array): number | undefined {
  if (ctx.length !== 9 || ctx[0] !== LEASE_CTX_MARKER) return undefined;
  return new DataView(ctx.buffer, ctx.byteOffset, 9).getFloat64(1);
}

export class Raft {
  readonly id: NodeId;
  term: Term = 0;
  vote: NodeId = 0;
  /** The leader of `term` as far as we know, or 0. */
  lead: NodeId = 0;
  role: Role = 'follower';
  readonly log: RaftLog;
  readonly conf: ConfHistory;
  /** Leader only: one Progress per member of the current configuration (and self). */
  readonly prs = new Map<NodeId, Progress>();
  /** Outputs since the last Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  private readonly cfg: RaftConfig;
  private readonly rng: Rng;
  private readonly votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnlyQueue();
  /** Leader: ReadIndex requests waiting for the first commit of this term. */
  private pendingReads: { ctx: Uint8Array; from: NodeId }[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Leader: the node leadership is being handed to, or 0. */
  leadTransferee: NodeId = 0;
  /** Leader: index of this term's first entry (the no-op); committing it unlocks conf changes and reads. */
  private termStartIndex: LogIndex = 0;
  /** Leader: new entries, or a new commit index ('eager' commitBroadcast), are waiting to be broadcast at the next flush. */
  private bcastPending = false;
  /** Ticks since this node started: the clock of lease reads. */
  private ticks = 0;
  /** Lease acknowledgements of heartbeats sent at or before this tick do not count (see dropLease). */
  private leaseFloorTick = -Infinity;

  constructor(cfg: RaftConfig, storage: RaftStorage, rng: Rng) {
    assert(cfg.id > 0, 'raft id must be positive');
    assert(cfg.heartbeatTick > 0 && cfg.electionTick > cfg.heartbeatTick, 'electionTick must exceed heartbeatTick');
    assert(cfg.readOnly === 'safe' || cfg.checkQuorum, 'lease reads need checkQuorum');
    this.id = cfg.id;
    this.cfg = cfg;
    this.rng = rng;
    this.log = new RaftLog(storage, cfg.maxCommittedSizePerReady);
    const { hardState, confState } = storage.initialState();
    const snapIndex = storage.snapshot().meta.index;
    this.conf = new ConfHistory(snapIndex, confState);
    // Conf entries after the snapshot are in force (storage may keep a tail of older entries too).
    const from = Math.max(storage.firstIndex(), snapIndex + 1);
    this.trackConfEntries(storage.entries(from, storage.lastIndex() + 1, Infinity) ?? []);
    if (hardState.commit > 0) this.log.commitTo(hardState.commit);
    if (cfg.applied > 0) this.log.appliedTo(cfg.applied);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.becomeFollower(this.term, 0);
  }

  // ---- roles --------------------------------------------------------------

  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTick + this.rng.int(this.cfg.electionTick);
    this.leadTransferee = 0;
    this.votes.clear();
    this.readOnly.reset();
    this.pendingReads = [];
    this.prs.clear();
    this.bcastPending = false;
  }

  becomeFollower(term: Term, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote (Raft dissertation §9.6):
    // a node that cannot win disturbs nobody.
    this.votes.clear();
    this.lead = 0;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const last = this.log.lastIndex();
    for (const id of this.members()) this.prs.set(id, this.newProgress(id, last + 1));
    // Our own log counts toward commit only as far as it is durable (see onPersisted).
    this.prs.get(this.id)!.match = this.log.stableLastIndex();
    // Raft §5.4.2 / §8: a new leader commits a no-op of its own term, which
    // commits everything before it and unlocks reads and conf changes.
    this.termStartIndex = last + 1;
    this.appendEntries([{ term: this.term, index: last + 1, type: 'normal', data: EMPTY }]);
  }

  private newProgress(id: NodeId, next: LogIndex): Progress {
    const pr = new Progress(next, this.cfg.maxInflightMsgs, Infinity, !this.conf.current().voters.includes(id));
    pr.recentActive = id === this.id;
    return pr;
  }

  private members(): NodeId[] {
    const c = this.conf.current();
    const ids = [...c.voters, ...c.learners];
    if (!ids.includes(this.id)) ids.push(this.id);
    return ids;
  }

  /** Only a voter of the current configuration may start an election. */
  promotable(): boolean {
    return this.conf.current().voters.includes(this.id);
  }

  // ---- time ---------------------------------------------------------------

  tick(): void {
    this.ticks++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.checkQuorumActive()) {
        // Raft dissertation §6.2: a leader that cannot reach a majority steps down.
        this.becomeFollower(this.term, 0);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned. Followers acknowledged
      // its heartbeats without promising their votes (the transferee campaigns at once): no lease on them.
      if (this.leadTransferee !== 0) this.dropLease();
      this.leadTransferee = 0;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPendingCtx() ?? EMPTY);
    }
  }

  private checkQuorumActive(): boolean {
    const voters = this.conf.current().voters;
    const ok = hasQuorum(voters, (id) => id === this.id || this.prs.get(id)?.recentActive === true);
    for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
    return ok;
  }

  // ---- elections ----------------------------------------------------------

  /** Starts an election (a pre-vote first, unless `transfer`: the leader asked us to take over). */
  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.cfg.preVote && !transfer) this.campaign('preVote', false);
    else this.campaign('vote', transfer);
  }

  private campaign(kind: 'vote' | 'preVote', transfer: boolean): void {
    let voteTerm: Term;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === 'won') return;
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const to of this.conf.current().voters) {
      if (to === this.id) continue;
      this.send({ kind, from: this.id, to, term: voteTerm, index, logTerm, transfer });
    }
  }

  /** Records a vote and acts on the outcome. */
  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    const result = voteResult(this.conf.current().voters, this.votes);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('vote', false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, 0);
    }
    return result;
  }

  // ---- messages -----------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.kind === 'vote' || m.kind === 'preVote') {
        // Raft dissertation §4.2.3 / §9.6: while we hear from a live leader,
        // ignore elections (protects against removed or partitioned nodes),
        // unless the leader itself handed over leadership.
        const inLease =
          (this.cfg.checkQuorum && this.lead !== 0 && this.electionElapsed < this.cfg.electionTick) ||
          // With lease reads, a node that just (re)started may have acknowledged a leader's
          // heartbeat before it crashed: it keeps that promise for one election timeout.
          (this.cfg.readOnly === 'lease' && this.ticks < this.cfg.electionTick);
        if (inLease && !m.transfer) return;
      }
      if (m.kind === 'preVote' || (m.kind === 'preVoteResp' && !m.reject)) {
        // A pre-vote (or a grant of ours) does not move terms: the term in it is only hypothetical.
      } else if (m.kind === 'app' || m.kind === 'heartbeat' || m.kind === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, 0);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.kind === 'app' || m.kind === 'heartbeat')) {
        // A stale leader (e.g. healed from a partition) would otherwise never
        // learn our term: with PreVote/CheckQuorum nobody campaigns against it.
        this.send({ kind: 'appResp', from: this.id, to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, hintTerm: 0 });
      } else if (m.kind === 'preVote') {
        this.send({ kind: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.kind === 'vote' || m.kind === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
      default:
        assertNever(this.role, 'role');
    }
  }

  private handleVoteRequest(m: MsgVote): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === 0 && this.lead === 0) ||
      // A pre-vote for a future term: we have not voted in that term yet.
      (m.kind === 'preVote' && m.term > this.term);
    const respKind = m.kind === 'vote' ? 'voteResp' : 'preVoteResp';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The grant carries the candidate's term so it is not discarded as stale.
      this.send({ kind: respKind, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.kind === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ kind: respKind, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.kind) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        break;
      case 'timeoutNow':
        // The leader hands over: campaign now, skipping the pre-vote.
        this.hup(true);
        break;
      case 'transferLeader':
        if (this.lead !== 0) this.send({ ...m, to: this.lead });
        break;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, ctx: m.ctx });
        break;
      default:
        // Responses meant for a leader or candidate we no longer are: stale.
        break;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.kind) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        break;
      case 'voteResp':
      case 'preVoteResp':
        if ((m.kind === 'voteResp') === (this.role === 'candidate')) this.poll(m.from, !m.reject);
        break;
      default:
        break;
    }
  }

  // ---- follower side of replication -----------------------------------------

  private handleAppend(m: MsgApp): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit is known to match; tell the leader where we are.
      this.sendAppResp(m.from, this.log.committed);
      return;
    }
    const res = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (res) {
      if (res.conflict !== 0) {
        this.conf.truncateFrom(res.conflict);
        this.trackConfEntries(m.entries.slice(res.conflict - (m.index + 1)));
      }
      this.sendAppResp(m.from, res.lastNew);
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ kind: 'appResp', from: this.id, to: m.from, term: this.term, index: m.index, reject: true, rejectHint: hint.index, hintTerm: hint.term });
  }

  private sendAppResp(to: NodeId, index: LogIndex): void {
    this.send({ kind: 'appResp', from: this.id, to, term: this.term, index, reject: false, rejectHint: 0, hintTerm: 0 });
  }

  private handleHeartbeat(m: MsgHeartbeat): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ kind: 'heartbeatResp', from: this.id, to: m.from, term: this.term, ctx: m.ctx });
  }

  private handleSnapshot(m: MsgSnap): void {
    if (this.restore(m.snapshot)) this.sendAppResp(m.from, this.log.lastIndex());
    else this.sendAppResp(m.from, this.log.committed);
  }

  /** Installs a leader's snapshot unless our log already covers it. */
  private restore(snap: Snapshot): boolean {
    const { index, term } = snap.meta;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We hold the entry: the snapshot only tells us it is committed.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snap);
    this.conf.restore(index, snap.meta.conf);
    return true;
  }

  /** Records the conf entries among newly appended `ents` (their config is in force at once). */
  private trackConfEntries(ents: readonly Entry[]): void {
    for (const e of ents) if (e.type === 'conf') this.conf.push(e.index, decodeConfChange(e.data));
  }

  // ---- leader -----------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.kind) {
      case 'appResp':
        this.handleAppResp(m.from, m.index, m.reject, m.rejectHint, m.hintTerm);
        break;
      case 'heartbeatResp':
        this.handleHeartbeatResp(m.from, m.ctx);
        break;
      case 'transferLeader':
        this.transferLeader(m.target);
        break;
      case 'readIndex':
        this.readIndex(m.ctx, m.from);
        break;
      default:
        break;
    }
  }

  private handleAppResp(from: NodeId, index: LogIndex, reject: boolean, rejectHint: LogIndex, hintTerm: Term): void {
    const pr = this.prs.get(from);
    if (!pr) return;
    pr.recentActive = true;
    if (reject) {
      // Fast backtracking: skip every index whose term the follower cannot hold.
      let next = rejectHint;
      if (hintTerm > 0) next = this.log.findConflictByTerm(rejectHint, hintTerm).index;
      if (pr.maybeDecrTo(index, next)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(index);

    if (this.maybeCommit()) {
      this.bcastPending = true;
    } else if (wasPaused) {
      this.sendAppend(from, false);
    }
    // Keep the pipeline full.
    while (this.sendAppend(from, false)) {
      /* sent one more window slot */
    }
    if (from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(from);
  }

  private handleHeartbeatResp(from: NodeId, ctx: Uint8Array): void {
    const pr = this.prs.get(from);
    if (!pr) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // A lost MsgApp would otherwise leave a full window stuck forever.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(from, true);
    const leaseTick = decodeLeaseCtx(ctx);
    if (leaseTick !== undefined) {
      // An acknowledgement that arrives after the lease was dropped does not bring it back.
      if (leaseTick > this.leaseFloorTick) pr.leaseAckTick = Math.max(pr.leaseAckTick, leaseTick);
      return;
    }
    if (ctx.length === 0) return;
    const acks = this.readOnly.recvAck(from, ctx);
    if (!acks || !hasQuorum(this.conf.current().voters, (id) => id === this.id || acks.has(id))) return;
    for (const req of this.readOnly.advance(ctx)) this.answerRead(req.ctx, req.from, req.index);
  }

  /** Advances the commit index to what a majority holds; returns whether the followers must hear of it at once. */
  private maybeCommit(): boolean {
    const voters = this.conf.current().voters;
    const mci = committedIndex(voters, (id) => this.prs.get(id)?.match ?? 0);
    if (!this.log.maybeCommit(Math.min(mci, this.log.lastIndex()), this.term)) return false;
    if (this.log.committed >= this.termStartIndex && this.pendingReads.length > 0) {
      const reads = this.pendingReads;
      this.pendingReads = [];
      for (const r of reads) this.readIndex(r.ctx, r.from);
    }
    return this.cfg.commitBroadcast === 'eager';
  }

  /** Called after a flush: a leader whose removal has committed hands over and steps down. */
  private maybeStepDownAfterRemoval(): void {
    if (this.role !== 'leader' || this.promotable()) return;
    if (this.log.committed < this.conf.currentIndex()) return;
    // Hand over to the most caught-up voter so the group does not wait an election timeout.
    let best: NodeId = 0;
    let bestMatch = -1;
    for (const id of this.conf.current().voters) {
      const m = this.prs.get(id)?.match ?? 0;
      if (m > bestMatch) [best, bestMatch] = [id, m];
    }
    if (best !== 0 && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
    this.becomeFollower(this.term, 0);
  }

  /**
   * Sends `to` the entries it lacks (or a snapshot if they are compacted).
   * Returns false if nothing was sent (paused, or nothing new and !sendIfEmpty).
   */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const last = this.log.lastIndex();
    const ents = prevTerm === undefined ? undefined : this.log.slice(pr.next, last + 1, this.cfg.maxSizePerMsg);
    if (prevTerm === undefined || ents === undefined) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    const msg: MsgApp = { kind: 'app', from: this.id, to, term: this.term, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed };
    this.send(msg);
    if (ents.length > 0) {
      let bytes = 0;
      for (const e of ents) bytes += e.data.byteLength;
      pr.sentEntries(ents[ents.length - 1].index, bytes);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a follower we heard from recently: a dead one would just waste the transfer.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    assert(snapshot.meta.index > 0, 'entries compacted but no snapshot');
    this.send({ kind: 'snap', from: this.id, to, term: this.term, snapshot });
    pr.becomeSnapshot(snapshot.meta.index);
    return true;
  }

  private bcastHeartbeat(ctx: Uint8Array): void {
    // A plain heartbeat of a lease-reading leader carries its send tick, so the
    // replies tell when a quorum last promised not to elect anyone else.
    if (ctx.length === 0 && this.cfg.readOnly === 'lease') ctx = encodeLeaseCtx(this.ticks);
    for (const [to, pr] of this.prs) {
      if (to === this.id) continue;
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ kind: 'heartbeat', from: this.id, to, term: this.term, commit, ctx });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ kind: 'timeoutNow', from: this.id, to, term: this.term });
  }

  /** See RawNode.broadcastCommit. */
  broadcastCommit(): void {
    if (this.role === 'leader') this.bcastPending = true;
  }

  /** Broadcasts what accumulated since the last flush (new entries, a new commit index). */
  flush(): void {
    if (this.role !== 'leader') return;
    if (this.bcastPending) {
      this.bcastPending = false;
      for (const to of this.prs.keys()) {
        // One append (possibly empty, to carry the commit index), then fill the pipeline window.
        if (!this.sendAppend(to, true)) continue;
        while (this.sendAppend(to, false)) {
          /* one more message in flight */
        }
      }
    }
    this.maybeStepDownAfterRemoval();
  }

  private appendEntries(ents: Entry[]): void {
    this.log.append(ents);
    // A node a conf change removes hears nothing more once it leaves prs (now: a configuration
    // takes effect when appended). With a lazy commit broadcast it would never learn that the
    // entries before its removal committed (a split among them would never create its replica
    // of the new range): it gets the commit index, and its removal, now.
    if (this.cfg.commitBroadcast === 'lazy' && ents.some((e) => e.type === 'conf')) for (const to of this.prs.keys()) this.sendAppend(to, true);
    this.trackConfEntries(ents);
    this.syncProgressWithConf();
    // The leader's own copy counts toward commit once the host has persisted it
    // (onPersisted), which lets the host send MsgApp before its own fsync
    // completes (Raft dissertation §10.2.1).
    this.bcastPending = true;
  }

  /** The host made entries up to (index, term) durable. */
  onPersisted(index: LogIndex, term: Term): void {
    this.log.stableTo(index, term);
    if (this.role !== 'leader' || this.log.term(index) !== term) return;
    const self = this.prs.get(this.id);
    if (self && self.maybeUpdate(index) && this.maybeCommit()) this.bcastPending = true;
  }

  /** Leader: adds progress for new members, drops it for removed ones, flags learners. */
  private syncProgressWithConf(): void {
    const conf = this.conf.current();
    const members = new Set(this.members());
    for (const id of [...this.prs.keys()]) if (!members.has(id)) this.prs.delete(id);
    for (const id of members) {
      let pr = this.prs.get(id);
      if (!pr) {
        pr = this.newProgress(id, this.log.lastIndex());
        pr.recentActive = true; // give a new member a chance to receive a snapshot
        this.prs.set(id, pr);
      }
      pr.isLearner = !conf.voters.includes(id);
    }
  }

  // ---- requests from the host ---------------------------------------------------

  propose(datas: readonly Uint8Array[]): ProposeResult {
    if (this.role !== 'leader') return { kind: 'notLeader', leader: this.lead };
    if (this.leadTransferee !== 0) return { kind: 'rejected', reason: 'leadership transfer in progress' };
    const first = this.log.lastIndex() + 1;
    const ents: Entry[] = datas.map((data, i) => ({ term: this.term, index: first + i, type: 'normal', data }));
    this.appendEntries(ents);
    return { kind: 'ok', index: first + ents.length - 1, term: this.term };
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.role !== 'leader') return { kind: 'notLeader', leader: this.lead };
    if (this.leadTransferee !== 0) return { kind: 'rejected', reason: 'leadership transfer in progress' };
    // The fix for single-server changes: first commit an entry of our own term, and
    // never have two conf entries uncommitted at once.
    if (this.log.committed < this.termStartIndex) return { kind: 'rejected', reason: 'leader has not committed an entry of its term yet' };
    if (this.conf.currentIndex() > this.log.committed) return { kind: 'rejected', reason: 'another conf change is pending' };
    const invalid = validateConfChange(this.conf.current(), cc);
    if (invalid) return { kind: 'rejected', reason: invalid };
    const index = this.log.lastIndex() + 1;
    this.appendEntries([{ term: this.term, index, type: 'conf', data: encodeConfChange(cc) }]);
    return { kind: 'ok', index, term: this.term };
  }

  /** Raft dissertation §3.10: hand leadership to `to` once its log is current. */
  transferLeader(to: NodeId): void {
    if (this.role !== 'leader') {
      if (this.lead !== 0) this.send({ kind: 'transferLeader', from: this.id, to: this.lead, term: this.term, target: to });
      return;
    }
    if (to === this.id || !this.conf.current().voters.includes(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    const pr = this.prs.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  /**
   * The index a linearizable read may be served at right now, with no round
   * and no Ready: this node leads, its term's first entry has committed, and
   * its lease holds (or it is the only voter). Undefined otherwise: the read
   * takes the ReadIndex path.
   */
  leaseReadIndex(): LogIndex | undefined {
    if (this.role !== 'leader' || this.log.committed < this.termStartIndex) return undefined;
    const voters = this.conf.current().voters;
    return this.leaseValid() || (voters.length === 1 && voters[0] === this.id) ? this.log.committed : undefined;
  }

  /**
   * Linearizable read without a log write (Raft dissertation §6.4): the read
   * may be served once the host has applied up to the returned index.
   */
  readIndex(ctx: Uint8Array, from: NodeId = this.id): void {
    if (this.role !== 'leader') {
      if (this.lead !== 0 && from === this.id) this.send({ kind: 'readIndex', from: this.id, to: this.lead, term: this.term, ctx });
      return;
    }
    if (this.log.committed < this.termStartIndex) {
      // Our commit index may lag the previous leader's until our no-op commits.
      this.pendingReads.push({ ctx, from });
      return;
    }
    const index = this.log.committed;
    const voters = this.conf.current().voters;
    if (this.leaseValid() || (voters.length === 1 && voters[0] === this.id)) {
      this.answerRead(ctx, from, index);
      return;
    }
    if (!this.readOnly.add(index, ctx, from)) return;
    this.readOnly.recvAck(this.id, ctx);
    this.bcastHeartbeat(ctx);
  }

  /**
   * Raft dissertation §6.4.1. A quorum acknowledged a heartbeat we sent at tick
   * T; each of them then refuses votes until electionTick of its own ticks have
   * passed since receiving it (step: inLease). Assuming tick rates drift apart
   * by less than LEASE_MARGIN ticks per election timeout, nobody else can lead
   * before T + electionTick - LEASE_MARGIN on our clock. No lease during a
   * transfer: the transferee campaigns at once.
   */
  private leaseValid(): boolean {
    if (this.cfg.readOnly !== 'lease' || this.leadTransferee !== 0) return false;
    const voters = this.conf.current().voters;
    const acks = voters.map((id) => (id === this.id ? this.ticks : (this.prs.get(id)?.leaseAckTick ?? -Infinity))).sort((a, b) => b - a);
    const quorumTick = acks[Math.floor(voters.length / 2)];
    return this.ticks < quorumTick + this.cfg.electionTick - LEASE_MARGIN;
  }

  /**
   * Forgets every acknowledgement the lease rests on, and any that arrives
   * later for a heartbeat sent until now: the host stopped ticking this node
   * for a while (quiescence), so its tick count did not follow time, and a
   * lease measured in ticks could outlive the real one; or a transfer was
   * abandoned. Heartbeats sent from the next tick on, acknowledged by a
   * quorum, renew it.
   */
  dropLease(): void {
    for (const pr of this.prs.values()) pr.leaseAckTick = -Infinity;
    this.leaseFloorTick = this.ticks;
  }

  private answerRead(ctx: Uint8Array, from: NodeId, index: LogIndex): void {
    if (from === this.id) this.readStates.push({ index, ctx });
    else {
      this.send({ kind: 'readIndexResp', from: this.id, to: from, term: this.term, index, ctx });
      // The follower answers once it has applied `index`: it needs the commit index now, not at the next heartbeat.
      if (this.cfg.commitBroadcast === 'lazy') this.sendAppend(from, true);
    }
  }

  /** The host could not deliver to `id`: stop pipelining blindly. */
  reportUnreachable(id: NodeId): void {
    const pr = this.role === 'leader' ? this.prs.get(id) : undefined;
    if (pr && pr.state === 'replicate') pr.becomeProbe();
  }

  /** The host finished (or failed) streaming a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.role === 'leader' ? this.prs.get(id) : undefined;
    if (!pr || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's reply (or the next heartbeat) before probing.
    pr.probeSent = true;
  }

  confStateAt(index: LogIndex): ConfState {
    return this.conf.at(index);
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }
}
