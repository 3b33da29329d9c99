/**
 * Prometheus helpers shared by the gateway, the stores and the placement
 * driver (prom-client). Each process-role object (a Store, a PlacementDriver,
 * a gateway app) owns its own `Registry`, never prom-client's global one, so
 * that a test can run several of them in one process; `src/cli` merges them
 * with a process-level registry of Node's default metrics when it serves
 * `GET /metrics`.
 *
 * Hot paths keep plain `x++` fields; `counterFrom` / `gaugeFrom` read them at
 * scrape time. Histograms are observed with clock reads the caller already has
 * (one per loop turn or per request), in seconds.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Latency buckets in seconds: 0.1 ms to 10 s, roughly 1-2.5-5 per decade. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Seconds between two `Clock.monotonic()` readings (milliseconds). */
export function secondsSince(startMs: number, nowMs: number): number {
  const s = (nowMs - startMs) / 1000;
  // A clock that is not monotonic after all (a test's fake) must not make prom-client throw on the hot path.
  return s > 0 ? s : 0;
}

/** A counter whose value is read from elsewhere when scraped (a plain field incremented on a hot path). */
export function counterFrom(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label whose values are read from a map when scraped. */
export function labelledCounterFrom<L extends string>(registry: Registry, name: string, help: string, label: L, read: () => Iterable<[string, number]>): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of read()) this.inc({ [label]: value } as Record<L, string>, n);
    },
  });
}

/** A gauge read when scraped. */
export function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** A registry of the process's own metrics (CPU, memory, event-loop lag, GC): one per process, made in src/cli. */
export function processRegistry(): Registry {
  const registry = new Registry();
  // The event-loop lag is sampled by a timer: at prom-client's default 10 ms it wakes every process 100
  // times a second, a third of an idle cluster's CPU on a small machine; 100 ms still catches every stall.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}
