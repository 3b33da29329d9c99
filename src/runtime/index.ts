/**
 * runtime — the only place that reads the clock, arms timers or draws
 * randomness. Everything else receives these as values.
 */
export { SeededRng, systemRng } from './rng.js';
export { systemClock, systemTimers } from './clock.js';
export type { Clock, Timers } from './clock.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
