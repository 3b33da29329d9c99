/**
 * `/db/*` against `raftshard local` (real processes, gRPC, LevelDB): rqlite's
 * request and result shapes (CONTRACT.md §2.2), statements as transactions
 * across ranges, `?transaction` all or nothing, errors as result items.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../support/local.js';
import { startLocal } from '../support/local.js';

let c: LocalCluster;

beforeAll(async () => {
  c = await startLocal();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const execute = (body: unknown, query = '') => c.call('POST', `/db/execute${query}`, body);
const query = (body: unknown, q = '') => c.call('POST', `/db/query${q}`, body);

describe('/db', () => {
  it('creates, inserts with parameters and reads back, as rqlite answers', async () => {
    const created = await execute(['CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INT)', ['INSERT INTO people (name, age) VALUES (?, ?)', 'fiona', 20], ['INSERT INTO people (name, age) VALUES (:name, :age)', { name: 'declan', age: 25 }]]);
    expect(created).toEqual({ status: 200, json: { results: [{ last_insert_id: 0, rows_affected: 0 }, { last_insert_id: 1, rows_affected: 1 }, { last_insert_id: 2, rows_affected: 1 }] } });
    expect(await query(['SELECT id, name, age FROM people ORDER BY id'])).toEqual({
      status: 200,
      json: { results: [{ columns: ['id', 'name', 'age'], types: ['integer', 'text', 'int'], values: [[1, 'fiona', 20], [2, 'declan', 25]] }] },
    });
    const got = await c.call('GET', `/db/query?associative&q=${encodeURIComponent('SELECT name, age + 1 AS next FROM people WHERE id = 2')}`);
    expect(got.json).toEqual({ results: [{ types: { name: 'text', next: '' }, rows: [{ name: 'declan', next: 26 }] }] });
  });

  it('reports a failing statement in its item with HTTP 200; the statements after it still run', async () => {
    const r = await execute([['INSERT INTO people (id, name) VALUES (?, ?)', 1, 'again'], 'INSERT INTO nowhere VALUES (1)', 'SELEC 1', ['INSERT INTO people (name) VALUES (?)', 'aoife']]);
    expect(r.status).toBe(200);
    expect(r.json.results).toEqual([{ error: 'UNIQUE constraint failed: people.id' }, { error: 'no such table: nowhere' }, { error: 'near "SELEC": syntax error' }, { last_insert_id: 3, rows_affected: 1 }]);
    expect((await query(['INSERT INTO people (name) VALUES (1)'])).json.results).toEqual([{ error: 'attempt to change database via query operation' }]);
  });

  it('?transaction applies all statements or none', async () => {
    const failed = await execute([['INSERT INTO people (name) VALUES (?)', 'ronan'], ['INSERT INTO people (name) VALUES (?)', null], ['INSERT INTO people (name) VALUES (?)', 'never']], '?transaction');
    expect(failed.json.results).toEqual([{ last_insert_id: 4, rows_affected: 1 }, { error: 'NOT NULL constraint failed: people.name' }]);
    const names = await query(['SELECT name FROM people ORDER BY id']);
    expect(names.json.results).toEqual([{ columns: ['name'], types: ['text'], values: [['fiona'], ['declan'], ['aoife']] }]);
    const ok = await execute([['UPDATE people SET age = age + 1 WHERE age IS NOT NULL'], ['DELETE FROM people WHERE name = ?', 'aoife']], '?transaction=true');
    // last_insert_id is the request's own (no insert here), not the connection's as in rqlite.
    expect(ok.json.results).toEqual([{ last_insert_id: 0, rows_affected: 2 }, { last_insert_id: 0, rows_affected: 1 }]);
  });

  it('answers a body that is not an array of statements with 400 and runs nothing', async () => {
    for (const body of [{ sql: 'SELECT 1' }, [42], [[1, 'x']]]) expect((await execute(body)).status).toBe(400);
    expect((await c.call('GET', '/db/query')).status).toBe(400);
    expect((await c.call('PUT', '/db/execute')).status).toBe(405);
  });
});
