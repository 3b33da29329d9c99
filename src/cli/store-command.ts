/**
 * `raftshard store`: one store process. Flags override the config file, which
 * overrides the defaults in config/store.json.
 */
import { readFileSync } from 'node:fs';
import { DbError } from '../common/index.js';
import { createLogger, SeededRng, systemClock, systemRng, systemTimers } from '../runtime/index.js';
import { Store } from '../store/index.js';
import type { ParsedArgs } from './args.js';
import { intFlag } from './args.js';
import { serveMetrics } from './metrics-server.js';
import { exitWithParent } from './exit-with-parent.js';

export const STORE_HELP = `Usage: raftshard store --id N --listen HOST:PORT --dir DIR [--peers ID=HOST:PORT,...]
                       [--metrics HOST:PORT] [--tick-ms MS] [--election-tick N] [--config FILE]

Starts one store: it hosts range replicas (each a Raft group) in one LevelDB
under DIR, talks to the other stores over gRPC, and serves range-level KV
requests. Ranges are created on it with "raftshard bootstrap" (the placement
driver will do this once it exists; --pd is not supported yet).

Options:
  --id N              this store's id (required; unique in the cluster)
  --listen HOST:PORT  gRPC address (default from config: 127.0.0.1:7101)
  --dir DIR           data directory (default ./data/store-<id>)
  --peers LIST        the other stores, e.g. 2=127.0.0.1:7102,3=127.0.0.1:7103
  --metrics HOST:PORT serve Prometheus metrics at http://HOST:PORT/metrics
  --tick-ms MS        Raft tick (default 100)
  --election-tick N   election timeout in ticks (default 10)
  --config FILE       JSON file with the same settings (see config/store.json)`;

interface StoreFileConfig {
  listen?: string;
  dir?: string;
  metrics?: string;
  tickMs?: number;
  electionTick?: number;
  peers?: Record<string, string>;
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

export async function storeCommand(args: ParsedArgs): Promise<void> {
  const file: StoreFileConfig = args.flags.has('config') ? (JSON.parse(readFileSync(String(args.flags.get('config')), 'utf8')) as StoreFileConfig) : {};
  const id = intFlag(args, 'id', 0, 1);
  if (id === 0) throw new DbError('BAD_REQUEST', '--id is required (run "raftshard store --help")');
  const str = (name: string, fallback: string | undefined) => {
    const v = args.flags.get(name);
    return typeof v === 'string' ? v : fallback;
  };
  const peers = new Map(Object.entries(file.peers ?? {}).map(([k, v]) => [Number(k), v]));
  const peerFlag = str('peers', undefined);
  if (peerFlag) for (const [k, v] of parsePeers(peerFlag)) peers.set(k, v);
  const logger = createLogger(`store-${id}`);
  exitWithParent();
  const store = await Store.open(
    {
      id,
      dir: str('dir', file.dir) ?? `./data/store-${id}`,
      listen: str('listen', file.listen) ?? '127.0.0.1:7101',
      peers,
      tickMs: intFlag(args, 'tick-ms', file.tickMs ?? 100, 1),
      electionTick: intFlag(args, 'election-tick', file.electionTick ?? 10, 2),
    },
    { clock: systemClock, timers: systemTimers, rng: new SeededRng(systemRng.int(2 ** 31)), logger },
  );
  const metricsAddr = str('metrics', file.metrics);
  const metrics = metricsAddr ? await serveMetrics(metricsAddr, () => store.renderMetrics()) : undefined;
  console.log(`store ${id} listening on ${store.port}${metricsAddr ? `, metrics on http://${metricsAddr}/metrics` : ''}`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    metrics?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
