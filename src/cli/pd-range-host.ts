/**
 * The PD group's access to the store that hosts it (PdRangeHost of
 * src/pd/meta-group.ts), implemented over a real Store: pd never imports the
 * store code, the cli hands it this.
 */
import type { PdRangeHost } from '../pd/index.js';
import type { Store } from '../store/index.js';
import { handleKv } from '../store/index.js';

export function storePdRangeHost(store: Store): PdRangeHost {
  return {
    replica: (rangeId) => {
      const r = store.replicas.get(rangeId);
      return r && { isLeader: () => r.isLeader(), leaderStore: () => r.leaderStore(), term: () => r.raw.status().term, epoch: () => r.desc.current.epoch };
    },
    kv: (req) => handleKv(store, req),
  };
}
