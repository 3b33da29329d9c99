import { describe, expect, it } from 'vitest';
import { decodeRequests, decodeResponses, encodeRequests, encodeResponses } from './kv-codec.js';
import { WireError } from './raft-codec.js';
import type { WireKvResponse } from './wire-types.js';

const b = (s: string) => new TextEncoder().encode(s);

describe('KV stream codec', () => {
  it('round-trips requests of every op with their flags', () => {
    const reqs = [
      { seq: 1, req: { op: 'get', rangeId: 7, epoch: { version: 3, confVer: 2 }, key: b('k') } },
      { seq: 2, req: { op: 'put', rangeId: 7, epoch: { version: 3, confVer: 2 }, key: b('k'), value: b('v'), hasValue: true, requestId: 'r1', retry: true } },
      { seq: 3, req: { op: 'cas', rangeId: 9, epoch: { version: 1, confVer: 1 }, key: b('x'), expect: b('old'), hasExpect: true, requestId: 'r2' } },
      { seq: 4, req: { op: 'scan', rangeId: 9, epoch: { version: 1, confVer: 1 }, key: b('a'), end: b('z'), limit: 50, ts: 1n << 60n } },
      { seq: 5, req: { op: 'txn', rangeId: 9, epoch: { version: 1, confVer: 1 }, key: b('a'), requestId: 'r3', payload: b('cmd') } },
    ];
    const out = decodeRequests(encodeRequests(reqs));
    expect(out.map((o) => o.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(out[3].req.ts).toBe(1n << 60n);
    expect(Buffer.from(out[4].req.payload).toString()).toBe('cmd');
    expect(out[1].req).toMatchObject({ op: 'put', requestId: 'r1', retry: true, hasValue: true, hasExpect: false, rangeId: 7, epoch: { version: 3, confVer: 2 } });
    expect(Buffer.from(out[1].req.value).toString()).toBe('v');
    expect(out[2].req).toMatchObject({ op: 'cas', hasValue: false, hasExpect: true, retry: false });
    expect(Buffer.from(out[2].req.expect).toString()).toBe('old');
    expect(out[3].req.limit).toBe(50);
    expect(Buffer.from(out[3].req.end).toString()).toBe('z');
  });

  it('round-trips responses with routing hints, values and scan items', () => {
    const res: WireKvResponse = {
      error: 'EPOCH_NOT_MATCH',
      message: 'stale',
      leaderStore: 3,
      ranges: [{ id: 5, start: b('a'), end: b(''), epoch: { version: 4, confVer: 2 }, replicas: [{ store: 1, replicaId: 65537, role: 'voter' }, { store: 4, replicaId: 262147, role: 'learner' }] }],
      found: true,
      value: b('val'),
      deleted: false,
      items: [{ key: b('k1'), value: b('v1') }],
      more: true,
      payload: b('locks'),
    };
    const [out] = decodeResponses(encodeResponses([{ seq: 42, res }]));
    expect(out.seq).toBe(42);
    expect(out.res).toMatchObject({ error: 'EPOCH_NOT_MATCH', message: 'stale', leaderStore: 3, found: true, deleted: false, more: true });
    expect(out.res.ranges[0]).toMatchObject({ id: 5, epoch: { version: 4, confVer: 2 }, replicas: [{ store: 1, role: 'voter' }, { store: 4, role: 'learner' }] });
    expect(Buffer.from(out.res.items[0].key).toString()).toBe('k1');
    expect(Buffer.from(out.res.payload).toString()).toBe('locks');
  });

  it('rejects truncated, oversized-count and garbage frames with WireError', () => {
    const good = encodeRequests([{ seq: 1, req: { op: 'get', key: b('k') } }]);
    expect(() => decodeRequests(good.subarray(0, good.length - 1))).toThrow(WireError);
    const huge = Uint8Array.from(good);
    new DataView(huge.buffer).setUint32(1, 0xffffffff);
    expect(() => decodeRequests(huge)).toThrow(WireError);
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: i }, (_, j) => (j * 131 + i) & 0xff);
      try {
        decodeRequests(junk);
        decodeResponses(junk);
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
      }
    }
    expect(() => encodeRequests([{ seq: 1, req: { op: 'nope', key: b('k') } }])).toThrow(WireError);
  });
});
