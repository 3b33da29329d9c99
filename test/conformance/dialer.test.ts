/**
 * One suite, both dialers: the calls the placement driver, the gateway and
 * tools make, over gRPC (`grpcDialer`, what src/cli builds) and over the
 * simulator's network (`LoopbackNetwork.dialerFrom`), against the same
 * handlers served through the matching store network. Answers, typed errors,
 * a refused connection and a lost answer must look alike on both.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DbError, NotLeaderError, OutcomeUnknownError, UnavailableError } from '../../src/common/index.js';
import type { RangeDescriptor } from '../../src/common/index.js';
import { rangesFromSplits } from '../../src/replica/index.js';
import { systemTimers } from '../../src/runtime/index.js';
import { grpcDialer, grpcStoreNetwork, LoopbackNetwork } from '../../src/transport/index.js';
import type { Dialer, PdHandlers, StoreHandlers, StoreListener, StoreNetwork, WireKvRequest } from '../../src/transport/index.js';
import { freePort } from '../support/ports.js';

const enc = new TextEncoder();
const range: RangeDescriptor = rangesFromSplits([], [1, 2, 3], 7)[0];
const never = () => new Promise<never>(() => {});

/** Handlers that answer from fixed data, fail on cue, or never answer. */
function handlers(seen: WireKvRequest[]): { store: StoreHandlers; pd: PdHandlers } {
  const store = {
    onRaftFrame: () => {},
    kv: async (reqs: WireKvRequest[]) => reqs.map((req) => ({ error: '', message: '', leaderStore: 0, ranges: [], found: false, value: new Uint8Array(0), deleted: false, items: [], more: false, payload: enc.encode(`${req.op}@${req.ts}`) })),
    kvOne: async (req: WireKvRequest) => {
      seen.push(req);
      return { error: '', message: '', leaderStore: 0, ranges: [], found: true, value: enc.encode(`v-${new TextDecoder().decode(req.key)}`), deleted: false, items: [], more: false, payload: new Uint8Array(0) };
    },
    createReplica: async (desc: RangeDescriptor) => {
      if (desc.id === 7) throw new NotLeaderError(3, 'store 3 leads range 7');
    },
    ranges: () => [{ range, leaderStore: 2, term: 5, commit: 10, applied: 9, quiesced: false }],
    transferLeader: () => {
      throw new Error('a bug in the handler');
    },
    snapshot: never,
    split: never,
    changeReplicas: async () => range,
  } as unknown as StoreHandlers;
  const pd = {
    Tso: async (req: { count: number }) => {
      if (req.count === 0) throw new UnavailableError('no timestamps for nobody');
      return { physical: 1_000 + req.count, logical: 3 };
    },
    AllocId: () => Promise.reject(new UnavailableError('placement driver starting')),
  } as unknown as PdHandlers;
  return { store, pd };
}

interface Impl {
  network: StoreNetwork;
  dialer: Dialer;
  address(): Promise<string>;
}

const loopback = new LoopbackNetwork(systemTimers);
let hosts = 0;
const impls: [string, Impl][] = [
  ['gRPC', { network: grpcStoreNetwork, dialer: grpcDialer, address: async () => `127.0.0.1:${await freePort()}` }],
  ['loopback', { network: loopback, dialer: loopback.dialerFrom('10.9.9.9:1'), address: async () => `10.0.0.${++hosts}:7000` }],
];

const listeners: StoreListener[] = [];
afterAll(() => listeners.forEach((l) => l.close()));

describe.each(impls)('Dialer over %s', (_name, impl) => {
  async function serve(): Promise<{ address: string; seen: WireKvRequest[] }> {
    const seen: WireKvRequest[] = [];
    const h = handlers(seen);
    const address = await impl.address();
    listeners.push(await impl.network.serve(address, h.store, h.pd));
    return { address, seen };
  }

  it('carries store answers', async () => {
    const { address } = await serve();
    const c = impl.dialer.store(address);
    const res = await c.ranges(2_000);
    expect(res.ranges).toHaveLength(1);
    expect(res.ranges[0]).toMatchObject({ leaderStore: 2, term: 5, commit: 10, applied: 9, quiesced: false });
    expect(res.ranges[0].range.id).toBe(7);
    expect((await c.changeReplicas({ rangeId: 7, epoch: range.epoch, kind: 'remove', store: 3 })).id).toBe(7);
    c.close();
  });

  it('brings a handler\'s DbError back as the same subclass with its payload, and any other failure as INTERNAL', async () => {
    const { address } = await serve();
    const c = impl.dialer.store(address);
    const err = await c.createReplica(range, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leaderStore).toBe(3);
    const internal = await c.transferLeader(7, 2).catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(DbError);
    expect((internal as DbError).code).toBe('INTERNAL');
    c.close();
  });

  it('calls placement driver members, typed errors included', async () => {
    const { address } = await serve();
    const m = impl.dialer.pdMember(address);
    expect(await m.call('Tso', { count: 4 }, 2_000)).toMatchObject({ physical: 1_004, logical: 3 });
    const err = await m.call('AllocId', {}, 2_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toBe('UNAVAILABLE');
    m.close();
  });

  it('streams TSO requests to a member, answered in order, a failure as an answer carrying its error', async () => {
    const { address } = await serve();
    const m = impl.dialer.pdMember(address);
    const stream = m.openTsoStream();
    const answers: unknown[] = [];
    const all = new Promise<void>((resolve) =>
      stream.onAnswer((res) => {
        answers.push(res.error ? res.error.code : res.physical);
        if (answers.length === 3) resolve();
      }),
    );
    stream.write(1);
    stream.write(0);
    stream.write(5);
    await all;
    expect(answers).toEqual([1_001, 'UNAVAILABLE', 1_005]);
    stream.close();
    m.close();
  });

  it('sends a batch of KV requests in one call (the PD\'s GC rounds), timestamps intact', async () => {
    const { address } = await serve();
    const c = impl.dialer.store(address);
    const res = await c.kv([{ op: 'gc', rangeId: 7, key: enc.encode('a'), ts: 2n ** 60n }], 2_000);
    expect(new TextDecoder().decode(res[0].payload)).toBe(`gc@${2n ** 60n}`);
    c.close();
  });

  it('sends the gateway\'s partial KV requests complete, as the stream codec fills them', async () => {
    const { address, seen } = await serve();
    const kv = impl.dialer.kvStream(address);
    const res = await kv.kv({ op: 'get', rangeId: 7, key: enc.encode('k') });
    expect(new TextDecoder().decode(res.value)).toBe('v-k');
    expect(seen[0]).toMatchObject({ op: 'get', rangeId: 7, requestId: '', hasValue: false, hasExpect: false, limit: 0, retry: false });
    kv.close();
  });

  it('refuses at once where nothing listens: UNAVAILABLE, nothing was done', async () => {
    const c = impl.dialer.store(await impl.address());
    const err = await c.ranges(5_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    c.close();
  });

  it('reports a call that outlived its deadline as OUTCOME_UNKNOWN: it may have been acted on', async () => {
    const { address } = await serve();
    const c = impl.dialer.store(address);
    const err = await c.split({ rangeId: 7, epoch: range.epoch, splitKey: enc.encode('m'), newRangeId: 8 }, 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    c.close();
  });
});
