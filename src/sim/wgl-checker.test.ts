import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kvModel } from './kv-model.js';
import type { KvCommand, KvResult } from './kv-model.js';
import type { Operation } from './wgl-checker.js';
import { checkLinearizable } from './wgl-checker.js';

type Op = Operation<KvCommand, KvResult>;
const op = (clientId: number, call: number, ret: number, input: KvCommand, output: KvResult | undefined): Op => ({ clientId, call, ret, input, output });
const put = (key: string, value: string): KvCommand => ({ op: 'put', key, value });
const get = (key: string): KvCommand => ({ op: 'get', key });
const cas = (key: string, expect: string | null, value: string | null): KvCommand => ({ op: 'cas', key, expect, value });
const check = (h: Op[]) => checkLinearizable(kvModel, h).ok;

describe('linearizability checker (Wing–Gong–Lowe)', () => {
  it('accepts a sequential history', () => {
    expect(check([op(0, 1, 2, put('k', 'a'), { ok: true }), op(1, 3, 4, get('k'), { value: 'a' })])).toBe(true);
  });

  it('rejects a stale read after a completed write', () => {
    expect(check([op(0, 1, 2, put('k', 'a'), { ok: true }), op(1, 3, 4, get('k'), { value: null })])).toBe(false);
  });

  it('accepts a read concurrent with a write seeing either value', () => {
    for (const v of ['a', null]) expect(check([op(0, 1, 4, put('k', 'a'), { ok: true }), op(1, 2, 3, get('k'), { value: v })])).toBe(true);
  });

  it('rejects two readers seeing concurrent writes in opposite orders after both finished', () => {
    const h = [
      op(0, 1, 3, put('k', 'a'), { ok: true }),
      op(1, 2, 4, put('k', 'b'), { ok: true }),
      op(2, 5, 6, get('k'), { value: 'a' }),
      op(3, 7, 8, get('k'), { value: 'b' }),
    ];
    expect(check(h)).toBe(false);
  });

  it('rejects a cas that succeeded where it must have failed', () => {
    expect(check([op(0, 1, 2, put('k', 'a'), { ok: true }), op(1, 3, 4, cas('k', null, 'b'), { ok: true, current: null })])).toBe(false);
  });

  it('an operation with an unknown outcome may or may not have taken effect', () => {
    const unknown = op(0, 1, Infinity, put('k', 'a'), undefined);
    expect(check([unknown, op(1, 2, 3, get('k'), { value: 'a' })])).toBe(true);
    expect(check([unknown, op(1, 2, 3, get('k'), { value: null })])).toBe(true);
    // ...but not both, in that order: once seen, a value cannot vanish.
    expect(check([unknown, op(1, 2, 3, get('k'), { value: 'a' }), op(1, 4, 5, get('k'), { value: null })])).toBe(false);
  });

  it('checks keys independently', () => {
    expect(check([op(0, 1, 2, put('x', 'a'), { ok: true }), op(1, 3, 4, get('y'), { value: null }), op(1, 5, 6, get('x'), { value: 'a' })])).toBe(true);
  });

  it('property: sequential runs of the model, widened into overlaps, are linearizable; a forged read is not', () => {
    const cmd = fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b'), value: fc.constantFrom('1', '2', '3') }),
      fc.record({ op: fc.constant('cas' as const), key: fc.constantFrom('a', 'b'), expect: fc.constantFrom(null, '1', '2'), value: fc.constantFrom(null, '1', '3') }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(3), { minLength: 60, maxLength: 60 }), (cmds, widen) => {
        const state = new Map<string, string | null>();
        const h: Op[] = cmds.map((c, i) => {
          const cur = state.get(c.key) ?? null;
          let out: KvResult;
          if (c.op === 'get') out = { value: cur };
          else if (c.op === 'put') {
            state.set(c.key, c.value);
            out = { ok: true };
          } else {
            const ok = cur === c.expect;
            if (ok) state.set(c.key, c.value);
            out = { ok, current: cur };
          }
          // Linearization point at 10*i+5; the interval around it may overlap neighbours.
          return op(i % 4, 10 * i + 5 - widen[i] * 4, 10 * i + 5 + widen[(i + 1) % 60] * 4, c, out);
        });
        expect(check(h)).toBe(true);
        const readIdx = h.findIndex((o) => o.input.op === 'get');
        if (readIdx >= 0) {
          const forged = h.slice();
          forged[readIdx] = { ...h[readIdx], output: { value: 'never-written' } };
          expect(check(forged)).toBe(false);
        }
      }),
      { seed: Number(process.env.SIM_SEED_START ?? 1), numRuns: 300 },
    );
  });
});
