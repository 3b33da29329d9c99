/**
 * A PD member's service registered before its PlacementDriver exists: the
 * member's store must listen (and its group elect) before the PD is built on
 * it. Calls that arrive meanwhile fail as UNAVAILABLE, and callers retry.
 */
import { UnavailableError } from '../common/index.js';
import type { PdHandlers } from '../transport/index.js';
import type { PlacementDriver } from './placement-driver.js';

const METHODS: readonly (keyof PdHandlers)[] = ['RegisterStore', 'StoreHeartbeat', 'Tso', 'AllocId', 'GetRanges', 'GetStores', 'GetMembers', 'Admin'];

export function deferredPdHandlers(current: () => PlacementDriver | undefined): PdHandlers {
  return Object.fromEntries(
    METHODS.map((m) => [
      m,
      (req: never) => {
        const pd = current();
        return pd ? (pd.handlers[m] as (r: never) => Promise<unknown>)(req) : Promise.reject(new UnavailableError('placement driver starting'));
      },
    ]),
  ) as unknown as PdHandlers;
}
