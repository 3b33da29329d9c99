import { describe, expect, it } from 'vitest';
import type { RangeDescriptor } from '../common/index.js';
import { decodeDescriptor, encodeDescriptor } from './range-descriptor.js';

const desc: RangeDescriptor = {
  id: 12,
  start: Buffer.from('k1'),
  end: Buffer.from(''),
  epoch: { version: 4, confVer: 7 },
  replicas: [
    { store: 1, replicaId: 65_537, role: 'voter' },
    { store: 2, replicaId: 131_080, role: 'learner' },
  ],
};

describe('range descriptors on disk', () => {
  it('round-trip', () => {
    const back = decodeDescriptor(encodeDescriptor(desc));
    expect({ ...back, start: Buffer.from(back.start), end: Buffer.from(back.end) }).toEqual(desc);
  });

  it('keep the stored field names of the first release, so existing data directories open', () => {
    const stored = '{"id":12,"start":"azE=","end":"","epoch":{"version":4,"conf_ver":7},"replicas":[{"store":1,"replica_id":65537,"role":"voter"},{"store":2,"replica_id":131080,"role":"learner"}]}';
    expect(new TextDecoder().decode(encodeDescriptor(desc))).toBe(stored);
    expect(decodeDescriptor(new TextEncoder().encode(stored))).toMatchObject({ epoch: { confVer: 7 }, replicas: [{ replicaId: 65_537 }, { replicaId: 131_080 }] });
  });
});
