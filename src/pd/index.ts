/**
 * pd — the placement driver: range map, store registry, id allocator and
 * timestamp oracle over its own Raft group (reached through the PdGroup
 * interface), bootstrap, the scheduler and its operators, and the client that
 * stores and gateways use to reach the PD leader. It never touches user data.
 */
export { DEFAULT_PD_CONFIG, PlacementDriver } from './placement-driver.js';
export type { PdConfig, PdDeps } from './placement-driver.js';
export type { PdGroup } from './group.js';
export type { PdMetrics } from './metrics.js';
