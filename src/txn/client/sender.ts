/**
 * What the transaction client needs of the gateway's router, and sending one
 * transactional command to the ranges its keys fall in.
 */
import { DbError, KeyNotInRangeError } from '../../common/index.js';
import type { RangeDescriptor } from '../../common/index.js';
import type { WireKvRequest, WireKvResponse } from '../../transport/index.js';
import { WireError } from '../../transport/index.js';
import { nanoid } from 'nanoid';
import type { TxnCommand, TxnResult } from '../actions/index.js';
import { decodeTxnResult, encodeTxnCommand } from '../codec.js';

export type KvRequest = Partial<WireKvRequest> & { op: string; key: Uint8Array };

export interface RangeSender {
  /**
   * Sends to the leader of the range holding `req.key`, following routing
   * answers until the deadline. A `txn` request whose keys no longer lie in
   * one range rejects with KEY_NOT_IN_RANGE (or EPOCH_NOT_MATCH) once the
   * range cache has learned the new layout: the caller regroups its keys.
   */
  send(req: KvRequest): Promise<WireKvResponse>;
  /** The range holding `key` in the cache, loading the cache if needed. */
  rangeOf(key: Uint8Array): Promise<RangeDescriptor>;
}

const malformed = (why: string) => new WireError(`bad transactional result from a store: ${why}`);

/** Sends one command to the range of `routeKey` (all its keys must lie in that range). */
export async function sendCommand(sender: RangeSender, routeKey: Uint8Array, cmd: TxnCommand): Promise<TxnResult> {
  const res = await sender.send({ op: 'txn', key: routeKey, requestId: nanoid(), payload: encodeTxnCommand(cmd) });
  if (res.error !== '') throw new DbError(res.error === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'UNAVAILABLE', `${res.error}: ${res.message}`);
  return decodeTxnResult(res.payload, malformed);
}

/** Keys grouped by the cached range that holds them, in key order within each group. */
export async function groupByRange(sender: RangeSender, keys: readonly Uint8Array[]): Promise<Map<number, { range: RangeDescriptor; keys: Uint8Array[] }>> {
  const groups = new Map<number, { range: RangeDescriptor; keys: Uint8Array[] }>();
  for (const key of keys) {
    const range = await sender.rangeOf(key);
    let g = groups.get(range.id);
    if (!g) groups.set(range.id, (g = { range, keys: [] }));
    g.keys.push(key);
  }
  return groups;
}

/** Whether an error says the keys must be regrouped (a split or merge moved some of them). */
export const isRegroup = (err: unknown): boolean => err instanceof DbError && (err.code === 'KEY_NOT_IN_RANGE' || err.code === 'EPOCH_NOT_MATCH');

/**
 * Sends `build(keys)` for every range the keys fall in, in parallel,
 * regrouping the keys of any range that split meanwhile. Returns each
 * group's keys with its result.
 */
export async function sendPerRange(sender: RangeSender, keys: readonly Uint8Array[], build: (keys: Uint8Array[]) => TxnCommand): Promise<{ keys: Uint8Array[]; result: TxnResult }[]> {
  const out: { keys: Uint8Array[]; result: TxnResult }[] = [];
  let todo = [...keys];
  for (let round = 0; todo.length > 0; round++) {
    if (round > 20) throw new KeyNotInRangeError('the ranges kept changing under the transaction', []);
    const groups = [...(await groupByRange(sender, todo)).values()];
    todo = [];
    const settled = await Promise.allSettled(groups.map((g) => sendCommand(sender, g.keys[0], build(g.keys))));
    let failure: unknown;
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') out.push({ keys: groups[i].keys, result: s.value });
      else if (isRegroup(s.reason)) todo.push(...groups[i].keys);
      else failure ??= s.reason;
    });
    if (failure) throw failure;
  }
  return out;
}
