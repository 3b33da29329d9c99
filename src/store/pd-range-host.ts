/**
 * What the placement driver's group needs of the store that hosts its range
 * (PdRangeHost in src/pd/meta-group.ts, matched structurally: store and pd do
 * not import each other): that store's replica of a range, and its KV service.
 */
import type { WireKvRequest, WireKvResponse } from '../transport/index.js';
import type { RangeEpoch } from '../common/index.js';
import { handleKv } from './kv-service.js';
import type { Store } from './store.js';

export function storePdRangeHost(store: Store): {
  replica(rangeId: number): { isLeader(): boolean; leaderStore(): number; term(): number; epoch(): RangeEpoch } | undefined;
  kv(req: WireKvRequest): Promise<WireKvResponse>;
} {
  return {
    replica: (rangeId) => {
      const r = store.replicas.get(rangeId);
      return r && { isLeader: () => r.isLeader(), leaderStore: () => r.leaderStore(), term: () => r.raw.term, epoch: () => r.desc.current.epoch };
    },
    kv: (req) => handleKv(store, req),
  };
}
