/**
 * MVCC garbage collection, driven by the placement driver (TiKV's GC worker
 * with PD's safe point): the safe point trails the TSO by gcLifetimeMs, is
 * kept in the PD's own group and only moves forward; a round sends it to the
 * leader of every range, which drops what no reader at or above it can see.
 * Transactions live for seconds, far below the lifetime.
 */
import { composeTimestamp, physicalOf } from '../common/index.js';
import type { Timestamp } from '../common/index.js';
import { isoTime } from '../runtime/index.js';
import type { PdGroup } from './group.js';
import type { LeaderTerm } from './leadership.js';
import { GC_SAFE_POINT_KEY } from './meta-keys.js';

export interface GcRound {
  readonly safePoint: Timestamp;
  readonly ranges: number;
  /** Ranges whose leader could not be reached: the next round covers them. */
  readonly failed: { range: number; error: string }[];
}

export async function safePoint(group: PdGroup): Promise<Timestamp> {
  return BigInt((await group.get(GC_SAFE_POINT_KEY)) ?? '0');
}

/** Advances the safe point to now - lifetime (never back) and collects every range below it. */
export async function gcRound(l: LeaderTerm, group: PdGroup, lifetimeMs: number): Promise<GcRound> {
  const now = await l.tso.take(1);
  const candidate = composeTimestamp(Math.max(0, physicalOf(now) - lifetimeMs), 0);
  const current = await safePoint(group);
  const point = candidate > current ? candidate : current;
  if (point > current) await group.put(GC_SAFE_POINT_KEY, String(point));
  const ranges = [...l.state.ranges.values()];
  const settled = await Promise.allSettled(ranges.map((r) => l.operators.gc(r.desc.id, point)));
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ range: ranges[i].desc.id, error: (s.reason as Error).message }] : []));
  return { safePoint: point, ranges: ranges.length, failed };
}

/** The JSON form of the contract: timestamps as decimal strings (they exceed 2^53), and the wall time they stand for. */
export function safePointJson(point: Timestamp): { safePoint: string; time: string } {
  return { safePoint: String(point), time: isoTime(physicalOf(point)) };
}
