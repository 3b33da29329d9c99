/**
 * runtime — the only place that reads the clock, arms timers or draws
 * randomness. Everything else receives these as values. Also the process's
 * outputs shared by every role: structured logs and Prometheus helpers.
 */
export { SeededRng, systemRng } from './rng.js';
export { isoTime, systemClock, systemTimers } from './clock.js';
export type { Clock, Timers } from './clock.js';
export { SimScheduler } from './sim-time.js';
export { createLogger, silentLogger, simulatedLogger } from './logger.js';
export type { Logger } from './logger.js';
export { counterFrom, gaugeFrom, labelledCounterFrom, LATENCY_BUCKETS, processRegistry, secondsSince } from './metrics.js';
export { LatencyHistogram, LatencySeries } from './latency-histogram.js';
export { DeadlineSweeper } from './deadline-sweeper.js';
