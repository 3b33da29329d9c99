/**
 * Membership changes, one server at a time (Raft dissertation §4.1).
 *
 * Why single-server changes and not joint consensus: any two configurations
 * that differ by one voter have overlapping majorities, so no joint phase is
 * needed, and the host needs only one kind of conf entry. A configuration takes
 * effect on every node as soon as its entry is in that node's log (committed
 * or not), and is rolled back if the entry is truncated (see ConfHistory).
 *
 * The known bug of single-server changes (Ongaro, raft-dev 2015: a new leader
 * may append a change that conflicts with an uncommitted change of an older
 * term) is closed by the fix he gave: a leader appends a conf entry only after
 * it has committed an entry of its own term (its no-op), and only one conf
 * entry may be uncommitted at a time. See Raft.proposeConfChange.
 */
import { assert, assertNever } from '../common/index.js';
import type { LogIndex, NodeId } from '../common/index.js';
import type { ConfState } from './types.js';

export type ConfChange =
  | { readonly kind: 'addVoter'; readonly node: NodeId }
  | { readonly kind: 'addLearner'; readonly node: NodeId }
  | { readonly kind: 'remove'; readonly node: NodeId };

const KIND_CODES = ['addVoter', 'addLearner', 'remove'] as const;

/** 1 byte kind + 4 bytes node id (big-endian). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = KIND_CODES.indexOf(cc.kind);
  new DataView(out.buffer).setUint32(1, cc.node);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength === 5, () => `conf change of ${data.byteLength} bytes`);
  const kind = KIND_CODES[data[0]];
  assert(kind !== undefined, () => `conf change kind ${data[0]}`);
  const node = new DataView(data.buffer, data.byteOffset, 5).getUint32(1);
  return { kind, node };
}

/** The membership after `cc`; a change that changes nothing returns `conf` unchanged. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== cc.node);
  const learners = conf.learners.filter((id) => id !== cc.node);
  switch (cc.kind) {
    case 'addVoter':
      voters.push(cc.node);
      break;
    case 'addLearner':
      learners.push(cc.node);
      break;
    case 'remove':
      break;
    default:
      assertNever(cc, 'conf change');
  }
  return { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
}

/** Why a conf change cannot be proposed, or undefined when it can. */
export function validateConfChange(conf: ConfState, cc: ConfChange): string | undefined {
  if (!Number.isInteger(cc.node) || cc.node <= 0 || cc.node > 0xffffffff) return `invalid node id ${cc.node}`;
  const next = applyConfChange(conf, cc);
  if (next.voters.length === 0) return 'cannot remove the last voter';
  if (sameConf(next, conf)) return 'conf change changes nothing';
  return undefined;
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners);
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Every configuration a node's log holds, so that the latest one is in force
 * and a truncated conf entry can be rolled back.
 * Invariant: `changes` is ordered by index, all above `base.index`.
 */
export class ConfHistory {
  private base: { index: LogIndex; conf: ConfState };
  private changes: { index: LogIndex; conf: ConfState }[] = [];

  constructor(snapshotIndex: LogIndex, conf: ConfState) {
    this.base = { index: snapshotIndex, conf };
  }

  current(): ConfState {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1].conf : this.base.conf;
  }

  /** Index of the entry that set the current configuration. */
  currentIndex(): LogIndex {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1].index : this.base.index;
  }

  /** Membership in force after applying the log up to `index`. */
  at(index: LogIndex): ConfState {
    let conf = this.base.conf;
    for (const c of this.changes) {
      if (c.index > index) break;
      conf = c.conf;
    }
    return conf;
  }

  /** Records the conf entry at `index`. */
  push(index: LogIndex, cc: ConfChange): void {
    assert(index > this.currentIndex(), () => `conf entry ${index} not after ${this.currentIndex()}`);
    this.changes.push({ index, conf: applyConfChange(this.current(), cc) });
  }

  /** Forgets configurations from entries at `index` and above (they were truncated). */
  truncateFrom(index: LogIndex): void {
    while (this.changes.length > 0 && this.changes[this.changes.length - 1].index >= index) this.changes.pop();
  }

  /** Resets to a snapshot's configuration. */
  restore(index: LogIndex, conf: ConfState): void {
    this.base = { index, conf };
    this.changes = [];
  }

  /** Folds configurations at or below `index` into the base (they can no longer be truncated). */
  compact(index: LogIndex): void {
    while (this.changes.length > 0 && this.changes[0].index <= index) {
      const c = this.changes.shift()!;
      this.base = c;
    }
  }
}
