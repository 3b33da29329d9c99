/**
 * The deterministic part of applying a split: when every replica rejects it
 * (stale epoch, key not strictly inside the range) and the two descriptors it
 * produces (left keeps [start, key), right gets [key, end) on the same voter
 * stores with fresh replica ids, both at version + 1).
 */
import { describe, expect, it } from 'vitest';
import { replicaIdFor, storeOfReplica } from './range-descriptor.js';
import type { SplitCommand } from './command.js';
import { splitDescriptors, splitRejection } from './split.js';
import type { RangeDescriptor } from '../common/index.js';

const enc = new TextEncoder();
const k = (s: string) => enc.encode(s);

/** Range 5 over ["c", "p") at epoch 4/7: voters on 1, 2 (replica ids from later conf changes), 3; a learner on 4. */
const desc: RangeDescriptor = {
  id: 5,
  start: k('c'),
  end: k('p'),
  epoch: { version: 4, confVer: 7 },
  replicas: [
    { store: 1, replicaId: replicaIdFor(1, 1), role: 'voter' },
    { store: 2, replicaId: replicaIdFor(2, 6), role: 'voter' },
    { store: 3, replicaId: replicaIdFor(3, 7), role: 'voter' },
    { store: 4, replicaId: replicaIdFor(4, 8), role: 'learner' },
  ],
};

const cmd = (key: string | Uint8Array, over: Partial<SplitCommand> = {}): SplitCommand => ({
  requestId: 'split-1',
  splitKey: typeof key === 'string' ? k(key) : key,
  newRangeId: 42,
  version: 4,
  confVer: 7,
  ...over,
});

describe('splitRejection', () => {
  it('accepts a key strictly inside the range at the current epoch', () => {
    expect(splitRejection(desc, cmd('h'))).toBeUndefined();
    expect(splitRejection(desc, cmd('c\u0000'))).toBeUndefined();
    expect(splitRejection(desc, cmd('ozzz'))).toBeUndefined();
  });

  it.each([
    { what: 'an older version', over: { version: 3 } },
    { what: 'a newer version', over: { version: 5 } },
    { what: 'an older confVer', over: { confVer: 6 } },
    { what: 'a newer confVer', over: { confVer: 8 } },
  ])('rejects a split proposed at $what', ({ over }) => {
    expect(splitRejection(desc, cmd('h', over))).toMatch(/epoch 4\/7/);
  });

  it.each([
    ['the range start', 'c'],
    ['before the start', 'b'],
    ['the empty key', ''],
    ['the range end', 'p'],
    ['after the end', 'q'],
  ])('rejects a key at %s', (_what, key) => {
    expect(splitRejection(desc, cmd(key))).toMatch(/not inside range 5/);
  });

  it('an unbounded range (empty end) accepts any key after its start', () => {
    const open: RangeDescriptor = { ...desc, end: new Uint8Array(0) };
    expect(splitRejection(open, cmd('zzzzzz'))).toBeUndefined();
    expect(splitRejection(open, cmd(Uint8Array.from([0xff, 0xff, 0xff])))).toBeUndefined();
    expect(splitRejection(open, cmd('c'))).toMatch(/not inside/);
  });

  it('a range over all keys cannot be split at the empty key, but at any other', () => {
    const all: RangeDescriptor = { ...desc, start: new Uint8Array(0), end: new Uint8Array(0) };
    expect(splitRejection(all, cmd(''))).toMatch(/not inside/);
    expect(splitRejection(all, cmd(Uint8Array.from([0])))).toBeUndefined();
  });
});

describe('splitDescriptors', () => {
  const { left, right } = splitDescriptors(desc, cmd('h'));

  it('the left half keeps the id, start and replicas and ends at the split key', () => {
    expect(left.id).toBe(5);
    expect(Buffer.from(left.start).toString()).toBe('c');
    expect(Buffer.from(left.end).toString()).toBe('h');
    expect(left.replicas).toEqual(desc.replicas);
  });

  it('the right half is the new range from the split key to the old end', () => {
    expect(right.id).toBe(42);
    expect(Buffer.from(right.start).toString()).toBe('h');
    expect(Buffer.from(right.end).toString()).toBe('p');
  });

  it('both halves are at version + 1 with the same confVer', () => {
    expect(left.epoch).toEqual({ version: 5, confVer: 7 });
    expect(right.epoch).toEqual({ version: 5, confVer: 7 });
    // The input descriptor is not modified.
    expect(desc.epoch).toEqual({ version: 4, confVer: 7 });
    expect(Buffer.from(desc.end).toString()).toBe('p');
  });

  it('the right half has the same voter stores, with fresh replica ids for the new group, and no learners', () => {
    expect(right.replicas.map((r) => r.store)).toEqual([1, 2, 3]);
    for (const r of right.replicas) {
      expect(r.role).toBe('voter');
      expect(storeOfReplica(r.replicaId)).toBe(r.store);
      expect(r.replicaId).toBe(replicaIdFor(r.store, 1));
    }
    expect(new Set(right.replicas.map((r) => r.replicaId)).size).toBe(3);
    expect(right.replicas.some((r) => r.store === 4)).toBe(false);
  });

  it('an unbounded range splits into a bounded left and an unbounded right', () => {
    const open: RangeDescriptor = { ...desc, end: new Uint8Array(0) };
    const halves = splitDescriptors(open, cmd('x'));
    expect(Buffer.from(halves.left.end).toString()).toBe('x');
    expect(Buffer.from(halves.right.start).toString()).toBe('x');
    expect(halves.right.end.byteLength).toBe(0);
  });
});
