/**
 * The operator commands of the Admin RPC (`raftshard split`, `move`,
 * `transfer-leader`, `rebalance`, `decommission` through the gateway): the body is checked
 * here, then the leader's operators do the work.
 */
import { BadRequestError, DbError } from '../common/index.js';
import type { Clock, Logger } from '../runtime/index.js';
import { decommission } from './decommission.js';
import type { LeaderTerm } from './leadership.js';
import { planLeaderTransfer, planReplicaMove } from './scheduler.js';

/** An Admin request's body: a JSON object (empty for no arguments). */
export function parseAdminBody(json: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(json || '{}');
  } catch {
    throw new BadRequestError('the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export async function runAdmin(l: LeaderTerm, deps: { clock: Clock; logger: Logger }, replicas: number, op: string, body: Record<string, unknown>): Promise<unknown> {
  const { clock } = deps;
  const int = (field: string): number => {
    const v = body[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new DbError('BAD_REQUEST', `"${field}" must be a non-negative integer`);
    return v;
  };
  switch (op) {
    case 'split': {
      if (typeof body.key !== 'string' || body.key.length === 0) throw new DbError('BAD_REQUEST', '"key" must be a non-empty string');
      return l.operators.split(new TextEncoder().encode(body.key));
    }
    case 'move': {
      const [range, from, to] = [int('range'), int('from'), int('to')];
      if (!l.state.ranges.has(range)) throw new DbError('NOT_FOUND', `range ${range} does not exist`);
      for (const s of [from, to]) if (!l.state.stores.has(s)) throw new DbError('NOT_FOUND', `store ${s} does not exist`);
      const target = l.state.stores.get(to)!;
      if (l.state.liveness(target, clock.monotonic()) !== 'up' || target.lastHeartbeat === 0) throw new DbError('UNAVAILABLE', `store ${to} is not up`);
      if (target.retire) throw new DbError('BAD_REQUEST', `store ${to} is ${target.retire}: it takes no replicas`);
      return l.operators.move(range, from, to);
    }
    case 'transfer-leader': {
      const [range, to] = [int('range'), int('to')];
      if (!l.state.ranges.has(range)) throw new DbError('NOT_FOUND', `range ${range} does not exist`);
      if (!l.state.stores.has(to)) throw new DbError('NOT_FOUND', `store ${to} does not exist`);
      await l.operators.transferLeader(range, to);
      return { ok: true };
    }
    case 'rebalance':
      return { moves: await rebalance(l, deps.clock) };
    case 'decommission': {
      const store = l.state.stores.get(int('store'));
      if (!store) throw new DbError('NOT_FOUND', `store ${int('store')} does not exist`);
      return decommission(l, deps, store, replicas);
    }
    default:
      throw new DbError('NOT_FOUND', `unknown admin operation "${op}"`);
  }
}

/** Moves replicas, then leaderships, until the up stores are within one of each other. */
async function rebalance(l: LeaderTerm, clock: Clock): Promise<unknown[]> {
  const moves: unknown[] = [];
  for (let i = 0; i < 1_000; i++) {
    const m = planReplicaMove(l.state, clock.monotonic());
    if (!m) break;
    await l.operators.move(m.range, m.from, m.to);
    moves.push({ kind: 'replica', ...m });
  }
  for (let i = 0; i < 1_000; i++) {
    const t = planLeaderTransfer(l.state, clock.monotonic());
    if (!t) break;
    await l.operators.transferLeader(t.range, t.to);
    moves.push({ kind: 'leader', ...t });
  }
  return moves;
}
