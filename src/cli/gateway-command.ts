/** `raftshard gateway`: the HTTP API over a set of stores. */
import { DbError } from '../common/index.js';
import { buildApp, KvRouter } from '../gateway/index.js';
import { createLogger, systemClock, systemTimers } from '../runtime/index.js';
import type { ParsedArgs } from './args.js';
import { splitHostPort } from './metrics-server.js';
import { parsePeers } from './store-command.js';
import { exitWithParent } from './exit-with-parent.js';

export const GATEWAY_HELP = `Usage: raftshard gateway --stores ID=HOST:PORT,... [--listen HOST:PORT]

Serves the HTTP API (key-value, /health, /metrics) and routes each request to
the leader of the range that holds its key, retrying on stale routing for up to
10 s before answering 503.

Options:
  --stores LIST       the stores, e.g. 1=127.0.0.1:8091,2=127.0.0.1:8092,3=127.0.0.1:8093
  --listen HOST:PORT  HTTP address (default 127.0.0.1:8080)`;

export async function gatewayCommand(args: ParsedArgs): Promise<void> {
  const storesFlag = args.flags.get('stores');
  if (typeof storesFlag !== 'string') throw new DbError('BAD_REQUEST', '--stores is required (run "raftshard gateway --help")');
  const listen = typeof args.flags.get('listen') === 'string' ? String(args.flags.get('listen')) : '127.0.0.1:8080';
  const [host, port] = splitHostPort(listen);
  const logger = createLogger('gateway');
  exitWithParent();
  const router = new KvRouter(parsePeers(storesFlag), systemClock, systemTimers);
  await router.refresh();
  const { app } = buildApp(router);
  await app.listen({ host, port });
  console.log(`gateway listening on http://${listen}`);
  logger.info({ listen, ranges: router.ranges.length }, 'gateway started');
  const stop = async () => {
    await app.close();
    router.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
