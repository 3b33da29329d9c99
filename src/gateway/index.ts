/**
 * gateway — the stateless HTTP front: fastify app, range cache and request
 * router with retries, error -> HTTP mapping. Holds no data.
 */
export { buildApp, DEFAULT_LIMITS } from './app.js';
export type { GatewayLimits } from './app.js';
export { KvRouter } from './kv-router.js';
