import { describe, expect, it } from 'vitest';
import { latin1Of } from '../common/index.js';
import { keys } from '../storage/index.js';
import { MetaCache } from './meta-cache.js';

const enc = new TextEncoder();
const writeKey = (k: string, ts: bigint): string => latin1Of(keys.writeKey(enc.encode(k), ts));
const bytes = (s: string): Uint8Array => enc.encode(s);

describe('the cache of last written write records', () => {
  it('answers for the record written last, per key', () => {
    const cache = new MetaCache();
    cache.setWrite(writeKey('a', 10n), bytes('a@10'));
    cache.setWrite(writeKey('b', 10n), bytes('b@10'));
    cache.setWrite(writeKey('a', 20n), bytes('a@20'));
    expect(cache.getWrite(writeKey('a', 20n))).toEqual(bytes('a@20'));
    // An older record of the key is not known any more: the engine answers for it.
    expect(cache.getWrite(writeKey('a', 10n))).toBeUndefined();
    expect(cache.getWrite(writeKey('b', 10n))).toEqual(bytes('b@10'));
    // A key that is a prefix of another is its own key.
    expect(cache.getWrite(writeKey('ab', 10n))).toBeUndefined();
  });

  it('forgets a deleted record, and only that one', () => {
    const cache = new MetaCache();
    cache.setWrite(writeKey('a', 20n), bytes('a@20'));
    cache.setWrite(writeKey('a', 10n), null); // GC of an older record
    expect(cache.getWrite(writeKey('a', 20n))).toEqual(bytes('a@20'));
    cache.setWrite(writeKey('a', 20n), null);
    expect(cache.getWrite(writeKey('a', 20n))).toBeUndefined();
  });

  it('is emptied with the metadata (a snapshot install) and stays bounded', () => {
    const cache = new MetaCache();
    cache.setWrite(writeKey('a', 1n), bytes('x'));
    cache.set(latin1Of(keys.metaKey(enc.encode('a'))), bytes('meta'));
    cache.clear();
    expect(cache.getWrite(writeKey('a', 1n))).toBeUndefined();
    expect(cache.get(latin1Of(keys.metaKey(enc.encode('a'))))).toBeUndefined();
    for (let i = 0; i < 5_000; i++) cache.setWrite(writeKey(`k${i}`, 1n), bytes('v'));
    expect(cache.getWrite(writeKey('k0', 1n))).toBeUndefined();
    expect(cache.getWrite(writeKey('k4999', 1n))).toEqual(bytes('v'));
  });
});
