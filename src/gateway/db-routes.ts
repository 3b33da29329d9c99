/**
 * `/db/execute`, `/db/query` and `/db/request` (CONTRACT.md §2.2): rqlite's
 * request and result shapes (db-protocol.ts) over SqlSession and the
 * transactions of src/txn.
 *
 * Without `?transaction` every statement is its own transaction, and one that
 * meets a write conflict before answering is run again from scratch, a few
 * times, as CockroachDB retries implicit transactions; the statements after a
 * failing one still run. With `?transaction` the request is one transaction:
 * results up to the failing statement, which carries the error, and nothing
 * applied. A failed statement is an item with HTTP 200; 503 only when nothing
 * of the request was applied; an outcome the gateway could not learn is an
 * item saying so. `/db/*` never answers 504.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DbError } from '../common/index.js';
import type { Clock } from '../runtime/index.js';
import type { Statement } from '../sql/index.js';
import { parseStatement, SqlSession } from '../sql/index.js';
import type { ExecResult } from '../sql/index.js';
import type { TxnClient } from '../txn/index.js';
import type { DbOptions, DbStatement, StatementResult } from './db-protocol.js';
import { formatResults, parseDbBody, parseDbOptions, queryStatement } from './db-protocol.js';

/** Runs of an implicit transaction that keeps meeting write conflicts. */
const MAX_CONFLICT_RETRIES = 5;

type Endpoint = 'execute' | 'query' | 'request';

/** A statement's outcome before timing: its result, or the message of its error item. */
type Outcome = ExecResult | { readonly kind: 'error'; readonly message: string };

/** Nothing of the request applied and the cluster could not run it: the whole answer is 503. */
class NothingApplied extends Error {}

export function registerDbRoutes(app: FastifyInstance, client: TxnClient, clock: Clock): Record<string, string[]> {
  const handle = async (endpoint: Endpoint, statements: DbStatement[], query: Record<string, unknown>, reply: FastifyReply) => {
    const opts = parseDbOptions(query);
    const start = clock.monotonic();
    try {
      const results = await run(client, clock, endpoint, statements, opts);
      return reply.type('application/json').send(formatResults(results, opts, (clock.monotonic() - start) / 1000));
    } catch (err) {
      if (!(err instanceof NothingApplied)) throw err;
      throw new DbError('UNAVAILABLE', err.message);
    }
  };
  app.post<{ Querystring: Record<string, unknown> }>('/db/execute', (req, reply) => handle('execute', parseDbBody(req.body), req.query, reply));
  app.post<{ Querystring: Record<string, unknown> }>('/db/query', (req, reply) => handle('query', parseDbBody(req.body), req.query, reply));
  app.get<{ Querystring: Record<string, unknown> }>('/db/query', (req, reply) => handle('query', queryStatement(req.query.q), req.query, reply));
  app.post<{ Querystring: Record<string, unknown> }>('/db/request', (req, reply) => handle('request', parseDbBody(req.body), req.query, reply));
  return { '/db/execute': ['POST'], '/db/query': ['GET', 'POST'], '/db/request': ['POST'] };
}

async function run(client: TxnClient, clock: Clock, endpoint: Endpoint, statements: DbStatement[], opts: DbOptions): Promise<StatementResult[]> {
  const parsed = statements.map((s) => parse(s, endpoint));
  if (opts.transaction) return inOneTransaction(client, clock, statements, parsed);
  const results: StatementResult[] = [];
  let applied = false;
  for (const [i, p] of parsed.entries()) {
    const started = clock.monotonic();
    const outcome = p instanceof DbError ? { kind: 'error' as const, message: p.message } : await alone(client, p, statements[i], applied);
    if (outcome.kind === 'execute') applied = true;
    results.push(timed(outcome, (clock.monotonic() - started) / 1000));
  }
  return results;
}

/** The whole request as one transaction, run again from scratch on a write conflict at commit. */
async function inOneTransaction(client: TxnClient, clock: Clock, statements: DbStatement[], parsed: (Statement | DbError)[]): Promise<StatementResult[]> {
  for (let attempt = 0; ; attempt++) {
    const txn = await begin(client);
    const session = new SqlSession(txn);
    const results: StatementResult[] = [];
    for (const [i, p] of parsed.entries()) {
      const started = clock.monotonic();
      const outcome = p instanceof DbError ? { kind: 'error' as const, message: p.message } : await executeOrMessage(session, p, statements[i]);
      results.push(timed(outcome, (clock.monotonic() - started) / 1000));
      if (outcome.kind === 'error') {
        txn.rollback();
        return results;
      }
    }
    const failure = await commit(txn, attempt, false);
    if (failure === 'retry') continue;
    if (failure !== undefined) results[results.length - 1] = { kind: 'error', message: failure, seconds: results[results.length - 1].seconds };
    return results;
  }
}

/** One statement in its own transaction. `applied`: an earlier statement of the request committed (then no 503). */
async function alone(client: TxnClient, stmt: Statement, source: DbStatement, applied: boolean): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    const txn = await begin(client, applied);
    const outcome = await executeOrMessage(new SqlSession(txn), stmt, source);
    if (outcome.kind === 'error') {
      txn.rollback();
      return outcome;
    }
    const failure = await commit(txn, attempt, applied);
    if (failure === 'retry') continue;
    return failure === undefined ? outcome : { kind: 'error', message: failure };
  }
}

async function begin(client: TxnClient, applied = false): Promise<Awaited<ReturnType<TxnClient['begin']>>> {
  try {
    return await client.begin();
  } catch (err) {
    if (err instanceof DbError && err.code === 'UNAVAILABLE' && !applied) throw new NothingApplied(err.message);
    throw err;
  }
}

/**
 * Commits; undefined when it did, 'retry' after a write conflict with retries
 * left, else the message of the statement's error item. An unavailable cluster
 * applied nothing: the request's 503 when nothing else of it applied.
 */
async function commit(txn: { commit(): Promise<void> }, attempt: number, applied: boolean): Promise<string | 'retry' | undefined> {
  try {
    await txn.commit();
    return undefined;
  } catch (err) {
    if (!(err instanceof DbError)) throw err;
    switch (err.code) {
      case 'WRITE_CONFLICT':
        return attempt < MAX_CONFLICT_RETRIES ? 'retry' : `transaction rolled back after a write conflict; it is safe to retry (${err.message})`;
      case 'OUTCOME_UNKNOWN':
        return `outcome unknown: ${err.message}`;
      case 'UNAVAILABLE':
        if (!applied) throw new NothingApplied(err.message);
        return `not applied: ${err.message}`;
      default:
        throw err;
    }
  }
}

async function executeOrMessage(session: SqlSession, stmt: Statement, source: DbStatement): Promise<Outcome> {
  try {
    return await session.execute(stmt, { positional: source.positional, named: source.named });
  } catch (err) {
    if (err instanceof DbError && err.code === 'BAD_REQUEST') return { kind: 'error', message: err.message };
    throw err;
  }
}

/** The statement, or its error (a parse error, or a write sent to /db/query). */
function parse(s: DbStatement, endpoint: Endpoint): Statement | DbError {
  try {
    const stmt = parseStatement(s.sql);
    if (endpoint === 'query' && stmt.kind !== 'Select' && stmt.kind !== 'ExplainQueryPlan') return new DbError('BAD_REQUEST', 'attempt to change database via query operation');
    return stmt;
  } catch (err) {
    if (err instanceof DbError && err.code === 'BAD_REQUEST') return err;
    throw err;
  }
}

function timed(outcome: Outcome, seconds: number): StatementResult {
  return { ...outcome, seconds };
}
