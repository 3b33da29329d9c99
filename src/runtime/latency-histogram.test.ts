/**
 * LatencyHistogram renders exactly what prom-client's own Histogram renders
 * for the same observations, with and without labels, so scrapers and
 * dashboards see no difference.
 */
import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS } from './metrics.js';
import { LatencyHistogram } from './latency-histogram.js';

const OBSERVATIONS = [0, 0.0001, 0.00011, 0.0009, 0.001, 0.003, 0.2, 2.5, 9.99, 10, 12, 1e-7];

describe('LatencyHistogram', () => {
  it('renders like prom-client Histogram without labels, also before any observation', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = new LatencyHistogram(ours, 'x_seconds', 'Help text.', LATENCY_BUCKETS);
    const p = new Histogram({ name: 'x_seconds', help: 'Help text.', buckets: [...LATENCY_BUCKETS], registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    for (const v of OBSERVATIONS) {
      h.observe(v);
      p.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('renders like prom-client Histogram with labels, one series per label set, in a merged registry too', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = new LatencyHistogram(ours, 'y_seconds', 'Help.', LATENCY_BUCKETS, ['method', 'route']);
    const p = new Histogram({ name: 'y_seconds', help: 'Help.', labelNames: ['method', 'route'], buckets: [...LATENCY_BUCKETS], registers: [theirs] });
    const sets = [
      { method: 'GET', route: '/kv/:key' },
      { method: 'PUT', route: '/kv/"q"\\' },
    ];
    OBSERVATIONS.forEach((v, i) => {
      h.labels(sets[i % 2]).observe(v);
      p.labels(sets[i % 2]).observe(v);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await Registry.merge([ours, new Registry()]).metrics()).toBe(await theirs.metrics());
    expect(h.labels({ method: 'GET', route: '/kv/:key' })).toBe(h.labels({ method: 'GET', route: '/kv/:key' }));
  });

  it('refuses an unlabelled observation on a labelled histogram', () => {
    const h = new LatencyHistogram(new Registry(), 'z_seconds', 'Help.', LATENCY_BUCKETS, ['op']);
    expect(() => h.observe(1)).toThrow(/labels/);
  });
});
