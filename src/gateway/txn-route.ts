/**
 * POST /txn (CONTRACT.md §2.1): etcd's compare → success | failure, as one
 * snapshot-isolated transaction across ranges. The whole body is checked
 * before anything is read or written. Compares and gets read the snapshot at
 * the start timestamp; a get after a put or delete of the same key in the
 * branch sees that write; the branch's writes commit atomically. A conflict
 * answers 409 and is never retried here: the compares were evaluated on the
 * old snapshot.
 */
import type { FastifyInstance } from 'fastify';
import type { TxnClient } from '../txn/index.js';

type Compare = { key: Uint8Array } & ({ absent: true } | { absent: false; value: Uint8Array });
type Op = { op: 'get'; key: Uint8Array } | { op: 'put'; key: Uint8Array; value: Uint8Array } | { op: 'delete'; key: Uint8Array };

export interface TxnBody {
  readonly compare: Compare[];
  readonly success: Op[];
  readonly failure: Op[];
}

export type TxnResultItem = { value: string | null } | { ok: true };

const MAX_ITEMS = 10_000;
const dec = new TextDecoder();

/** Field checks shared with the /kv routes: they throw the contract's 400 and 413 errors. */
export interface BodyChecks {
  key(raw: unknown, field: string): Uint8Array;
  value(raw: unknown, field: string): Uint8Array;
  badRequest(message: string): Error;
}

export function parseTxnBody(body: unknown, check: BodyChecks): TxnBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw check.badRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const field of Object.keys(b)) if (!['compare', 'success', 'failure'].includes(field)) throw check.badRequest(`unknown field "${field}"`);
  const list = (field: string): unknown[] => {
    const v = b[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw check.badRequest(`"${field}" must be an array`);
    if (v.length > MAX_ITEMS) throw check.badRequest(`"${field}" has more than ${MAX_ITEMS} items`);
    return v;
  };
  const object = (v: unknown, at: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw check.badRequest(`${at} must be an object`);
    return v as Record<string, unknown>;
  };
  const compare = list('compare').map((raw, i): Compare => {
    const c = object(raw, `compare[${i}]`);
    const key = check.key(c.key, `compare[${i}].key`);
    const hasValue = 'value' in c;
    if (c.absent !== undefined && c.absent !== true) throw check.badRequest(`compare[${i}].absent must be true when present`);
    if (hasValue === (c.absent === true)) throw check.badRequest(`compare[${i}] needs exactly one of "value" and "absent": true`);
    return hasValue ? { key, absent: false, value: check.value(c.value, `compare[${i}].value`) } : { key, absent: true };
  });
  const ops = (field: 'success' | 'failure') =>
    list(field).map((raw, i): Op => {
      const o = object(raw, `${field}[${i}]`);
      const key = check.key(o.key, `${field}[${i}].key`);
      switch (o.op) {
        case 'get':
          return { op: 'get', key };
        case 'put':
          return { op: 'put', key, value: check.value(o.value, `${field}[${i}].value`) };
        case 'delete':
          return { op: 'delete', key };
        default:
          throw check.badRequest(`${field}[${i}].op must be "get", "put" or "delete"`);
      }
    });
  return { compare, success: ops('success'), failure: ops('failure') };
}

/** Runs a parsed /txn body; rejects with the transaction's DbError (WRITE_CONFLICT → 409). */
export async function runTxn(client: TxnClient, body: TxnBody): Promise<{ succeeded: boolean; results: TxnResultItem[] }> {
  const txn = await client.begin();
  const current = await Promise.all(body.compare.map((c) => txn.get(c.key)));
  const succeeded = body.compare.every((c, i) => (c.absent ? current[i] === undefined : current[i] !== undefined && Buffer.compare(current[i]!, c.value) === 0));
  const results: TxnResultItem[] = [];
  for (const op of succeeded ? body.success : body.failure) {
    if (op.op === 'get') {
      const v = await txn.get(op.key);
      results.push({ value: v === undefined ? null : dec.decode(v) });
    } else {
      if (op.op === 'put') txn.put(op.key, op.value);
      else txn.delete(op.key);
      results.push({ ok: true });
    }
  }
  await txn.commit();
  return { succeeded, results };
}

export function registerTxnRoute(app: FastifyInstance, client: TxnClient, check: BodyChecks): Record<string, string[]> {
  app.post('/txn', async (req) => runTxn(client, parseTxnBody(req.body, check)));
  return { '/txn': ['POST'] };
}
