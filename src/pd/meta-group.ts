/**
 * The placement driver's Raft group as one range, PD_RANGE_ID, hosted on the
 * PD members' own stores (one LevelDB each): its linearizable get/put/scan
 * hold the PD metadata (see meta-keys.ts). The store is reached only through
 * PdRangeHost, which src/cli implements over a real Store, so pd never
 * imports the store code it runs on.
 */
import { nanoid } from 'nanoid';
import { UnavailableError } from '../common/index.js';
import type { RangeEpoch } from '../common/index.js';
import { fromWireError } from '../transport/index.js';
import type { WireKvRequest, WireKvResponse } from '../transport/index.js';
import type { PdGroup } from './group.js';

/** The PD group's range id on the PD members' stores. */
export const PD_RANGE_ID = 1;

/** What StorePdGroup reads of the store's replica of the PD range. */
export interface PdRangeReplica {
  isLeader(): boolean;
  /** The store this replica believes leads (0 = unknown). */
  leaderStore(): number;
  term(): number;
  epoch(): RangeEpoch;
}

/** What StorePdGroup needs of the store hosting the PD range. */
export interface PdRangeHost {
  /** This store's replica of `rangeId`, or undefined when it hosts none. */
  replica(rangeId: number): PdRangeReplica | undefined;
  /** Serves a range-level KV request as the store's KV service does: errors come back as data. */
  kv(req: WireKvRequest): Promise<WireKvResponse>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class StorePdGroup implements PdGroup {
  constructor(
    private readonly host: PdRangeHost,
    readonly memberId: number,
  ) {}

  private replica() {
    return this.host.replica(PD_RANGE_ID);
  }

  isLeader(): boolean {
    return this.replica()?.isLeader() ?? false;
  }

  leaderId(): number {
    return this.replica()?.leaderStore() ?? 0;
  }

  term(): number {
    return this.replica()?.term() ?? 0;
  }

  private async call(req: Partial<WireKvRequest> & { op: string; key: Uint8Array }): Promise<WireKvResponse> {
    const r = this.replica();
    if (!r) throw new UnavailableError('the placement driver group is not on this member');
    const full: WireKvRequest = { requestId: '', rangeId: PD_RANGE_ID, epoch: r.epoch(), value: new Uint8Array(0), hasValue: false, expect: new Uint8Array(0), hasExpect: false, end: new Uint8Array(0), limit: 0, retry: false, ts: 0n, payload: new Uint8Array(0), ...req };
    const res = await this.host.kv(full);
    const failed = fromWireError({ code: res.error, message: `placement driver metadata ${req.op} failed: ${res.message}`, leaderStore: res.leaderStore, ranges: res.ranges });
    if (failed) throw failed;
    return res;
  }

  async get(key: string): Promise<string | undefined> {
    const res = await this.call({ op: 'get', key: enc.encode(key) });
    return res.found ? dec.decode(res.value) : undefined;
  }

  async put(key: string, value: string): Promise<void> {
    await this.call({ op: 'put', key: enc.encode(key), value: enc.encode(value), hasValue: true, requestId: nanoid() });
  }

  async scan(prefix: string): Promise<[string, string][]> {
    const out: [string, string][] = [];
    let from = enc.encode(prefix);
    const end = enc.encode(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
    for (;;) {
      const res = await this.call({ op: 'scan', key: from, end, limit: 10_000 });
      for (const it of res.items) out.push([dec.decode(it.key), dec.decode(it.value)]);
      if (!res.more) return out;
      from = Uint8Array.from([...res.items[res.items.length - 1].key, 0]);
    }
  }
}
