/**
 * Operations the placement driver asks of a range's leader: split (through
 * the range's log, see split.ts), one membership change at a time (add a
 * learner, promote it once caught up, remove a replica), and the size
 * statistics that drive auto-split. Each answers once the change is applied
 * on this store, and is idempotent: asked again after it happened, it reports
 * the current state instead of failing.
 */
import { BadRequestError, EpochNotMatchError, NotLeaderError, RangeNotFoundError, UnavailableError } from '../common/index.js';
import { keys } from '../storage/index.js';
import type { WireChangeReplicasRequest, WireRangeStat, WireSplitRequest } from '../transport/index.js';
import type { ConfChange } from '../raft/index.js';
import { replicaIdFor, sameEpoch } from '../replica/index.js';
import type { Replica } from '../replica/index.js';
import type { Engine } from '../storage/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { RangeDescriptor } from '../common/index.js';

/** What these operations need of their store. */
export interface RangeAdminHost {
  readonly replicas: ReadonlyMap<number, Replica>;
  readonly engine: Engine;
  readonly cfg: { readonly id: number };
  readonly deps: { readonly clock: Clock; readonly timers: Timers };
  markDirty(r: Replica): void;
}

const CHANGE_TIMEOUT_MS = 10_000;
const CATCH_UP_TIMEOUT_MS = 60_000;
/** Keys scanned at most to size a range or find its middle. */
const SCAN_CAP = 500_000;

function leaderReplica(store: RangeAdminHost, rangeId: number): Replica {
  const r = store.replicas.get(rangeId);
  if (!r) throw new RangeNotFoundError(`range ${rangeId} is not on store ${store.cfg.id}`);
  if (!r.isLeader()) throw new NotLeaderError(r.leaderStore(), `store ${store.cfg.id} does not lead range ${rangeId} (leader: store ${r.leaderStore()})`);
  return r;
}

function epochNotMatch(desc: RangeDescriptor): EpochNotMatchError {
  return new EpochNotMatchError(`range ${desc.id} is at epoch ${desc.epoch.version}/${desc.epoch.confVer}`, [desc]);
}

export async function splitRange(store: RangeAdminHost, req: WireSplitRequest): Promise<{ left: RangeDescriptor; right: RangeDescriptor }> {
  const existing = store.replicas.get(req.newRangeId);
  const r = store.replicas.get(req.rangeId);
  // Asked again after it happened.
  if (existing && r && Buffer.compare(r.desc.current.end, existing.desc.current.start) === 0) return { left: r.desc.current, right: existing.desc.current };
  const leader = leaderReplica(store, req.rangeId);
  const desc = leader.desc.current;
  if (!sameEpoch(desc, req.epoch)) throw epochNotMatch(desc);
  const splitKey = req.splitKey.byteLength > 0 ? req.splitKey : await middleKey(store, desc);
  if (!splitKey) throw new BadRequestError(`range ${desc.id} has too few keys to split`);
  const split = leader.write({ requestId: `split/${desc.id}/${req.newRangeId}`, splitKey, newRangeId: req.newRangeId, version: desc.epoch.version, confVer: desc.epoch.confVer });
  store.markDirty(leader); // after the write woke it, so that it ticks
  const res = await split;
  const right = store.replicas.get(req.newRangeId);
  if (res.stale || !right) throw new EpochNotMatchError(`range ${desc.id} changed before the split applied`, [leader.desc.current]);
  return { left: leader.desc.current, right: right.desc.current };
}

/** The user key about half-way through the range, or undefined if it has fewer than two keys. */
async function middleKey(store: RangeAdminHost, desc: RangeDescriptor): Promise<Uint8Array | undefined> {
  const { gte, lt } = keys.metaBounds(desc.start, desc.end);
  let count = 0;
  for await (const _ of store.engine.range(gte, lt)) if (++count >= SCAN_CAP) break;
  if (count < 2) return undefined;
  let i = 0;
  for await (const [k] of store.engine.range(gte, lt)) {
    if (++i > count / 2) {
      const key = keys.userKeyOfMeta(k);
      return Buffer.compare(key, desc.start) > 0 ? key : undefined;
    }
  }
  return undefined;
}

export async function changeReplicas(store: RangeAdminHost, req: WireChangeReplicasRequest): Promise<RangeDescriptor> {
  const leader = leaderReplica(store, req.rangeId);
  const desc = leader.desc.current;
  const current = desc.replicas.find((r) => r.store === req.store);
  if (req.kind === 'add_learner' && current) return desc;
  if (req.kind === 'promote' && current?.role === 'voter') return desc;
  if (req.kind === 'remove' && !current) return desc;
  if (!sameEpoch(desc, req.epoch)) throw epochNotMatch(desc);
  let cc: ConfChange;
  switch (req.kind) {
    case 'add_learner':
      // Replica ids are never reused within a range: confVer only grows.
      cc = { kind: 'addLearner', node: replicaIdFor(req.store, desc.epoch.confVer + 1) };
      break;
    case 'promote':
      if (!current) throw new BadRequestError(`range ${desc.id} has no replica on store ${req.store}`);
      await waitCaughtUp(store, leader, current.replicaId);
      cc = { kind: 'addVoter', node: current.replicaId };
      break;
    case 'remove':
      if (current!.replicaId === leader.replicaId) throw new UnavailableError(`store ${req.store} leads range ${desc.id}; transfer the leadership first`);
      cc = { kind: 'remove', node: current!.replicaId };
      break;
    default:
      throw new BadRequestError(`unknown change "${req.kind}"`);
  }
  // Ticking again, even if refused: a leadership transfer in the way is abandoned only by ticks.
  leader.wake();
  store.markDirty(leader);
  const proposed = leader.raw.proposeConfChange(cc);
  if (proposed.kind === 'notLeader') throw new NotLeaderError(leader.leaderStore(), 'lost the leadership');
  if (proposed.kind !== 'ok') throw new UnavailableError(`conf change refused (${proposed.reason})`);
  await until(store, CHANGE_TIMEOUT_MS, () => leader.desc.current.epoch.confVer > desc.epoch.confVer, `conf change of range ${desc.id} not applied`);
  return leader.desc.current;
}

/** Waits until the learner holds everything the leader has committed (so promoting it cannot stall commits). */
function waitCaughtUp(store: RangeAdminHost, leader: Replica, replicaId: number): Promise<void> {
  return until(
    store,
    CATCH_UP_TIMEOUT_MS,
    () => {
      const s = leader.raw.status();
      if (s.role !== 'leader') throw new NotLeaderError(leader.leaderStore(), 'lost the leadership while catching up a learner');
      return (s.progress.get(replicaId)?.match ?? 0) >= s.commit;
    },
    `learner ${replicaId} did not catch up`,
  );
}

async function until(store: RangeAdminHost, timeoutMs: number, done: () => boolean, what: string): Promise<void> {
  const deadline = store.deps.clock.monotonic() + timeoutMs;
  while (!done()) {
    if (store.deps.clock.monotonic() > deadline) throw new UnavailableError(`${what} within ${timeoutMs} ms`);
    await new Promise<void>((res) => store.deps.timers.setTimeout(res, 20));
  }
}

/** Approximate size of each range this store leads (what the placement driver schedules by). */
export async function leaderStats(store: RangeAdminHost): Promise<WireRangeStat[]> {
  const out: WireRangeStat[] = [];
  for (const r of store.replicas.values()) {
    const desc = r.desc.current;
    if (!r.isLeader()) {
      out.push({ range: desc, leaderStore: r.leaderStore(), approxBytes: 0, approxKeys: 0 });
      continue;
    }
    // One metadata record per key, holding the newest version (inline when short): the live data, roughly.
    const { gte, lt } = keys.metaBounds(desc.start, desc.end);
    let bytes = 0;
    let count = 0;
    for await (const [k, v] of store.engine.range(gte, lt)) {
      bytes += k.byteLength + v.byteLength;
      if (++count >= SCAN_CAP) break;
    }
    out.push({ range: desc, leaderStore: store.cfg.id, approxBytes: bytes, approxKeys: count });
  }
  return out;
}
