/**
 * Range-level key-value requests: validation, routing checks (range, epoch,
 * key, leadership) answered as data with hints, then linearizable reads (a
 * ReadIndex round, then the local engine) and exactly-once writes (the log).
 */
import { keys } from '../storage/index.js';
import type { KvErrorCode, WireKvRequest, WireKvResponse } from '../transport/index.js';
import type { WriteCommand } from '../replica/index.js';
import { containsKey, sameEpoch } from '../replica/index.js';
import type { Replica } from '../replica/index.js';
import { PLAIN_TS } from '../replica/index.js';
import { DbError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { NotLeaderError } from '../common/index.js';
import type { Engine } from '../storage/index.js';
import type { Timers } from '../runtime/index.js';
import type { StoreMetrics } from './metrics.js';
import type { RangeDescriptor } from '../common/index.js';

/** What the KV service needs of its store. */
export interface KvHost {
  readonly replicas: ReadonlyMap<number, Replica>;
  readonly engine: Engine;
  readonly metrics: StoreMetrics;
  readonly cfg: { readonly id: number };
  readonly deps: { readonly timers: Timers };
  markDirty(r: Replica): void;
}

const MAX_SCAN = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;
const EMPTY = new Uint8Array(0);

function response(fields: Partial<WireKvResponse>): WireKvResponse {
  return { error: '', message: '', leaderStore: 0, ranges: [], found: false, value: EMPTY, deleted: false, items: [], more: false, ...fields };
}

function failure(error: KvErrorCode, message: string, extra: Partial<WireKvResponse> = {}): WireKvResponse {
  return response({ error, message, ...extra });
}

function validate(req: WireKvRequest): string | undefined {
  if (!['get', 'put', 'delete', 'cas', 'scan', 'leader'].includes(req.op)) return `unknown op "${req.op}"`;
  if (req.op !== 'scan' && req.op !== 'leader' && req.key.byteLength === 0) return 'key must not be empty';
  if ((req.op === 'put' || req.op === 'delete' || req.op === 'cas') && req.requestId.length === 0) return 'writes need a requestId';
  if (req.op === 'put' && !req.hasValue) return 'put needs a value';
  return undefined;
}

export async function handleKv(store: KvHost, req: WireKvRequest): Promise<WireKvResponse> {
  const bad = validate(req);
  if (bad) return count(store, failure('BAD_REQUEST', bad));
  const r = store.replicas.get(req.rangeId);
  if (!r) return count(store, failure('RANGE_NOT_FOUND', `range ${req.rangeId} is not on store ${store.cfg.id}`));
  // A probe for the leader: whatever this replica believes now, with no epoch to match (the asker's may be stale).
  if (req.op === 'leader') return r.isLeader() ? response({ leaderStore: store.cfg.id }) : failure('NOT_LEADER', `store ${store.cfg.id} does not lead range ${r.rangeId}`, { leaderStore: r.leaderStore() });
  const desc = r.desc.current;
  if (!sameEpoch(desc, req.epoch)) return count(store, staleRoute(store, 'EPOCH_NOT_MATCH', `range ${desc.id} is at epoch ${desc.epoch.version}/${desc.epoch.confVer}`, desc, req.key));
  if (req.op !== 'scan' && !containsKey(desc, req.key)) return count(store, staleRoute(store, 'KEY_NOT_IN_RANGE', `key is outside range ${desc.id}`, desc, req.key));
  if (req.op === 'scan' && !containsKey(desc, req.key) && !(req.key.byteLength === 0 && desc.start.byteLength === 0)) {
    return count(store, failure('KEY_NOT_IN_RANGE', `scan start is outside range ${desc.id}`, { ranges: [desc] }));
  }
  if (!r.isLeader()) return count(store, failure('NOT_LEADER', `store ${store.cfg.id} does not lead range ${desc.id}`, { leaderStore: r.leaderStore() }));
  const isRead = req.op === 'get' || req.op === 'scan';
  try {
    return await withTimeout(store, isRead ? read(store, r, req, desc) : write(store, r, req), isRead);
  } catch (err) {
    if (!(err instanceof DbError)) throw err;
    switch (err.code) {
      case 'NOT_LEADER':
        return count(store, failure('NOT_LEADER', err.message, { leaderStore: (err as NotLeaderError).leaderStore }));
      case 'OUTCOME_UNKNOWN':
        return count(store, failure('OUTCOME_UNKNOWN', err.message, { leaderStore: r.leaderStore() }));
      default:
        return count(store, failure('UNAVAILABLE', err.message));
    }
  }
}

/** A routing error carrying the descriptors the client should route by: this range's, and the local one now holding the key. */
function staleRoute(store: KvHost, code: KvErrorCode, message: string, desc: RangeDescriptor, key: Uint8Array): WireKvResponse {
  const ranges = [desc];
  for (const r of store.replicas.values()) if (r.rangeId !== desc.id && containsKey(r.desc.current, key)) ranges.push(r.desc.current);
  return failure(code, message, { ranges });
}

function count(store: KvHost, res: WireKvResponse): WireKvResponse {
  if (res.error) store.metrics.countError(res.error);
  return res;
}

/** A read that times out applied nothing; a write that times out was (almost surely) proposed, and may yet apply. */
function withTimeout<T>(store: KvHost, p: Promise<T>, isRead: boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const message = `no answer within ${REQUEST_TIMEOUT_MS} ms`;
    const t = store.deps.timers.setTimeout(() => reject(isRead ? new UnavailableError(message) : new OutcomeUnknownError(message)), REQUEST_TIMEOUT_MS);
    p.then(
      (v) => {
        store.deps.timers.clearTimeout(t);
        resolve(v);
      },
      (e: Error) => {
        store.deps.timers.clearTimeout(t);
        reject(e);
      },
    );
  });
}

async function read(store: KvHost, r: Replica, req: WireKvRequest, desc: RangeDescriptor): Promise<WireKvResponse> {
  store.markDirty(r);
  await r.readBarrier();
  // A split applied meanwhile may have handed the key to a range whose leader is elsewhere.
  if (r.desc.current.epoch.version !== desc.epoch.version) return staleRoute(store, 'EPOCH_NOT_MATCH', `range ${desc.id} split during the read`, r.desc.current, req.key);
  if (req.op === 'get') {
    const v = await store.engine.get(keys.dataKey(req.key, PLAIN_TS));
    return response({ found: v !== undefined, value: v ?? EMPTY });
  }
  // Scan [key, end) clipped to the range.
  const end = req.end.byteLength === 0 || (desc.end.byteLength > 0 && Buffer.compare(req.end, desc.end) > 0) ? desc.end : req.end;
  const limit = Math.min(req.limit > 0 ? req.limit : 1000, MAX_SCAN);
  const { gte, lt } = keys.dataBounds(req.key, end);
  const items: { key: Uint8Array; value: Uint8Array }[] = [];
  let more = false;
  for await (const [k, v] of store.engine.range(gte, lt)) {
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push({ key: keys.decodeVersionedKey(k).userKey, value: v });
  }
  return response({ items, more });
}

async function write(store: KvHost, r: Replica, req: WireKvRequest): Promise<WireKvResponse> {
  const cmd: WriteCommand = {
    op: req.op as WriteCommand['op'],
    requestId: req.requestId,
    key: req.key,
    value: req.op === 'put' || (req.op === 'cas' && req.hasValue) ? req.value : undefined,
    expect: req.op === 'cas' && req.hasExpect ? req.expect : undefined,
    retry: req.retry,
  };
  store.metrics.proposals++;
  store.markDirty(r);
  const res = await r.write(cmd);
  if (res.stale) return staleRoute(store, 'KEY_NOT_IN_RANGE', `range ${r.rangeId} split before the write applied`, r.desc.current, req.key);
  if (req.op === 'cas' && !res.ok) return failure('CONFLICT', 'compare failed', { found: res.current !== undefined, value: res.current ?? EMPTY });
  return response({ deleted: res.deleted, found: res.current !== undefined, value: res.current ?? EMPTY });
}
