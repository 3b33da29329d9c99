/** Comparisons of range descriptors that every process needs (store, PD, gateway). */
import type { WireRange } from './wire-types.js';

/** Whether `a` is a later state than `b`: a higher version, or the same version with a higher confVer. */
export function isNewer(a: WireRange, b: WireRange): boolean {
  return a.epoch.version > b.epoch.version || (a.epoch.version === b.epoch.version && a.epoch.conf_ver > b.epoch.conf_ver);
}

/** Whether two ranges share a key (an empty end is unbounded). */
export function overlaps(a: WireRange, b: WireRange): boolean {
  const aBeforeB = a.end.byteLength > 0 && Buffer.compare(a.end, b.start) <= 0;
  const bBeforeA = b.end.byteLength > 0 && Buffer.compare(b.end, a.start) <= 0;
  return !aBeforeB && !bBeforeA;
}
