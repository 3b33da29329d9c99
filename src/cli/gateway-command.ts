/** `raftshard gateway`: the HTTP API over a set of stores. */
import { readFileSync } from 'node:fs';
import { DbError } from '../common/index.js';
import { buildApp, DEFAULT_LIMITS, KvRouter } from '../gateway/index.js';
import { createLogger, processRegistry, systemClock, systemTimers } from '../runtime/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { splitHostPort } from './metrics-server.js';
import { grpcDialer, PdClient } from '../transport/index.js';
import { announceReady, exitWithParent } from './exit-with-parent.js';

export const GATEWAY_HELP = `Usage: raftshard gateway --pd ADDR[,ADDR...] [--listen HOST:PORT] [--config FILE]

Serves the HTTP API (key-value, /admin/*, /health, /metrics). It learns the
ranges and stores from the placement driver, routes each request to the leader
of the range that holds its key, and retries on stale routing for up to 10 s
before answering 503. It keeps no state: run as many as you like.

Options:
  --pd LIST           placement driver members, e.g. 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083
  --listen HOST:PORT  HTTP address (default 127.0.0.1:8080)
  --config FILE       JSON with the same settings (see config/gateway.json); flags override it`;

export const GATEWAY_COMMAND_OPTIONS = { pd: { type: 'string' }, listen: { type: 'string' }, config: { type: 'string' } } as const satisfies OptionSpec;

export async function gatewayCommand({ values }: ParsedArgs<typeof GATEWAY_COMMAND_OPTIONS>): Promise<void> {
  const file = (values.config !== undefined ? JSON.parse(readFileSync(values.config, 'utf8')) : {}) as { pd?: string; listen?: string };
  const pdFlag = values.pd ?? file.pd;
  if (!pdFlag) throw new DbError('BAD_REQUEST', '--pd is required (run "raftshard gateway --help")');
  const listen = values.listen ?? file.listen ?? '127.0.0.1:8080';
  const [host, port] = splitHostPort(listen);
  const logger = createLogger('gateway');
  exitWithParent();
  const router = new KvRouter(new PdClient(pdFlag.split(',').filter(Boolean), systemClock, systemTimers, grpcDialer), systemClock, systemTimers, grpcDialer);
  await router.refresh().catch((err: Error) => logger.warn({ err: err.message }, 'placement driver not reachable yet'));
  const { app } = buildApp(router, DEFAULT_LIMITS, processRegistry());
  await app.listen({ host, port });
  announceReady(`gateway listening on http://${listen}`);
  logger.info({ listen, ranges: router.ranges.length }, 'gateway started');
  const stop = async () => {
    await app.close();
    router.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
