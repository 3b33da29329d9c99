/**
 * The gateway's metrics, in the app's own prom-client registry (tests may
 * build several apps in one process): requests, retries and errors counted in
 * plain fields and read at scrape time, and the HTTP request duration by
 * route pattern (`/kv/:key`, never the raw URL: keys would make the label
 * set unbounded), method and status code. Two clock readings per request,
 * through the injected Clock: one when it arrives, one when it is answered.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Clock } from '../runtime/index.js';
import { counterFrom, labelledCounterFrom, LATENCY_BUCKETS, LatencyHistogram, secondsSince } from '../runtime/index.js';
import type { LatencySeries } from '../runtime/index.js';

export interface GatewayStats {
  requests: number;
  errors: Map<string, number>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived (Clock.monotonic, ms), for the duration histogram. */
    receivedAt: number;
  }
}

/** The `route` label of a request that matched no route (answered 404 by the not-found handler). */
export const UNMATCHED_ROUTE = 'unmatched';

export class GatewayMetrics {
  readonly stats: GatewayStats = { requests: 0, errors: new Map() };
  readonly registry = new Registry();
  readonly httpDuration: LatencyHistogram<'method' | 'route' | 'status_code'>;
  private readonly children = new Map<string, LatencySeries>();
  /** What GET /metrics serves: this registry, plus the process's own when the cli passes one. */
  private readonly served: Registry;

  /**
   * @param router  the router's counts of resent store requests and of leader probes
   * @param processMetrics  a registry of process-wide metrics (Node's defaults) to serve along
   */
  constructor(
    private readonly clock: Clock,
    router: { readonly retries: number; readonly probes: number },
    processMetrics?: Registry,
  ) {
    const r = this.registry;
    counterFrom(r, 'raftshard_gateway_requests_total', 'HTTP requests received.', () => this.stats.requests);
    counterFrom(r, 'raftshard_gateway_retries_total', 'Store requests resent (stale routing, leader change, timeouts).', () => router.retries);
    counterFrom(r, 'raftshard_gateway_leader_probes_total', "Probes of a range's other replicas for its leader, sent while an attempt was slow.", () => router.probes);
    labelledCounterFrom(r, 'raftshard_gateway_errors_total', 'Requests answered with an error, by code.', 'code', () => this.stats.errors);
    this.httpDuration = new LatencyHistogram(r, 'raftshard_http_request_duration_seconds', 'HTTP request duration, by route pattern, method and status code.', LATENCY_BUCKETS, ['method', 'route', 'status_code']);
    this.served = processMetrics ? Registry.merge([processMetrics, r]) : r;
  }

  /** Counts and times every request the app receives, matched or not. */
  instrument(app: FastifyInstance): void {
    app.decorateRequest('receivedAt', 0);
    // Callback-style hooks: no promise per request.
    app.addHook('onRequest', (req, _reply, done) => {
      this.stats.requests++;
      req.receivedAt = this.clock.monotonic();
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      this.series(req.method, req.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode).observe(secondsSince(req.receivedAt, this.clock.monotonic()));
      done();
    });
  }

  /** The histogram's series for one label set. */
  private series(method: string, route: string, status: number): LatencySeries {
    const key = `${method} ${status} ${route}`;
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = this.httpDuration.labels({ method, route, status_code: String(status) })));
    return child;
  }

  get contentType(): string {
    return this.served.contentType;
  }

  render(): Promise<string> {
    return this.served.metrics();
  }
}
