/**
 * The HTTP API of ../shared/CONTRACT.md §2 that exists so far: key-value
 * (`/kv`, single-key transactions over MVCC through src/txn), transactions
 * (`/txn`, see txn-route.ts), administration (`/admin/*`, see
 * admin-routes.ts), `/health`, `/metrics`. Errors always have the body
 * {"error", "code"}; bad input changes nothing and never crashes the process.
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WireKvResponse } from '../transport/index.js';
import type { KvRouter } from './kv-router.js';
import { registerAdminRoutes } from './admin-routes.js';
import { assertNever, DbError } from '../common/index.js';
import type { ErrorCode } from '../common/index.js';
import type { Registry } from 'prom-client';
import { GatewayMetrics } from './metrics.js';
import { TxnClient } from '../txn/index.js';
import { registerTxnRoute } from './txn-route.js';
import { registerDbRoutes } from './db-routes.js';
import type { GatewayStats } from './metrics.js';

export type { GatewayStats } from './metrics.js';

export interface GatewayLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

export const DEFAULT_LIMITS: GatewayLimits = { maxKeyBytes: 4096, maxValueBytes: 1 << 20 };

const enc = new TextEncoder();
const dec = new TextDecoder();

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const badRequest = (msg: string) => new HttpError(400, 'BAD_REQUEST', msg);

/** `processMetrics`: process-wide metrics (src/cli's) that GET /metrics serves along with the gateway's. */
export function buildApp(router: KvRouter, limits: GatewayLimits = DEFAULT_LIMITS, processMetrics?: Registry): { app: FastifyInstance; stats: GatewayStats; metrics: GatewayMetrics } {
  const txns = new TxnClient(router, (count) => router.pd.tso(count), router.clock, router.timers);
  const metrics = new GatewayMetrics(router.clock, router, processMetrics);
  const stats = metrics.stats;
  const app = Fastify({ bodyLimit: limits.maxValueBytes + 64 * 1024, logger: false, ajv: { customOptions: { coerceTypes: false } }, routerOptions: { maxParamLength: limits.maxKeyBytes * 3 + 16 } });

  const keyOf = (raw: string): Uint8Array => {
    const key = enc.encode(raw);
    if (key.byteLength === 0) throw badRequest('key must not be empty');
    if (key.byteLength > limits.maxKeyBytes) throw new HttpError(413, 'TOO_LARGE', `key is ${key.byteLength} bytes; the limit is ${limits.maxKeyBytes}`);
    return key;
  };
  const valueOf = (v: unknown, field: string, nullable: boolean): Uint8Array | null => {
    if (v === null && nullable) return null;
    if (typeof v !== 'string') throw badRequest(`"${field}" must be a string${nullable ? ' or null' : ''}`);
    const bytes = enc.encode(v);
    if (bytes.byteLength > limits.maxValueBytes) throw new HttpError(413, 'TOO_LARGE', `"${field}" is ${bytes.byteLength} bytes; the limit is ${limits.maxValueBytes}`);
    return bytes;
  };
  const objectBody = (body: unknown): Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
    return body as Record<string, unknown>;
  };

  metrics.instrument(app);

  app.get<{ Params: { key: string } }>('/kv/:key', async (req) => {
    const key = keyOf(req.params.key);
    const res = check(await txns.read({ op: 'get', key }));
    if (!res.found) throw new HttpError(404, 'NOT_FOUND', `key ${JSON.stringify(req.params.key)} not found`);
    return { key: req.params.key, value: dec.decode(res.value) };
  });

  app.put<{ Params: { key: string } }>('/kv/:key', async (req) => {
    const key = keyOf(req.params.key);
    const body = objectBody(req.body);
    if (!('value' in body)) throw badRequest('missing "value"');
    const value = valueOf(body.value, 'value', false)!;
    check(await txns.write({ op: 'put', key, value, hasValue: true }));
    return { ok: true };
  });

  app.delete<{ Params: { key: string } }>('/kv/:key', async (req) => {
    const key = keyOf(req.params.key);
    const res = check(await txns.write({ op: 'delete', key }));
    return { ok: true, deleted: res.deleted };
  });

  app.post<{ Params: { key: string } }>('/kv/:key/cas', async (req, reply) => {
    const key = keyOf(req.params.key);
    const body = objectBody(req.body);
    if (!('expect' in body)) throw badRequest('missing "expect" (a string, or null for "absent")');
    if (!('value' in body)) throw badRequest('missing "value" (a string, or null to delete)');
    const expect = valueOf(body.expect, 'expect', true);
    const value = valueOf(body.value, 'value', true);
    const res = await txns.write({ op: 'cas', key, hasExpect: expect !== null, expect: expect ?? undefined, hasValue: value !== null, value: value ?? undefined });
    if (res.error === 'CONFLICT') {
      countError(stats, 'CONFLICT');
      return reply.code(409).send({ ok: false, current: res.found ? dec.decode(res.value) : null, code: 'CONFLICT', error: 'compare failed: the current value differs from "expect"' });
    }
    check(res);
    return { ok: true };
  });

  app.get<{ Querystring: Record<string, unknown> }>('/kv', async (req) => {
    const q = req.query;
    const start = typeof q.start === 'string' ? enc.encode(q.start) : new Uint8Array(0);
    const end = typeof q.end === 'string' ? enc.encode(q.end) : new Uint8Array(0);
    let limit = 1000;
    if (q.limit !== undefined) {
      limit = Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw badRequest('"limit" must be an integer in 1..10000');
    }
    return scan(router, txns, start, end, limit);
  });

  const adminRoutes = registerAdminRoutes(app, router, limits.maxKeyBytes);
  const txnRoutes = registerTxnRoute(app, txns, {
    key: (raw, field) => {
      if (typeof raw !== 'string') throw badRequest(`"${field}" must be a string`);
      return keyOf(raw);
    },
    value: (raw, field) => valueOf(raw, field, false)!,
    badRequest,
  });

  app.get('/health', async (_req, reply) => {
    const pdError = await router.refresh().then(
      () => undefined,
      (err: Error) => err.message,
    );
    if (pdError) return reply.code(503).header('retry-after', '1').send({ ok: false, code: 'UNAVAILABLE', error: `placement driver: ${pdError}` });
    const leaders = await router.leaderMap();
    const missing = router.ranges.filter((r) => !leaders.has(r.id)).map((r) => r.id);
    if (router.ranges.length === 0 || missing.length > 0) {
      return reply.code(503).header('retry-after', '1').send({ ok: false, code: 'UNAVAILABLE', error: router.ranges.length === 0 ? 'no ranges reachable' : `ranges without a leader: ${missing.join(', ')}`, missing });
    }
    return { ok: true, pid: process.pid };
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));

  // Known routes answer other methods with 405.
  const methods = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'] as const;
  const dbRoutes = registerDbRoutes(app, txns, router.clock);
  const allowed: Record<string, string[]> = { '/kv/:key': ['GET', 'PUT', 'DELETE'], '/kv/:key/cas': ['POST'], '/kv': ['GET'], '/health': ['GET'], '/metrics': ['GET'], ...adminRoutes, ...txnRoutes, ...dbRoutes };
  for (const [url, ok] of Object.entries(allowed)) {
    const others = methods.filter((m) => !ok.includes(m));
    app.route({ method: others, url, handler: async (_req, reply) => sendError(reply, stats, new HttpError(405, 'METHOD_NOT_ALLOWED', `${url} takes ${ok.join(', ')}`)) });
  }

  app.setNotFoundHandler((req, reply) => sendError(reply, stats, new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.url}`)));
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof HttpError) return sendError(reply, stats, err);
    if (err instanceof DbError) {
      const [status, code] = httpStatusOf(err.code);
      return sendError(reply, stats, new HttpError(status, code, err.message));
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, stats, new HttpError(413, 'TOO_LARGE', 'request body too large'));
    if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return sendError(reply, stats, badRequest(e.message ?? 'bad request'));
    return sendError(reply, stats, new HttpError(503, 'UNAVAILABLE', e.message ?? 'internal error'));
  });
  return { app, stats, metrics };
}

/**
 * The contract's status for an error code (CONTRACT.md §2): 503 promises that
 * nothing was applied, 504 that a write's outcome is unknown.
 */
function httpStatusOf(code: ErrorCode): [number, string] {
  switch (code) {
    case 'BAD_REQUEST':
      return [400, 'BAD_REQUEST'];
    case 'NOT_FOUND':
      return [404, 'NOT_FOUND'];
    case 'CONFLICT':
    case 'WRITE_CONFLICT':
      return [409, 'CONFLICT'];
    case 'TOO_LARGE':
      return [413, 'TOO_LARGE'];
    case 'OUTCOME_UNKNOWN':
      return [504, 'OUTCOME_UNKNOWN'];
    case 'NOT_LEADER':
    case 'EPOCH_NOT_MATCH':
    case 'KEY_NOT_IN_RANGE':
    case 'RANGE_NOT_FOUND':
    case 'UNAVAILABLE':
    case 'STORE_NOT_REGISTERED':
    case 'STORE_REFUSED':
    case 'KEY_LOCKED':
    case 'TXN_NOT_FOUND':
    case 'STORAGE_CORRUPTION':
    case 'ENGINE_CLOSED':
    case 'BAD_SNAPSHOT':
    case 'CORRUPT_COMMAND':
    case 'CORRUPT_RESULT':
    case 'MALFORMED_MESSAGE':
    case 'INTERNAL':
      return [503, 'UNAVAILABLE'];
    default:
      return assertNever(code, 'error code');
  }
}

function check(res: WireKvResponse): WireKvResponse {
  if (res.error === 'BAD_REQUEST') throw badRequest(res.message);
  if (res.error !== '') throw new HttpError(503, 'UNAVAILABLE', `${res.error}: ${res.message}`);
  return res;
}

function countError(stats: GatewayStats, code: string): void {
  stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);
}

function sendError(reply: FastifyReply, stats: GatewayStats, err: HttpError): FastifyReply {
  countError(stats, err.code);
  if (err.status === 503) reply.header('retry-after', '1');
  return reply.code(err.status).send({ error: err.message, code: err.code, ...err.extra });
}

/** A scan of the newest committed state in key order across range boundaries. */
async function scan(router: KvRouter, txns: TxnClient, start: Uint8Array, end: Uint8Array, limit: number): Promise<{ items: { key: string; value: string }[]; more: boolean }> {
  const items: { key: string; value: string }[] = [];
  let from = start;
  for (;;) {
    const res = check(await txns.read({ op: 'scan', key: from, end, limit: limit - items.length }));
    // The range that answered (a split meanwhile taught the cache its new end).
    const range = await router.rangeOf(from);
    for (const it of res.items) items.push({ key: dec.decode(it.key), value: dec.decode(it.value) });
    if (items.length >= limit) return { items: items.slice(0, limit), more: res.more || range.end.length > 0 };
    // The range is exhausted within [from, end): go on with the next one, unless the end is reached.
    if (range.end.length === 0 || (end.length > 0 && Buffer.compare(range.end, end) >= 0)) return { items, more: false };
    from = range.end;
  }
}
