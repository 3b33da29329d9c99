/**
 * `raftshard store`: one store process. Flags override the config file, which
 * overrides the defaults in config/store.json.
 */
import { readFileSync } from 'node:fs';
import { DbError } from '../common/index.js';
import { Registry } from 'prom-client';
import { createLogger, processRegistry, SeededRng, systemClock, systemRng, systemTimers } from '../runtime/index.js';
import { Store, StoreHeartbeat } from '../store/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag } from './args.js';
import { serveMetrics } from './metrics-server.js';
import { announceReady, exitWithParent } from './exit-with-parent.js';
import { grpcDialer, grpcStoreNetwork, PdClient } from '../transport/index.js';
import { LevelEngine } from '../storage/index.js';
import { resolveStoreId } from './store-id.js';

export const STORE_HELP = `Usage: raftshard store --dir DIR --listen HOST:PORT --pd ADDR[,ADDR...] [--id N]
                       [--advertise HOST:PORT] [--metrics HOST:PORT] [--tick-ms MS]
                       [--election-tick N] [--no-lease-reads] [--config FILE]
       raftshard store --id N --listen HOST:PORT --dir DIR --peers ID=HOST:PORT,...   (no PD)

Starts one store: it hosts range replicas (each a Raft group) in one LevelDB
under DIR, talks to the other stores over gRPC, and serves range-level KV
requests. With --pd it registers with the placement driver (which allocates
an id when --id is not given, kept in DIR), heartbeats, learns the other
stores from it and gets ranges from it: a store started against a running
cluster joins it. Without --pd, ranges are created with "raftshard bootstrap".

Options:
  --pd LIST           placement driver members, e.g. 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083
  --id N              this store's id (unique in the cluster; optional with --pd)
  --listen HOST:PORT  gRPC address (default from config: 127.0.0.1:7101)
  --advertise H:P     the address other processes reach it on (default: --listen)
  --dir DIR           data directory (default ./data/store-<id>)
  --peers LIST        the other stores, e.g. 2=127.0.0.1:7102,3=127.0.0.1:7103 (without --pd)
  --metrics HOST:PORT serve Prometheus metrics at http://HOST:PORT/metrics
  --tick-ms MS        Raft tick (default 100)
  --election-tick N   election timeout in ticks (default 10)
  --no-lease-reads    confirm every read with a quorum (a ReadIndex round)
                      instead of serving it on the leader's lease; the lease
                      assumes the stores' clocks run at rates within 20 %
  --config FILE       JSON file with the same settings (see config/store.json)`;

export const STORE_OPTIONS = {
  pd: { type: 'string' },
  id: { type: 'string' },
  listen: { type: 'string' },
  advertise: { type: 'string' },
  dir: { type: 'string' },
  peers: { type: 'string' },
  metrics: { type: 'string' },
  'tick-ms': { type: 'string' },
  'election-tick': { type: 'string' },
  'no-lease-reads': { type: 'boolean' },
  config: { type: 'string' },
} as const satisfies OptionSpec;

interface StoreFileConfig {
  listen?: string;
  advertise?: string;
  pd?: string;
  dir?: string;
  metrics?: string;
  tickMs?: number;
  electionTick?: number;
  peers?: Record<string, string>;
  leaseReads?: boolean;
}

export function parsePeers(list: string): Map<number, string> {
  const peers = new Map<number, string>();
  for (const part of list.split(',').filter(Boolean)) {
    const [id, addr] = part.split('=');
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n <= 0 || !addr) throw new DbError('BAD_REQUEST', `bad peer "${part}": expected ID=HOST:PORT`);
    peers.set(n, addr);
  }
  return peers;
}

export async function storeCommand({ values }: ParsedArgs<typeof STORE_OPTIONS>): Promise<void> {
  const file: StoreFileConfig = values.config !== undefined ? (JSON.parse(readFileSync(values.config, 'utf8')) as StoreFileConfig) : {};
  const pdAddresses = (values.pd ?? file.pd ?? '').split(',').filter(Boolean);
  const pd = pdAddresses.length > 0 ? new PdClient(pdAddresses, systemClock, systemTimers, grpcDialer) : undefined;
  const listen = values.listen ?? file.listen ?? '127.0.0.1:7101';
  const advertise = values.advertise ?? file.advertise ?? listen;
  const flagId = intFlag(values, 'id', 0, 1);
  if (flagId === 0 && !pd) throw new DbError('BAD_REQUEST', '--id is required without --pd (run "raftshard store --help")');
  if (flagId === 0 && !(values.dir ?? file.dir)) throw new DbError('BAD_REQUEST', '--dir is required without --id (the allocated id is kept there)');
  exitWithParent();
  const dirFlag = values.dir ?? file.dir;
  const id = pd ? await resolveStoreId(pd, dirFlag ?? `./data/store-${flagId}`, flagId, advertise) : flagId;
  const peers = new Map(Object.entries(file.peers ?? {}).map(([k, v]) => [Number(k), v]));
  if (values.peers) for (const [k, v] of parsePeers(values.peers)) peers.set(k, v);
  const logger = createLogger(`store-${id}`);
  if (pd) for (const s of (await pd.call('GetStores', {}, 60_000)).stores) if (s.id !== id) peers.set(s.id, s.address);
  const dir = dirFlag ?? `./data/store-${id}`;
  const store = await Store.open(
    {
      id,
      dir,
      listen,
      peers,
      tickMs: intFlag(values, 'tick-ms', file.tickMs ?? 100, 1),
      electionTick: intFlag(values, 'election-tick', file.electionTick ?? 10, 2),
      leaseReads: values['no-lease-reads'] !== true && (file.leaseReads ?? true),
    },
    {
      engine: await LevelEngine.open(dir),
      network: grpcStoreNetwork,
      clock: systemClock,
      timers: systemTimers,
      rng: new SeededRng(systemRng.int(2 ** 31)),
      logger,
      tso: pd ? () => pd.tso() : undefined,
    },
  );
  const heartbeat = pd ? new StoreHeartbeat(store, pd, advertise, systemTimers, logger) : undefined;
  if (!heartbeat) await store.claimDataDir();
  try {
    await heartbeat?.start();
  } catch (err) {
    // Refused by the placement driver: serving at all could vote with forgotten state.
    logger.fatal({ err: (err as Error).message }, 'placement driver refused this store; exiting');
    console.error(`raftshard: ${(err as Error).message}`);
    process.exit(3);
  }
  const metricsAddr = values.metrics ?? file.metrics;
  const metrics = metricsAddr ? await serveMetrics(metricsAddr, Registry.merge([processRegistry(), store.metrics.registry])) : undefined;
  announceReady(`store ${id} listening on ${store.port}${metricsAddr ? `, metrics on http://${metricsAddr}/metrics` : ''}`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    metrics?.close();
    heartbeat?.close();
    pd?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
