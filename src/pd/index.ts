/**
 * pd — the placement driver: range map, store registry, id allocator and
 * timestamp oracle over its own Raft group (reached through the PdGroup
 * interface; StorePdGroup puts it on a range of a store the cli hands in
 * through PdRangeHost), bootstrap, the scheduler and its operators, and the
 * client that stores and gateways use to reach the PD leader. It never
 * touches user data.
 */
export { PlacementDriver } from './placement-driver.js';
export { deferredPdHandlers } from './deferred-handlers.js';
export { DEFAULT_PD_CONFIG } from './config.js';
export type { PdConfig, PdDeps } from './config.js';
export type { PdGroup } from './group.js';
export { PD_RANGE_ID, StorePdGroup } from './meta-group.js';
export type { PdRangeHost, PdRangeReplica } from './meta-group.js';
export type { PdMetrics } from './metrics.js';
