/**
 * eval — SQLite's expression semantics over SqlValue: affinity, arithmetic,
 * comparison, CAST, LIKE and the core functions. Pure functions, no I/O;
 * aggregates, columns and parameters come from the caller's RowContext.
 */
export { affinityOfTypeName, applyColumnAffinity } from './affinity.js';
export type { Affinity } from './affinity.js';
export { evaluate } from './evaluate.js';
export type { RowContext } from './evaluate.js';
export { isAggregateCall } from './functions.js';
export { realToText } from './text.js';
export { truthOf } from './coerce.js';
