/**
 * Majority arithmetic (Raft §5.2 elections, §5.3 commitment) checked against a
 * deliberately naive model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';

/** The largest i such that strictly more than half of the voters hold i, by brute force. */
function naiveCommitted(voters: readonly number[], match: ReadonlyMap<number, number>): number {
  let best = 0;
  const candidates = new Set([0, ...voters.map((v) => match.get(v) ?? 0)]);
  for (const i of candidates) {
    const holders = voters.filter((v) => (match.get(v) ?? 0) >= i).length;
    if (2 * holders > voters.length && i > best) best = i;
  }
  return best;
}

function naiveVote(voters: readonly number[], votes: ReadonlyMap<number, boolean>): 'won' | 'lost' | 'pending' {
  const granted = voters.filter((v) => votes.get(v) === true).length;
  const unknown = voters.filter((v) => !votes.has(v)).length;
  if (2 * granted > voters.length) return 'won';
  if (2 * (granted + unknown) <= voters.length) return 'lost';
  return 'pending';
}

const votersArb = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 9 });

describe('quorum', () => {
  it('§5.3 committedIndex is the largest index held by a majority (property, vs brute force)', () => {
    fc.assert(
      fc.property(votersArb, fc.array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 20 }))), (voters, pairs) => {
        // Matches may include non-voters (learners): they must not count.
        const match = new Map(pairs);
        expect(committedIndex(voters, (id) => match.get(id) ?? 0)).toBe(naiveCommitted(voters, match));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    { voters: [1], match: { 1: 5 }, want: 5 },
    { voters: [1, 2], match: { 1: 5, 2: 3 }, want: 3 },
    { voters: [1, 2, 3], match: { 1: 5, 2: 3 }, want: 3 },
    { voters: [1, 2, 3], match: { 1: 5 }, want: 0 },
    { voters: [1, 2, 3, 4], match: { 1: 9, 2: 9, 3: 4, 4: 1 }, want: 4 },
    { voters: [1, 2, 3, 4, 5], match: { 1: 9, 2: 8, 3: 7, 4: 1, 5: 1 }, want: 7 },
    // A learner (6) holding everything does not help.
    { voters: [1, 2, 3], match: { 1: 9, 6: 9 }, want: 0 },
  ])('committedIndex($voters, $match) = $want', ({ voters, match, want }) => {
    const m = new Map(Object.entries(match).map(([k, v]) => [Number(k), v]));
    expect(committedIndex(voters, (id) => m.get(id) ?? 0)).toBe(want);
  });

  it('§5.2 voteResult: won iff a majority granted, lost iff a majority can no longer grant (property)', () => {
    fc.assert(
      fc.property(votersArb, fc.array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.boolean())), (voters, pairs) => {
        const votes = new Map(pairs);
        expect(voteResult(voters, votes)).toBe(naiveVote(voters, votes));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    { voters: [1], votes: [[1, true]], want: 'won' },
    { voters: [1, 2], votes: [[1, true]], want: 'pending' },
    { voters: [1, 2], votes: [[1, true], [2, false]], want: 'lost' },
    { voters: [1, 2, 3], votes: [[1, true], [2, false]], want: 'pending' },
    { voters: [1, 2, 3], votes: [[1, true], [2, false], [3, false]], want: 'lost' },
    { voters: [1, 2, 3, 4], votes: [[1, true], [2, true]], want: 'pending' },
    { voters: [1, 2, 3, 4], votes: [[1, true], [2, false], [3, false]], want: 'lost' },
    // Votes of non-voters are ignored.
    { voters: [1, 2, 3], votes: [[1, true], [7, true], [8, true]], want: 'pending' },
  ] as const)('voteResult($voters, $votes) = $want', ({ voters, votes, want }) => {
    expect(voteResult(voters, new Map(votes.map(([k, v]) => [k, v])))).toBe(want);
  });

  it('hasQuorum counts only voters (property)', () => {
    fc.assert(
      fc.property(votersArb, fc.uniqueArray(fc.integer({ min: 1, max: 14 })), (voters, acked) => {
        const set = new Set(acked);
        const n = voters.filter((v) => set.has(v)).length;
        expect(hasQuorum(voters, (id) => set.has(id))).toBe(2 * n > voters.length);
      }),
      { numRuns: 300 },
    );
  });
});
