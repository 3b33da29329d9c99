/**
 * Majority arithmetic over a set of voters. Learners never count.
 */
import type { LogIndex, NodeId } from '../common/index.js';

/**
 * The largest index held by a majority of `voters` (Raft §5.3): with the
 * acknowledged indices sorted descending, the one at position floor(n/2).
 * `matchOf` returns 0 for a voter never heard from.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => LogIndex): LogIndex {
  const n = voters.length;
  if (n === 0) return Number.MAX_SAFE_INTEGER; // No voters: nothing constrains (only a transient state).
  const matches = new Array<number>(n);
  for (let i = 0; i < n; i++) matches[i] = matchOf(voters[i]);
  matches.sort((a, b) => b - a);
  return matches[Math.floor(n / 2)];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** The outcome of an election given the votes received so far (true = granted). */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const quorum = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  if (granted >= quorum) return 'won';
  if (voters.length - rejected < quorum) return 'lost';
  return 'pending';
}

/** True if the ids in `acked` include a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], acked: (id: NodeId) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (acked(id)) n++;
  return n >= Math.floor(voters.length / 2) + 1;
}
