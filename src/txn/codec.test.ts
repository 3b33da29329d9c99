/**
 * The binary forms of txn commands and results (codec.ts) and of the MVCC
 * records (mvcc/records.ts): every kind round-trips; truncated, extended or
 * garbage input throws through the given factory and never otherwise.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../common/index.js';
import { StorageCorruption } from '../storage/index.js';
import type { KeyLock, Mutation, TxnCommand, TxnResult } from './index.js';
import { decodeTxnCommand, decodeTxnResult, encodeTxnCommand, encodeTxnResult } from './index.js';
import type { KeyMeta, WriteRecord } from './mvcc/records.js';
import { decodeMeta, decodeWrite, encodeMeta, encodeWrite } from './mvcc/records.js';

/** FC_SEED=<n> replays a failing run (fast-check prints the seed on failure). */
const params = { seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, numRuns: 300 };

class Malformed extends Error {}
const malformed = (why: string) => new Malformed(why);

const bytes = fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) });
const opt = fc.option(bytes, { nil: undefined });
const ts = fc.oneof(fc.constantFrom(0n, 1n, 0xffff_ffff_ffff_ffffn), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const keys = fc.array(bytes, { maxLength: 5 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(fc.record({ kind: fc.constant('put' as const), key: bytes, value: bytes }), fc.record({ kind: fc.constant('delete' as const), key: bytes, value: fc.constant(undefined) }));
const lock: fc.Arbitrary<KeyLock> = fc.record({ key: bytes, primary: bytes, startTs: ts, ttlMs: u32, kind: fc.constantFrom('put' as const, 'delete' as const), value: opt });

const commands: Record<TxnCommand['kind'], fc.Arbitrary<TxnCommand>> = {
  kvWrite: fc.record({ kind: fc.constant('kvWrite' as const), op: fc.constantFrom('put' as const, 'delete' as const, 'cas' as const), key: bytes, value: opt, expect: opt, ts, floor: ts }),
  prewrite: fc.record({ kind: fc.constant('prewrite' as const), startTs: ts, primary: bytes, ttlMs: u32, mutations: fc.array(mutation, { maxLength: 5 }), onePc: fc.boolean(), floor: ts }),
  commit: fc.record({ kind: fc.constant('commit' as const), startTs: ts, commitTs: ts, keys }),
  rollback: fc.record({ kind: fc.constant('rollback' as const), startTs: ts, keys }),
  checkTxnStatus: fc.record({ kind: fc.constant('checkTxnStatus' as const), primary: bytes, startTs: ts, currentTs: ts }),
  heartbeat: fc.record({ kind: fc.constant('heartbeat' as const), primary: bytes, startTs: ts, ttlMs: u32 }),
  resolveLock: fc.record({ kind: fc.constant('resolveLock' as const), startTs: ts, commitTs: ts, keys }),
  gc: fc.record({ kind: fc.constant('gc' as const), safePoint: ts }),
};

const results: Record<TxnResult['kind'], fc.Arbitrary<TxnResult>> = {
  ok: fc.record({ kind: fc.constant('ok' as const), deleted: fc.boolean(), current: opt, commitTs: ts }),
  casFailed: fc.record({ kind: fc.constant('casFailed' as const), current: opt }),
  locked: fc.record({ kind: fc.constant('locked' as const), locks: fc.array(lock, { maxLength: 4 }) }),
  conflict: fc.record({ kind: fc.constant('conflict' as const), key: bytes, conflictTs: ts }),
  tsTooOld: fc.record({ kind: fc.constant('tsTooOld' as const), maxTs: ts }),
  rolledBack: fc.constant({ kind: 'rolledBack' as const }),
  committed: fc.record({ kind: fc.constant('committed' as const), commitTs: ts }),
  alive: fc.record({ kind: fc.constant('alive' as const), ttlMs: u32 }),
};

/** A frame written field by field. */
function frame(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(64);
  write(w);
  return w.finish().slice();
}

/** decode(buf) either answers or throws a Malformed, nothing else; what it answers encodes back to itself. */
function decodesOrRejects<T>(buf: Uint8Array, decode: (b: Uint8Array, m: typeof malformed) => T, encode: (v: T) => Uint8Array): void {
  let v: T;
  try {
    v = decode(buf, malformed);
  } catch (e) {
    expect(e).toBeInstanceOf(Malformed);
    return;
  }
  expect(decode(encode(v), malformed)).toEqual(v);
}

function rejectsEveryCut(buf: Uint8Array, decode: (b: Uint8Array, m: typeof malformed) => unknown): void {
  for (let cut = 0; cut < buf.length; cut++) expect(() => decode(buf.subarray(0, cut), malformed)).toThrow(Malformed);
  const longer = new Uint8Array(buf.length + 1);
  longer.set(buf);
  expect(() => decode(longer, malformed)).toThrow(Malformed);
}

/** The properties every txn codec holds, over an arbitrary per kind. */
function codecProperties<T extends { kind: string }>(
  name: string,
  kinds: Record<T['kind'], fc.Arbitrary<T>>,
  encode: (v: T) => Uint8Array,
  decode: (b: Uint8Array, m: typeof malformed) => T,
): void {
  const any = fc.oneof(...(Object.values(kinds) as fc.Arbitrary<T>[]));
  describe(`txn ${name} codec`, () => {
    it.each(Object.keys(kinds) as T['kind'][])('%s round-trips', (kind) => {
      fc.assert(
        fc.property(kinds[kind], (v) => {
          expect(decode(encode(v), malformed)).toEqual(v);
        }),
        params,
      );
    });

    it('every truncation, and a trailing byte, throws through the factory', () => {
      fc.assert(fc.property(any, (v) => rejectsEveryCut(encode(v), decode)), { ...params, numRuns: 100 });
    });

    it('garbage and damaged encodings decode or throw through the factory, never otherwise', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (buf) => decodesOrRejects(buf, decode, encode)), params);
      fc.assert(
        fc.property(any, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
          const buf = encode(v);
          if (buf.length > 0) buf[at % buf.length] = byte;
          decodesOrRejects(buf, decode, encode);
        }),
        params,
      );
    });
  });
}

codecProperties('command', commands, encodeTxnCommand, decodeTxnCommand);
codecProperties('result', results, encodeTxnResult, decodeTxnResult);

describe('txn command codec: bad frames', () => {
  const prewriteHead = (w: ByteWriter, mutations: number) => {
    w.u8(1);
    w.ts(10n);
    w.bytes(Uint8Array.of(1));
    w.u32(100);
    w.u8(0);
    w.ts(0n);
    w.u32(mutations);
  };

  it.each([
    { name: 'an unknown command', buf: frame((w) => w.u8(8)), why: /unknown command 8/ },
    { name: 'an unknown kv op', buf: frame((w) => (w.u8(0), w.u8(3))), why: /unknown kv op 3/ },
    { name: 'an unknown mutation kind', buf: frame((w) => (prewriteHead(w, 1), w.u8(2), w.bytes(Uint8Array.of(1)), w.u8(0))), why: /unknown mutation kind 2/ },
    { name: 'a mutation count beyond the frame', buf: frame((w) => (prewriteHead(w, 2), w.u8(1), w.bytes(Uint8Array.of(1)), w.u8(0))), why: /2 mutations exceed the frame/ },
    { name: 'a key count beyond the frame', buf: frame((w) => (w.u8(2), w.ts(1n), w.ts(2n), w.u32(0xffff_ffff))), why: /4294967295 keys exceed the frame/ },
    { name: 'a key longer than the frame', buf: frame((w) => (w.u8(3), w.ts(1n), w.u32(1), w.u32(1000))), why: /truncated/ },
  ])('$name throws through the factory', ({ buf, why }) => {
    expect(() => decodeTxnCommand(buf, malformed)).toThrow(Malformed);
    expect(() => decodeTxnCommand(buf, malformed)).toThrow(why);
  });
});

describe('txn result codec: bad frames', () => {
  it.each([
    { name: 'an unknown result', buf: frame((w) => w.u8(8)), why: /unknown result 8/ },
    { name: 'a lock count beyond the frame', buf: frame((w) => (w.u8(2), w.u32(3), w.bytes(new Uint8Array(8)))), why: /3 locks exceed the frame/ },
    {
      name: 'an unknown lock kind',
      buf: frame((w) => (w.u8(2), w.u32(1), w.bytes(Uint8Array.of(1)), w.bytes(Uint8Array.of(1)), w.ts(1n), w.u32(5), w.u8(2), w.u8(0))),
      why: /unknown mutation kind 2/,
    },
  ])('$name throws through the factory', ({ buf, why }) => {
    expect(() => decodeTxnResult(buf, malformed)).toThrow(Malformed);
    expect(() => decodeTxnResult(buf, malformed)).toThrow(why);
  });
});

describe('MVCC record codec', () => {
  const mutationKind = fc.constantFrom('put' as const, 'delete' as const);
  const meta: fc.Arbitrary<KeyMeta> = fc.record({
    maxTs: ts,
    latest: fc.option(fc.record({ commitTs: ts, startTs: ts, kind: mutationKind, value: opt }), { nil: undefined }),
    lock: fc.option(fc.record({ primary: bytes, startTs: ts, ttlMs: u32, kind: mutationKind, value: opt }), { nil: undefined }),
  });
  const write: fc.Arbitrary<WriteRecord> = fc.record({ kind: fc.constantFrom('put' as const, 'delete' as const, 'rollback' as const), startTs: ts, value: opt });

  it('metadata and write records round-trip; a cut or damaged one is StorageCorruption', () => {
    fc.assert(
      fc.property(meta, write, fc.nat(), (m, w, cut) => {
        const mb = encodeMeta(m);
        const wb = encodeWrite(w);
        expect(decodeMeta(mb)).toEqual(m);
        expect(decodeWrite(wb)).toEqual(w);
        expect(() => decodeMeta(mb.subarray(0, cut % mb.length))).toThrow(StorageCorruption);
        expect(() => decodeWrite(wb.subarray(0, cut % wb.length))).toThrow(StorageCorruption);
      }),
      params,
    );
  });

  it('a rollback as the newest version or as a lock is corruption', () => {
    const rollbackKind = 2;
    const withLatest = encodeMeta({ maxTs: 1n, latest: { commitTs: 1n, startTs: 1n, kind: 'put', value: undefined }, lock: undefined });
    withLatest[1 + 8 + 16] = rollbackKind;
    expect(() => decodeMeta(withLatest)).toThrow(StorageCorruption);
    expect(() => decodeWrite(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(StorageCorruption);
  });
});
