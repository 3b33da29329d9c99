/**
 * A hybrid timestamp from the placement driver's TSO: physical milliseconds
 * since the epoch in the high bits, a logical counter in the low 18 (about
 * 59 bits today, room for millennia). A `bigint`, since it exceeds 2^53, and
 * the order of MVCC versions in src/storage/keys.ts.
 */
export type Timestamp = bigint;

export const TIMESTAMP_LOGICAL_BITS = 18n;
const LOGICAL_MASK = (1n << TIMESTAMP_LOGICAL_BITS) - 1n;

export function composeTimestamp(physicalMs: number, logical: number): Timestamp {
  return (BigInt(physicalMs) << TIMESTAMP_LOGICAL_BITS) + BigInt(logical);
}

export function physicalOf(ts: Timestamp): number {
  return Number(ts >> TIMESTAMP_LOGICAL_BITS);
}

export function logicalOf(ts: Timestamp): number {
  return Number(ts & LOGICAL_MASK);
}
