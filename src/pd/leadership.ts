/**
 * This member's leadership of the PD group. Only the leader serves; the other
 * members answer with a redirect. On becoming leader a member reloads the
 * metadata from the group (so it sees everything earlier leaders committed)
 * and reserves fresh id and timestamp windows above theirs.
 */
import { composeTimestamp, DbError } from '../common/index.js';
import type { RangeDescriptor } from '../common/index.js';
import { decodeDescriptor, encodeDescriptor } from '../replica/index.js';
import type { PdRedirect } from '../transport/index.js';
import { ClusterState } from './cluster-state.js';
import type { StoreRetirement, StoreState } from './cluster-state.js';
import type { PdConfig, PdDeps } from './config.js';
import type { PdGroup } from './group.js';
import { BOOTSTRAPPED_KEY, NEXT_ID_KEY, RANGES_PREFIX, rangeKey, storeKey, STORES_PREFIX, TSO_KEY } from './meta-keys.js';
import { Operators } from './operators.js';
import { TsoLease } from './tso-lease.js';
import { WindowAllocator } from './window-allocator.js';

/** Ids below this are left for stores given an explicit --id. */
const FIRST_ALLOCATED_ID = 1000;

/** What the leader holds for one term, rebuilt from the group when the term changes. */
export interface LeaderTerm {
  readonly term: number;
  readonly state: ClusterState;
  readonly tso: WindowAllocator;
  /** When timestamps may be handed out without a quorum round each (see tso-lease.ts). */
  readonly tsoLease: TsoLease;
  readonly ids: WindowAllocator;
  readonly operators: Operators;
  /** The first range exists (BOOTSTRAPPED_KEY is set). */
  bootstrapped: boolean;
  /** Offers a descriptor to the range map and persists it if the map took it (a newer epoch). */
  saveRange(desc: RangeDescriptor): Promise<void>;
  /**
   * Applies `changes` to store `id` (created if new) and persists its record
   * (address, retirement). Calls run one at a time, each merging into the
   * registry's current entry, so a registration and a decommission never
   * overwrite each other's fields.
   */
  saveStore(id: number, changes: Partial<Omit<StoreState, 'id'>>): Promise<void>;
}

export class Leadership {
  private current: LeaderTerm | undefined;
  private loading: Promise<LeaderTerm> | undefined;

  constructor(
    private readonly cfg: PdConfig,
    private readonly group: PdGroup,
    private readonly deps: PdDeps,
  ) {}

  /** Where a member that does not lead sends its callers; undefined on the leader. */
  redirect(): PdRedirect | undefined {
    if (this.group.isLeader()) return undefined;
    return { notLeader: true, leaderAddress: this.cfg.members.get(this.group.leaderId()) ?? '' };
  }

  /** The current term's state, loading it first if this member just became leader. */
  async lead(): Promise<LeaderTerm> {
    const term = this.group.term();
    if (this.current?.term === term) return this.current;
    this.loading ??= this.load(term).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Runs `fn` on the leader's state; any other member answers with a redirect. */
  async serve<T>(fn: (l: LeaderTerm) => Promise<T>): Promise<T | { redirect: PdRedirect }> {
    const redirect = this.redirect();
    if (redirect) return { redirect };
    return fn(await this.lead());
  }

  close(): void {
    this.current?.operators.close();
  }

  private async load(term: number): Promise<LeaderTerm> {
    this.current?.operators.close();
    this.current = undefined;
    const { clock, timers, logger, dialer } = this.deps;
    const state = new ClusterState(this.cfg.downAfterMs, clock.monotonic());
    for (const [, v] of await this.group.scan(STORES_PREFIX)) {
      const s = JSON.parse(v) as { id: number; address: string; retire?: StoreRetirement };
      state.stores.set(s.id, { id: s.id, address: s.address, pid: 0, lastHeartbeat: 0, retire: s.retire });
    }
    for (const [, v] of await this.group.scan(RANGES_PREFIX)) state.offer(decodeDescriptor(Buffer.from(v, 'base64')));
    // A window of 3 s of timestamps: one Raft write per 3 s of TSO traffic at most.
    const tso = new WindowAllocator(this.group, TSO_KEY, composeTimestamp(3_000, 0), () => composeTimestamp(clock.now(), 0));
    const ids = new WindowAllocator(this.group, NEXT_ID_KEY, 100n, () => BigInt(FIRST_ALLOCATED_ID));
    await tso.init();
    await ids.init();
    const bootstrapped = (await this.group.get(BOOTSTRAPPED_KEY)) === '1';
    const saveRange = async (desc: RangeDescriptor): Promise<void> => {
      if (state.offer(desc)) await this.group.put(rangeKey(desc.id), Buffer.from(encodeDescriptor(state.ranges.get(desc.id)!.desc)).toString('base64'));
    };
    let storeWrites: Promise<unknown> = Promise.resolve();
    const saveStore = (id: number, changes: Partial<Omit<StoreState, 'id'>>): Promise<void> => {
      const write = storeWrites.then(async () => {
        const known = state.stores.get(id);
        const next: StoreState = { id, address: '', pid: 0, lastHeartbeat: 0, ...known, ...changes };
        await this.group.put(storeKey(id), JSON.stringify({ id, address: next.address, ...(next.retire ? { retire: next.retire } : {}) }));
        // In place, and only the changed fields: a heartbeat handled meanwhile keeps what it set.
        const current = state.stores.get(id);
        if (current) Object.assign(current, changes);
        else state.stores.set(id, next);
      });
      storeWrites = write.catch(() => {});
      return write;
    };
    const l: LeaderTerm = {
      term,
      state,
      tso,
      tsoLease: new TsoLease(this.group, term, clock, timers),
      ids,
      bootstrapped,
      saveRange,
      saveStore,
      operators: new Operators({
        state,
        clock,
        timers,
        logger,
        dialer,
        allocId: async () => Number(await ids.take(1)),
        stillLeader: () => this.group.isLeader() && this.group.term() === term,
        saveRange,
      }),
    };
    if (this.group.term() !== term || !this.group.isLeader()) throw new DbError('UNAVAILABLE', 'lost the placement driver leadership while loading');
    this.current = l;
    logger.info({ term, stores: state.stores.size, ranges: state.ranges.size }, 'placement driver leader ready');
    return l;
  }
}
