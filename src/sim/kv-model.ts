/**
 * The sequential specification of the KV store the simulators' clients see,
 * for the linearizability checker: one register per key, partitioned by key
 * (single-key operations compose: Herlihy & Wing's locality).
 */
import type { Model, Operation } from './wgl-checker.js';

/** A client's operation on one key (string keys and values, null for absent). */
export type KvCommand =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string | null };

export type KvResult = { readonly value: string | null } | { readonly ok: true } | { readonly ok: boolean; readonly current: string | null };

type State = string | null;

export const kvModel: Model<State, KvCommand, KvResult> = {
  init: () => null,
  hash: (s) => (s === null ? '\u0000' : `=${s}`),
  partition: (ops) => {
    const byKey = new Map<string, Operation<KvCommand, KvResult>[]>();
    for (const op of ops) {
      let list = byKey.get(op.input.key);
      if (!list) byKey.set(op.input.key, (list = []));
      list.push(op);
    }
    return [...byKey.values()];
  },
  step: (state, input, output) => {
    switch (input.op) {
      case 'get':
        return [output === undefined || ('value' in output && output.value === state), state];
      case 'put':
        return [true, input.value];
      case 'delete':
        return [true, null];
      case 'cas': {
        const matches = state === input.expect;
        const next = matches ? input.value : state;
        if (output === undefined) return [true, next];
        return ['ok' in output && output.ok === matches, next];
      }
    }
  },
};
