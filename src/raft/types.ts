/**
 * The data the Raft core consumes and produces. Everything here is plain data:
 * the host serialises it for the wire and for disk; the core never does.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';

export type EntryType = 'normal' | 'conf';

/**
 * One log entry. `data` of a `normal` entry is opaque to the core (an empty
 * `data` is the leader's no-op); a `conf` entry carries an encoded ConfChange
 * (see conf-change.ts).
 */
export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must survive a crash before any message that depends on it is sent (Raft §5.1, Figure 2). */
export interface HardState {
  readonly term: Term;
  /** The candidate voted for in `term`, or 0. */
  readonly vote: NodeId;
  readonly commit: LogIndex;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/**
 * The membership of a group. Invariant: `voters` and `learners` are disjoint
 * and sorted ascending.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

/** A state-machine image at `meta.index`; `data` is opaque to the core. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** The result of a ReadIndex request: reads for `ctx` may be served once `index` is applied. */
export interface ReadState {
  readonly index: LogIndex;
  readonly ctx: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term (for a PreVote: the term it would campaign in). */
  readonly term: Term;
}

export interface MsgApp extends MessageBase {
  readonly kind: 'app';
  /** Index and term of the entry just before `entries` (the consistency check, Raft §5.3). */
  readonly index: LogIndex;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

export interface MsgAppResp extends MessageBase {
  readonly kind: 'appResp';
  /** Accepted: the last index now matching the leader. Rejected: the `index` of the rejected MsgApp. */
  readonly index: LogIndex;
  readonly reject: boolean;
  /**
   * On reject, a hint for fast backtracking: the largest index <= the rejected
   * index whose term is <= the rejected logTerm, and that term. The leader can
   * skip every entry above it (etcd's findConflictByTerm).
   */
  readonly rejectHint: LogIndex;
  readonly hintTerm: Term;
}

export interface MsgVote extends MessageBase {
  readonly kind: 'vote' | 'preVote';
  readonly index: LogIndex;
  readonly logTerm: Term;
  /** Set when campaigning on a leader's TimeoutNow: bypasses the leader-lease check. */
  readonly transfer: boolean;
}

export interface MsgVoteResp extends MessageBase {
  readonly kind: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

export interface MsgHeartbeat extends MessageBase {
  readonly kind: 'heartbeat';
  /** min(leader commit, follower match): a follower never commits past what it is known to hold. */
  readonly commit: LogIndex;
  /** ReadIndex context the leader wants acknowledged, or empty. */
  readonly ctx: Uint8Array;
}

export interface MsgHeartbeatResp extends MessageBase {
  readonly kind: 'heartbeatResp';
  readonly ctx: Uint8Array;
}

export interface MsgSnap extends MessageBase {
  readonly kind: 'snap';
  readonly snapshot: Snapshot;
}

export interface MsgTimeoutNow extends MessageBase {
  readonly kind: 'timeoutNow';
}

/** A follower asking the leader for a read index (on behalf of its client). */
export interface MsgReadIndex extends MessageBase {
  readonly kind: 'readIndex';
  readonly ctx: Uint8Array;
}

export interface MsgReadIndexResp extends MessageBase {
  readonly kind: 'readIndexResp';
  readonly index: LogIndex;
  readonly ctx: Uint8Array;
}

/** A follower forwarding a transfer-leader request to its leader. */
export interface MsgTransferLeader extends MessageBase {
  readonly kind: 'transferLeader';
  readonly target: NodeId;
}

/** Every message one Raft node sends another. Validated at the wire boundary, trusted after. */
export type Message =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgTimeoutNow
  | MsgReadIndex
  | MsgReadIndexResp
  | MsgTransferLeader;

export type MessageKind = Message['kind'];

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state worth telling the host about (not persisted). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/**
 * Everything the core wants done, collected since the last `advance()`.
 *
 * The host MUST, in this order:
 *  1. persist `snapshot` (if any), then `entries`, then `hardState`, durably
 *     (fsync) when `mustSync` — in one atomic batch;
 *  2. only then send `messages` (a vote or an append acknowledgement promises
 *     the receiver something that must survive a crash of the sender);
 *  3. apply `snapshot` and then `committedEntries` to the state machine, in order;
 *  4. call `advance(ready)`.
 * A crash between 1 and 4 is safe: the core reloads from storage on restart.
 *
 * Exception to 2: messages for which `sendableBeforePersist` holds (a leader's
 * appends, heartbeats and snapshots) may go out before step 1 completes, so the
 * leader's fsync overlaps its followers' (Raft dissertation §10.2.1). That is
 * safe because a leader counts its own log toward commit only after the host
 * reports it durable (RawNode.persisted / advance).
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** False when only the commit index moved: losing that on a crash is harmless (Raft §5.3). */
  readonly mustSync: boolean;
}

/** Tuning and identity of one Raft node. All durations are in ticks. */
export interface RaftConfig {
  readonly id: NodeId;
  /** Base election timeout; the effective one is drawn uniformly from [electionTick, 2*electionTick). */
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Max bytes of entry data in one MsgApp (at least one entry is always sent). */
  readonly maxSizePerMsg: number;
  /** Max MsgApp in flight to one follower in the replicate state (the pipelining window). */
  readonly maxInflightMsgs: number;
  /** Max bytes of committed entries handed out in one Ready (bounds apply batches). */
  readonly maxCommittedSizePerReady: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /**
   * 'safe': ReadIndex confirms leadership with a heartbeat round.
   * 'lease': the leader answers without a round trip while its lease holds:
   * until electionTick - 2 ticks after sending the last heartbeat a quorum
   * acknowledged (followers refuse votes for electionTick ticks after hearing
   * from it; a node that just started refuses them for electionTick ticks too).
   * A lease runs out at most electionTick - 2 of the leader's tick periods
   * after that send, and a follower votes no sooner than electionTick - 1 of
   * its own after hearing it (its first tick may come at once): so it assumes
   * a leader's tick period is less than (electionTick - 1) / (electionTick - 2)
   * times a follower's (9/8 at electionTick 10, 12.5 %) and no node's ticks
   * stall longer than that (a paused leader must not
   * resume serving from an old lease); needs checkQuorum. ReadIndex contexts
   * must not be 9 bytes starting with 0xff (the lease heartbeat's own context).
   */
  readonly readOnly: 'safe' | 'lease';
  /**
   * 'eager' (etcd's way): a leader sends every follower an append, empty if
   * need be, as soon as its commit index moves. 'lazy': the new commit index
   * rides the next append or heartbeat (at most heartbeatTick later), so a
   * follower applies in the turn that persists its next entries and a write
   * costs no commit-only round of messages, follower turns and replies. Still
   * sent at once: to a follower after its ReadIndex, to a node a conf change
   * removes (before it leaves), and on RawNode.broadcastCommit.
   */
  readonly commitBroadcast: 'eager' | 'lazy';
  /** Index up to which the host has applied (on restart, usually the snapshot index or the persisted apply index). */
  readonly applied: LogIndex;
}

export const DEFAULT_CONFIG: Omit<RaftConfig, 'id' | 'applied'> = {
  electionTick: 10,
  heartbeatTick: 1,
  maxSizePerMsg: 1 << 20,
  maxInflightMsgs: 256,
  maxCommittedSizePerReady: 16 << 20,
  preVote: true,
  checkQuorum: true,
  readOnly: 'safe',
  commitBroadcast: 'eager',
};

/** See the Ready contract: these carry nothing that depends on the sender's unpersisted state. */
export function sendableBeforePersist(m: Message): boolean {
  return m.kind === 'app' || m.kind === 'heartbeat' || m.kind === 'snap';
}
