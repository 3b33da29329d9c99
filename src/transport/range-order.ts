import type { RangeDescriptor } from '../common/index.js';
/** Comparisons of range descriptors that every process needs (store, PD, gateway). */

/** Whether `a` is a later state than `b`: a higher version, or the same version with a higher confVer. */
export function isNewer(a: RangeDescriptor, b: RangeDescriptor): boolean {
  return a.epoch.version > b.epoch.version || (a.epoch.version === b.epoch.version && a.epoch.confVer > b.epoch.confVer);
}

/** Whether two ranges share a key (an empty end is unbounded). */
export function overlaps(a: RangeDescriptor, b: RangeDescriptor): boolean {
  const aBeforeB = a.end.byteLength > 0 && Buffer.compare(a.end, b.start) <= 0;
  const bBeforeA = b.end.byteLength > 0 && Buffer.compare(b.end, a.start) <= 0;
  return !aBeforeB && !bBeforeA;
}
