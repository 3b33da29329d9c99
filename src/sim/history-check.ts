/** Checks a simulated client history for linearizability against the KV model. */
import type { HistoryOp } from './clients.js';
import { kvModel } from './kv-model.js';
import { checkLinearizable } from './wgl-checker.js';

export function checkHistory(history: readonly HistoryOp[]): string | undefined {
  const r = checkLinearizable(kvModel, history);
  return r.ok === true ? undefined : `linearizability: ${r.message}`;
}
