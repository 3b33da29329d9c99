/**
 * The contract's /admin API (§2.3): views of the placement driver's range map,
 * store registry and members, and the operator commands, which the PD runs
 * and which answer once done. Bodies are checked by JSON schema before
 * anything reaches the PD.
 */
import type { FastifyInstance } from 'fastify';
import { DbError } from '../common/index.js';
import type { WireRangeStat } from '../transport/index.js';
import type { KvRouter } from './kv-router.js';
import type { RangeDescriptor } from '../common/index.js';

const dec = new TextDecoder();

/** A range as the admin API shows it. */
export function rangeJson(r: RangeDescriptor, stat?: Partial<WireRangeStat>): Record<string, unknown> {
  return {
    id: r.id,
    start: dec.decode(r.start),
    end: dec.decode(r.end),
    epoch: { version: r.epoch.version, confVer: r.epoch.confVer },
    replicas: r.replicas.map((rep) => ({ store: rep.store, role: rep.role })),
    leader: stat?.leaderStore ? stat.leaderStore : null,
    approxBytes: stat?.approxBytes ?? 0,
    approxKeys: stat?.approxKeys ?? 0,
  };
}

const id = { type: 'integer', minimum: 1 } as const;
const body = (required: Record<string, unknown>) => ({
  body: { type: 'object', required: Object.keys(required), properties: required, additionalProperties: false },
});

export function registerAdminRoutes(app: FastifyInstance, router: KvRouter, maxKeyBytes: number): Record<string, string[]> {
  const pd = router.pd;

  app.get('/admin/ranges', async () => {
    const res = await pd.call('GetRanges', {});
    return { ranges: res.ranges.map((s) => rangeJson(s.range, s)) };
  });

  app.get('/admin/stores', async () => {
    const res = await pd.call('GetStores', {});
    return { stores: res.stores.map((s) => ({ id: s.id, address: s.address, pid: s.pid || null, state: s.state, ranges: s.ranges, leaders: s.leaders })) };
  });

  app.get('/admin/pd', async () => {
    const res = await pd.members();
    return { members: res.members.map((m) => ({ id: m.id, address: m.address, pid: m.pid || null, leader: m.leader })), term: res.term };
  });

  /** A range with the leader and size the PD last heard of. */
  const withStats = async (r: RangeDescriptor) => {
    const stats = await pd.call('GetRanges', {}).catch(() => ({ ranges: [] as WireRangeStat[] }));
    return rangeJson(r, stats.ranges.find((s) => s.range.id === r.id));
  };

  app.post<{ Body: { key: string } }>('/admin/split', { schema: body({ key: { type: 'string', minLength: 1 } }) }, async (req) => {
    const bytes = Buffer.byteLength(req.body.key);
    if (bytes > maxKeyBytes) throw new DbError('TOO_LARGE', `key is ${bytes} bytes; the limit is ${maxKeyBytes}`);
    const res = (await pd.admin('split', req.body)) as { left: RangeDescriptor; right: RangeDescriptor };
    await router.refresh().catch(() => {});
    return { left: await withStats(revive(res.left)), right: await withStats(revive(res.right)) };
  });

  app.post<{ Body: { range: number; from: number; to: number } }>('/admin/move', { schema: body({ range: id, from: id, to: id }) }, async (req) => {
    const res = revive((await pd.admin('move', req.body)) as RangeDescriptor);
    await router.refresh().catch(() => {});
    return withStats(res);
  });

  app.post<{ Body: { range: number; to: number } }>('/admin/transfer-leader', { schema: body({ range: id, to: id }) }, async (req) => {
    await pd.admin('transfer-leader', req.body);
    return { ok: true };
  });

  app.post('/admin/rebalance', async () => {
    const res = (await pd.admin('rebalance', {}, 600_000)) as { moves: unknown[] };
    await router.refresh().catch(() => {});
    return { moves: res.moves };
  });

  app.get('/admin/gc', async () => pd.admin('gc-safe-point', {}));

  // One GC round over every range; it answers when every range leader has collected.
  app.post('/admin/gc', async () => pd.admin('gc', {}, 600_000));

  app.post<{ Body: { store: number } }>('/admin/decommission', { schema: body({ store: id }) }, async (req) => {
    const res = await pd.admin('decommission', req.body, 3_600_000);
    await router.refresh().catch(() => {});
    return res;
  });

  return {
    '/admin/ranges': ['GET'],
    '/admin/stores': ['GET'],
    '/admin/pd': ['GET'],
    '/admin/split': ['POST'],
    '/admin/move': ['POST'],
    '/admin/transfer-leader': ['POST'],
    '/admin/rebalance': ['POST'],
    '/admin/decommission': ['POST'],
    '/admin/gc': ['GET', 'POST'],
  };
}

/** Descriptors that crossed the PD's JSON: Buffers arrive as {type, data}. */
function revive(r: RangeDescriptor): RangeDescriptor {
  const bytes = (b: unknown): Uint8Array => (b instanceof Uint8Array ? b : Uint8Array.from((b as { data: number[] }).data ?? []));
  return { ...r, start: bytes(r.start), end: bytes(r.end) };
}
