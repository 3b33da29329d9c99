/**
 * GET /metrics of a gateway app (fastify inject, no network, no cluster): the
 * counters that existed before prom-client keep their names and samples, and
 * the request-duration histogram is labelled by route pattern, never by URL.
 * Only requests the gateway rejects before routing to a store are made.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import type { Clock } from '../runtime/index.js';
import { systemTimers } from '../runtime/index.js';
import { grpcDialer, PdClient } from '../transport/index.js';
import { buildApp, DEFAULT_LIMITS, KvRouter } from './index.js';

/** A clock that moves 2 ms on every reading: each request takes 2 ms (0.001 < 0.002 <= 0.0025). */
function steppingClock(): Clock {
  let t = 0;
  return { now: () => 1_700_000_000_000 + t, monotonic: () => (t += 2) };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function gateway(processMetrics?: Registry) {
  const clock = steppingClock();
  // Nothing listens there: no request below reaches the placement driver or a store.
  const router = new KvRouter(new PdClient(['127.0.0.1:1'], clock, systemTimers, grpcDialer), clock, systemTimers, grpcDialer);
  const built = buildApp(router, DEFAULT_LIMITS, processMetrics);
  close = async () => {
    await built.app.close();
    router.close();
  };
  return built;
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('gateway /metrics', () => {
  it('keeps the existing counters and adds the request-duration histogram by route pattern', async () => {
    const { app } = gateway();
    const longKey = 'k'.repeat(DEFAULT_LIMITS.maxKeyBytes + 1);
    expect((await app.inject({ method: 'GET', url: `/kv/${longKey}` })).statusCode).toBe(413);
    expect((await app.inject({ method: 'PUT', url: '/kv/some-key', payload: { nothing: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PUT', url: '/kv/other-key', payload: { nothing: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PATCH', url: '/kv/some-key' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);

    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;

    // The series that existed before, same names, types and labels.
    expect(text).toContain('# TYPE raftshard_gateway_requests_total counter');
    expect(sample(text, 'raftshard_gateway_requests_total')).toBe(6); // the five above and this scrape
    expect(text).toContain('# TYPE raftshard_gateway_retries_total counter');
    expect(sample(text, 'raftshard_gateway_retries_total')).toBe(0);
    expect(text).toContain('# TYPE raftshard_gateway_errors_total counter');
    expect(sample(text, 'raftshard_gateway_errors_total{code="TOO_LARGE"}')).toBe(1);
    expect(sample(text, 'raftshard_gateway_errors_total{code="BAD_REQUEST"}')).toBe(2);
    expect(sample(text, 'raftshard_gateway_errors_total{code="METHOD_NOT_ALLOWED"}')).toBe(1);
    expect(sample(text, 'raftshard_gateway_errors_total{code="NOT_FOUND"}')).toBe(1);

    // The histogram: buckets, sum and count per (method, route pattern, status code).
    expect(text).toContain('# TYPE raftshard_http_request_duration_seconds histogram');
    const put400 = 'method="PUT",route="/kv/:key",status_code="400"';
    expect(sample(text, `raftshard_http_request_duration_seconds_bucket{le="0.0001",${put400}}`)).toBe(0);
    expect(sample(text, `raftshard_http_request_duration_seconds_bucket{le="0.001",${put400}}`)).toBe(0);
    expect(sample(text, `raftshard_http_request_duration_seconds_bucket{le="0.0025",${put400}}`)).toBe(2);
    expect(sample(text, `raftshard_http_request_duration_seconds_bucket{le="10",${put400}}`)).toBe(2);
    expect(sample(text, `raftshard_http_request_duration_seconds_bucket{le="+Inf",${put400}}`)).toBe(2);
    expect(sample(text, `raftshard_http_request_duration_seconds_count{${put400}}`)).toBe(2);
    expect(sample(text, `raftshard_http_request_duration_seconds_sum{${put400}}`)).toBeCloseTo(0.004, 9);
    expect(sample(text, 'raftshard_http_request_duration_seconds_count{method="GET",route="/kv/:key",status_code="413"}')).toBe(1);
    expect(sample(text, 'raftshard_http_request_duration_seconds_count{method="PATCH",route="/kv/:key",status_code="405"}')).toBe(1);
    expect(sample(text, 'raftshard_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}')).toBe(1);
    // Never the raw URL (keys would make the label set unbounded).
    expect(text).not.toContain('some-key');
    expect(text).not.toContain('/no/such/route');
  });

  it('serves the process-level registry along with its own, and apps do not share registries', async () => {
    const proc = new Registry();
    const marker = new Counter({ name: 'test_process_marker_total', help: 'A process-level series.', registers: [proc] });
    marker.inc(3);
    const { app } = gateway(proc);
    await app.inject({ method: 'GET', url: '/no/such/route' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'test_process_marker_total')).toBe(3);
    expect(sample(text, 'raftshard_gateway_requests_total')).toBe(2);
    await close!();
    close = undefined;
    // A second app in the same process starts from zero.
    const second = gateway();
    const again = (await second.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(again, 'raftshard_gateway_requests_total')).toBe(1);
    expect(again).not.toContain('test_process_marker_total');
  });
});
