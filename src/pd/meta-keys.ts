/**
 * The placement driver's metadata keyspace in its own Raft group, in one place:
 *   stores/<id>        a registered store: JSON {id, address}
 *   ranges/<id>        a range descriptor: base64 of encodeDescriptor
 *   meta/tso           upper end of the persisted timestamp window
 *   meta/next-id       upper end of the persisted id window
 *   meta/bootstrapped  '1' once the first range exists
 * Ids are zero-padded so that a prefix scan returns them in id order.
 */
export const STORES_PREFIX = 'stores/';
export const RANGES_PREFIX = 'ranges/';
export const TSO_KEY = 'meta/tso';
export const NEXT_ID_KEY = 'meta/next-id';
export const BOOTSTRAPPED_KEY = 'meta/bootstrapped';
/** The MVCC garbage-collection safe point (a decimal timestamp); it only moves forward. */
export const GC_SAFE_POINT_KEY = 'meta/gc-safe-point';

const padded = (id: number) => String(id).padStart(12, '0');
export const storeKey = (id: number) => STORES_PREFIX + padded(id);
export const rangeKey = (id: number) => RANGES_PREFIX + padded(id);
