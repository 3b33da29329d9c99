import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, MemoryStorage, RawNode } from './index.js';
import type { Message } from './index.js';
import { SeededRng } from '../../test/support/raft-harness.js';

describe('raft smoke', () => {
  it('elects a leader and commits a proposal on 3 nodes', () => {
    const ids = [1, 2, 3];
    const stores = new Map(ids.map((id) => [id, new MemoryStorage({ voters: ids, learners: [] })]));
    const nodes = new Map(ids.map((id) => [id, new RawNode({ ...DEFAULT_CONFIG, id, applied: 0 }, stores.get(id)!, new SeededRng(id))]));
    const applied = new Map<number, string[]>(ids.map((id) => [id, []]));
    const queue: Message[] = [];
    const pump = () => {
      for (let round = 0; round < 50; round++) {
        for (const [id, n] of nodes) {
          while (n.hasReady()) {
            const rd = n.ready();
            const st = stores.get(id)!;
            st.append(rd.entries);
            if (rd.hardState) st.setHardState(rd.hardState);
            queue.push(...rd.messages);
            for (const e of rd.committedEntries) if (e.data.length > 0) applied.get(id)!.push(new TextDecoder().decode(e.data));
            n.advance(rd);
          }
        }
        while (queue.length) {
          const m = queue.shift()!;
          nodes.get(m.to)!.step(m);
        }
      }
    };
    nodes.get(1)!.campaign();
    pump();
    expect(nodes.get(1)!.status().role).toBe('leader');
    const r = nodes.get(1)!.propose(new TextEncoder().encode('hello'));
    expect(r.kind).toBe('ok');
    pump();
    for (const id of ids) expect(applied.get(id)).toEqual(['hello']);
  });
});
