/**
 * runtime — the only place that reads the clock, arms timers or draws
 * randomness. Everything else receives these as values.
 */
export { SeededRng, systemRng } from './rng.js';
