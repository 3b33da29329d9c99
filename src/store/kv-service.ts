/**
 * Range-level key-value requests: validation, routing checks (range, epoch,
 * key, leadership) answered as data with hints, then reads (a ReadIndex
 * round, then the local engine through src/txn) and writes (the log):
 *   - get/scan at ts 0 read the newest committed state (`/kv`); at a TSO
 *     timestamp they read that snapshot, after raising the range's read floor;
 *   - put/delete/cas are `/kv` writes, single-key transactions applied once;
 *   - txn carries a Percolator action (prewrite, commit, …) in its payload.
 * Another transaction's lock in the way answers KEY_LOCKED with the locks.
 */
import type { KvErrorCode, WireKvRequest, WireKvResponse } from '../transport/index.js';
import { WireError } from '../transport/index.js';
import type { CommandEntry } from '../replica/index.js';
import { containsKey, sameEpoch } from '../replica/index.js';
import type { StoreReplica } from './mvcc-range.js';
import { keysOf, needsFloor } from './mvcc-range.js';
import { DbError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { TxnCommand, TxnResult } from '../txn/index.js';
import { decodeTxnCommand, encodeTxnResult, get, hasGarbage, LATEST, MvccTxn, OK, READ_ONLY, scan } from '../txn/index.js';
import type { NotLeaderError } from '../common/index.js';
import type { Engine } from '../storage/index.js';
import type { DeadlineSweeper } from '../runtime/index.js';
import type { StoreMetrics } from './metrics.js';
import type { RangeDescriptor } from '../common/index.js';

/** What the KV service needs of its store. */
export interface KvHost {
  readonly replicas: ReadonlyMap<number, StoreReplica>;
  readonly engine: Engine;
  readonly metrics: StoreMetrics;
  readonly cfg: { readonly id: number };
  /** The deadlines of requests in progress (KV_REQUEST_TIMEOUT_MS each). */
  readonly requestDeadlines: DeadlineSweeper;
  markDirty(r: StoreReplica): void;
  /** Delivers the ticks the clock says are due (before a lease is relied on). */
  catchUpTicks(): void;
}

const MAX_SCAN = 10_000;
/** How long a request may wait for its Raft round before it is answered UNAVAILABLE (read) or OUTCOME_UNKNOWN (write). */
export const KV_REQUEST_TIMEOUT_MS = 5_000;
const EMPTY = new Uint8Array(0);

function response(fields: Partial<WireKvResponse>): WireKvResponse {
  return { error: '', message: '', leaderStore: 0, ranges: [], found: false, value: EMPTY, deleted: false, items: [], more: false, payload: EMPTY, ...fields };
}

function failure(error: KvErrorCode, message: string, extra: Partial<WireKvResponse> = {}): WireKvResponse {
  return response({ error, message, ...extra });
}

const isKvWrite = (op: string): op is 'put' | 'delete' | 'cas' => op === 'put' || op === 'delete' || op === 'cas';
/** Range-wide commands name no key; the range's keys are theirs. */
const RANGE_WIDE = (op: string): boolean => op === 'scan' || op === 'leader' || op === 'txn' || op === 'gc';

function validate(req: WireKvRequest): string | undefined {
  if (!['get', 'put', 'delete', 'cas', 'scan', 'leader', 'txn', 'gc'].includes(req.op)) return `unknown op "${req.op}"`;
  if (!RANGE_WIDE(req.op) && req.key.byteLength === 0) return 'key must not be empty';
  if ((isKvWrite(req.op) || req.op === 'txn' || req.op === 'gc') && req.requestId.length === 0) return 'writes need a requestId';
  if (req.op === 'put' && !req.hasValue) return 'put needs a value';
  if (req.ts < 0n || req.ts > LATEST) return 'ts must be a u64';
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
  if (!RANGE_WIDE(req.op) && !containsKey(desc, req.key)) return count(store, staleRoute(store, 'KEY_NOT_IN_RANGE', `key is outside range ${desc.id}`, desc, req.key));
  if (req.op === 'scan' && !containsKey(desc, req.key) && !(req.key.byteLength === 0 && desc.start.byteLength === 0)) {
    return count(store, failure('KEY_NOT_IN_RANGE', `scan start is outside range ${desc.id}`, { ranges: [desc] }));
  }
  let cmd: TxnCommand | undefined;
  if (req.op === 'txn') {
    try {
      cmd = decodeTxnCommand(req.payload, (why) => new WireError(`bad transactional command: ${why}`));
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      return count(store, failure('BAD_REQUEST', err.message));
    }
    if (cmd.kind === 'kvWrite') return count(store, failure('BAD_REQUEST', 'a kvWrite travels as put, delete or cas'));
    const outside = keysOf(cmd).find((k) => !containsKey(desc, k));
    if (outside) return count(store, staleRoute(store, 'KEY_NOT_IN_RANGE', `a key of the command is outside range ${desc.id}`, desc, outside));
  }
  if (!r.isLeader()) return count(store, failure('NOT_LEADER', `store ${store.cfg.id} does not lead range ${desc.id}`, { leaderStore: r.leaderStore() }));
  const isRead = req.op === 'get' || req.op === 'scan';
  try {
    if (req.op === 'gc') return await withTimeout(store, collectGarbage(store, r, req, desc), false);
    return await withTimeout(store, isRead ? read(store, r, req, desc) : write(store, r, req, cmd ?? kvWriteOf(req)), isRead);
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
    const deadline = store.requestDeadlines.add(() => {
      const message = `no answer within ${KV_REQUEST_TIMEOUT_MS} ms`;
      reject(isRead ? new UnavailableError(message) : new OutcomeUnknownError(message));
    });
    p.then(
      (v) => {
        store.requestDeadlines.remove(deadline);
        resolve(v);
      },
      (e: Error) => {
        store.requestDeadlines.remove(deadline);
        reject(e);
      },
    );
  });
}

async function read(store: KvHost, r: StoreReplica, req: WireKvRequest, desc: RangeDescriptor): Promise<WireKvResponse> {
  const snapshot = req.ts > 0n;
  if (snapshot) r.machine.observeRead(req.ts);
  if (snapshot || !readNow(store, r)) await dirtied(store, r, r.readBarrier(snapshot));
  // A split applied meanwhile may have handed the key to a range whose leader is elsewhere.
  if (r.desc.current.epoch.version !== desc.epoch.version) return staleRoute(store, 'EPOCH_NOT_MATCH', `range ${desc.id} split during the read`, r.desc.current, req.key);
  const txn = new MvccTxn(r.machine.readView(store.engine), READ_ONLY);
  const ts = snapshot ? req.ts : LATEST;
  if (req.op === 'get') {
    const res = await get(txn, req.key, ts);
    if (res.kind === 'locked') return locked(res);
    return response({ found: res.value !== undefined, value: res.value ?? EMPTY });
  }
  // Scan [key, end) clipped to the range.
  const end = req.end.byteLength === 0 || (desc.end.byteLength > 0 && Buffer.compare(req.end, desc.end) > 0) ? desc.end : req.end;
  const res = await scan(txn, req.key, end, ts, Math.min(req.limit > 0 ? req.limit : 1000, MAX_SCAN));
  if (res.locks.length > 0) return locked({ kind: 'locked', locks: res.locks });
  return response({ items: res.items, more: res.more });
}

/** Marks `r` dirty after it was asked `asked` (which woke it if quiesced), so that a woken range ticks again; returns `asked`. */
function dirtied<T>(store: KvHost, r: StoreReplica, asked: Promise<T>): Promise<T> {
  store.markDirty(r);
  return asked;
}

/** A newest-state read on a leader within its lease, with everything committed on disk, needs no loop turn. */
function readNow(store: KvHost, r: StoreReplica): boolean {
  store.catchUpTicks();
  if (!r.readNow()) return false;
  store.metrics.immediateReads++;
  return true;
}

/**
 * A GC round, proposed only when the leader, caught up with the log (a read
 * barrier, which also confirms it still leads), finds garbage in its own
 * state: a round applies on every replica within one loop turn, and most find
 * nothing, the safe point trailing every write by minutes.
 */
async function collectGarbage(store: KvHost, r: StoreReplica, req: WireKvRequest, desc: RangeDescriptor): Promise<WireKvResponse> {
  await dirtied(store, r, r.readBarrier());
  if (!(await hasGarbage(new MvccTxn(r.machine.readView(store.engine), READ_ONLY), req.ts, desc))) return response({ payload: encodeTxnResult(OK) });
  return write(store, r, req, { kind: 'gc', safePoint: req.ts });
}

function locked(res: TxnResult & { kind: 'locked' }): WireKvResponse {
  return failure('KEY_LOCKED', `${res.locks.length} key(s) locked by another transaction`, { payload: encodeTxnResult(res) });
}

function kvWriteOf(req: WireKvRequest): TxnCommand {
  return {
    kind: 'kvWrite',
    op: req.op as 'put' | 'delete' | 'cas',
    key: req.key,
    value: req.op === 'put' || (req.op === 'cas' && req.hasValue) ? req.value : undefined,
    expect: req.op === 'cas' && req.hasExpect ? req.expect : undefined,
    ts: req.ts,
    floor: 0n, // stamped when proposed
  };
}

async function write(store: KvHost, r: StoreReplica, req: WireKvRequest, cmd: TxnCommand): Promise<WireKvResponse> {
  // Synced is the common case: no await, so the write joins this turn's proposals.
  if (needsFloor(cmd) && !r.machine.tsSynced(r.raw.term)) await r.machine.awaitTsSync(r.raw.term);
  const entry: CommandEntry<TxnCommand> = { requestId: req.requestId, cmd, retry: req.retry };
  store.metrics.proposals++;
  const out = await dirtied(store, r, r.write(entry));
  if (out.stale) return staleRoute(store, 'KEY_NOT_IN_RANGE', `range ${r.rangeId} split before the write applied`, r.desc.current, req.key);
  const res = out.result;
  if (req.op === 'txn' || req.op === 'gc') return response({ payload: encodeTxnResult(res) });
  switch (res.kind) {
    case 'ok':
      return response({ deleted: res.deleted, found: res.current !== undefined, value: res.current ?? EMPTY });
    case 'casFailed':
      return failure('CONFLICT', 'compare failed', { found: res.current !== undefined, value: res.current ?? EMPTY });
    case 'locked':
      return locked(res);
    case 'tsTooOld':
      return failure('TS_TOO_OLD', `the key has a record at ${res.maxTs}, at or above the write's timestamp`);
    default:
      throw new Error(`a kvWrite answered ${res.kind}`);
  }
}
