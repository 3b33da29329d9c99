/**
 * `raftshard pd`: one placement driver member. Its Raft group is a range on a
 * small store of its own (own LevelDB, own gRPC port shared with the PD
 * service); the three members bootstrap the same group on first start.
 */
import { readFileSync } from 'node:fs';
import { DbError } from '../common/index.js';
import { DEFAULT_PD_CONFIG, deferredPdHandlers, PD_RANGE_ID, PlacementDriver, StorePdGroup } from '../pd/index.js';
import type { PdConfig } from '../pd/index.js';
import { rangesFromSplits } from '../replica/index.js';
import { Registry } from 'prom-client';
import { createLogger, processRegistry, SeededRng, systemClock, systemRng, systemTimers } from '../runtime/index.js';
import { Store, storePdRangeHost } from '../store/index.js';
import { grpcDialer, grpcStoreNetwork } from '../transport/index.js';
import { LevelEngine } from '../storage/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag } from './args.js';
import { announceReady, exitWithParent } from './exit-with-parent.js';
import { serveMetrics } from './metrics-server.js';
import { parsePeers } from './store-command.js';

export const PD_HELP = `Usage: raftshard pd --id N --peers ID=HOST:PORT,... [--dir DIR] [--listen HOST:PORT]
                    [--replicas R] [--split-bytes B] [--down-after-ms MS] [--replace-after-ms MS]
                    [--no-auto-balance] [--gc-lifetime-ms MS] [--metrics HOST:PORT] [--config FILE]

Runs one member of the placement driver, a 3-member Raft group that keeps the
range map and the store registry, allocates ids, serves timestamps and
schedules splits, moves and leader transfers. Give every member the same
--peers list (all members, this one included).

Options:
  --id N                this member's id in --peers (required)
  --peers LIST          all members, e.g. 1=127.0.0.1:8081,2=127.0.0.1:8082,3=127.0.0.1:8083
  --listen HOST:PORT    gRPC address (default: this member's address in --peers)
  --dir DIR             data directory (default ./data/pd-<id>)
  --replicas R          replicas per range (default 3)
  --split-bytes B       split a range once it holds more than B bytes (default 64 MiB)
  --down-after-ms MS    a store is down after MS without a heartbeat (default 5000)
  --replace-after-ms MS rebuild the replicas of a store down this long (default 60000)
  --no-auto-balance     balance only on "rebalance", not on its own
  --gc-lifetime-ms MS   keep MVCC versions readable this long; the GC safe point trails
                        now by it (default 600000: 10 minutes; a round runs every minute)
  --metrics HOST:PORT   serve Prometheus metrics at http://HOST:PORT/metrics
  --config FILE         JSON with the same settings (see config/pd.json)`;

export const PD_OPTIONS = {
  id: { type: 'string' },
  peers: { type: 'string' },
  listen: { type: 'string' },
  dir: { type: 'string' },
  replicas: { type: 'string' },
  'split-bytes': { type: 'string' },
  'down-after-ms': { type: 'string' },
  'replace-after-ms': { type: 'string' },
  'no-auto-balance': { type: 'boolean' },
  'gc-lifetime-ms': { type: 'string' },
  metrics: { type: 'string' },
  config: { type: 'string' },
} as const satisfies OptionSpec;

interface PdFileConfig {
  peers?: Record<string, string>;
  dir?: string;
  metrics?: string;
  replicas?: number;
  splitBytes?: number;
  downAfterMs?: number;
  replaceAfterMs?: number;
  scheduleMs?: number;
  autoBalance?: boolean;
  gcLifetimeMs?: number;
  gcIntervalMs?: number;
}

export async function pdCommand({ values }: ParsedArgs<typeof PD_OPTIONS>): Promise<void> {
  const file: PdFileConfig = values.config !== undefined ? (JSON.parse(readFileSync(values.config, 'utf8')) as PdFileConfig) : {};
  const id = intFlag(values, 'id', 0, 1);
  if (id === 0) throw new DbError('BAD_REQUEST', '--id is required (run "raftshard pd --help")');
  const members = new Map(Object.entries(file.peers ?? {}).map(([k, v]) => [Number(k), v]));
  if (values.peers) for (const [k, v] of parsePeers(values.peers)) members.set(k, v);
  if (!members.has(id)) throw new DbError('BAD_REQUEST', `--peers must list this member (id ${id})`);
  const cfg: PdConfig = {
    members,
    replicas: intFlag(values, 'replicas', file.replicas ?? DEFAULT_PD_CONFIG.replicas, 1),
    splitBytes: intFlag(values, 'split-bytes', file.splitBytes ?? DEFAULT_PD_CONFIG.splitBytes, 1),
    downAfterMs: intFlag(values, 'down-after-ms', file.downAfterMs ?? DEFAULT_PD_CONFIG.downAfterMs, 100),
    replaceAfterMs: intFlag(values, 'replace-after-ms', file.replaceAfterMs ?? DEFAULT_PD_CONFIG.replaceAfterMs, 0),
    scheduleMs: file.scheduleMs ?? DEFAULT_PD_CONFIG.scheduleMs,
    autoBalance: values['no-auto-balance'] !== true && (file.autoBalance ?? DEFAULT_PD_CONFIG.autoBalance),
    gcLifetimeMs: intFlag(values, 'gc-lifetime-ms', file.gcLifetimeMs ?? DEFAULT_PD_CONFIG.gcLifetimeMs, 0),
    gcIntervalMs: file.gcIntervalMs ?? DEFAULT_PD_CONFIG.gcIntervalMs,
  };
  const logger = createLogger(`pd-${id}`);
  exitWithParent();
  let pd: PlacementDriver | undefined;
  const handlers = deferredPdHandlers(() => pd);
  const dir = values.dir ?? file.dir ?? `./data/pd-${id}`;
  const store = await Store.open(
    { id, dir, listen: values.listen ?? members.get(id)!, peers: members, tickMs: 100, electionTick: 10 },
    { engine: await LevelEngine.open(dir), network: grpcStoreNetwork, clock: systemClock, timers: systemTimers, rng: new SeededRng(systemRng.int(2 ** 31)), logger },
    handlers,
  );
  await store.claimDataDir();
  // Every member creates the same group; on later starts this is a no-op.
  await store.createReplica(rangesFromSplits([], [...members.keys()].sort((a, b) => a - b), PD_RANGE_ID)[0], true);
  const group = new StorePdGroup(storePdRangeHost(store), id);
  pd = new PlacementDriver(cfg, group, { clock: systemClock, timers: systemTimers, logger, dialer: grpcDialer });
  const metricsAddr = values.metrics ?? file.metrics;
  // The PD member's own store (hosting the PD group) and the placement driver: one registry each.
  const metrics = metricsAddr ? await serveMetrics(metricsAddr, Registry.merge([processRegistry(), store.metrics.registry, pd.metrics.registry])) : undefined;
  announceReady(`pd ${id} listening on ${store.port}${metricsAddr ? `, metrics on http://${metricsAddr}/metrics` : ''}`);
  logger.info({ id, members: Object.fromEntries(members) }, 'placement driver member started');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    pd?.close();
    metrics?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
