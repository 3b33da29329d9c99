/**
 * A latency histogram for hot paths, served by a prom-client Registry in the
 * same text format as prom-client's own Histogram. prom-client builds and
 * hashes a label object on every observe, even through a child from
 * `labels()` (about 1 µs: 4 % of the gateway's CPU per GET); here a series is
 * looked up once by its caller and an observation is a bucket search and
 * three additions. The registry reads it through the metric interface it
 * uses for every metric (`name`, `help`, `type`, `get()`).
 */
import type { Registry } from 'prom-client';

/** A sample as prom-client's registry renders it: `labels`, then `sharedLabels`. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One label set's buckets (not cumulative), sum and count. */
export class LatencySeries {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }

  /** Prometheus samples: cumulative buckets, +Inf, sum, count (prom-client's order and labels). */
  samples(name: string): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      out.push(sample(`${name}_bucket`, { le: this.bounds[i] }, cumulative, this.labels));
    }
    out.push(sample(`${name}_bucket`, { le: '+Inf' }, this.count, this.labels));
    out.push(sample(`${name}_sum`, {}, this.sum, this.labels));
    out.push(sample(`${name}_count`, {}, this.count, this.labels));
    return out;
  }
}

/** `le` goes in `labels`, so it is rendered first, as in prom-client's own histograms. */
function sample(metricName: string, labels: Record<string, string | number>, value: number, sharedLabels: Readonly<Record<string, string>>): Sample {
  return { metricName, labels, value, sharedLabels };
}

export class LatencyHistogram<L extends string = never> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, LatencySeries>();
  /** The series without labels, when the histogram has none. */
  private readonly unlabelled: LatencySeries | undefined;

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly labelNames: readonly L[] = [],
  ) {
    if (labelNames.length === 0) this.series.set('', (this.unlabelled = new LatencySeries(bounds, {})));
    // The registry only reads name, help, type and get() of a metric.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Observes into the histogram without labels. */
  observe(seconds: number): void {
    if (!this.unlabelled) throw new Error(`${this.name} has labels: observe through labels()`);
    this.unlabelled.observe(seconds);
  }

  /** The series of one label set, created on first use; callers keep it rather than look it up per observation. */
  labels(values: Readonly<Record<L, string>>): LatencySeries {
    const key = this.labelNames.map((n) => values[n]).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      for (const n of this.labelNames) labels[n] = values[n];
      this.series.set(key, (s = new LatencySeries(this.bounds, labels)));
    }
    return s;
  }

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    for (const s of this.series.values()) values.push(...s.samples(this.name));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
