/** rqlite's request and response shapes (contract §2.2), as real rqlite clients send and read them. */
import { describe, expect, it } from 'vitest';
import { DbError } from '../common/index.js';
import type { DbOptions, StatementResult } from './db-protocol.js';
import { formatResults, parseDbBody, parseDbOptions, queryStatement } from './db-protocol.js';

const OPTS: DbOptions = { transaction: false, timings: false, pretty: false, associative: false, level: 'linearizable' };

describe('parseDbBody', () => {
  it('reads plain strings, positional and named parameters', () => {
    const [a, b, c] = parseDbBody(['SELECT 1', ['INSERT INTO t VALUES (?, ?, ?, ?, ?)', 1, 2.5, 'x', null, true], ['SELECT :a, @b, $c', { ':a': 1, '@b': false, c: 'z' }]]);
    expect(a).toEqual({ sql: 'SELECT 1', positional: [], named: new Map() });
    expect(b.positional).toEqual([1n, 2.5, 'x', null, 1n]);
    expect(c.named).toEqual(new Map<string, unknown>([['a', 1n], ['b', 0n], ['c', 'z']]));
  });

  it.each([
    ['not an array', { sql: 'SELECT 1' }],
    ['an item that is a number', [42]],
    ['an empty item', [[]]],
    ['an item without SQL first', [[1, 'SELECT ?']]],
    ['an object parameter', [['SELECT ?', { a: { b: 1 } }]]],
    ['an array parameter', [['SELECT ?', [1, 2]]]],
  ])('refuses %s with BAD_REQUEST', (_name, body) => {
    expect(() => parseDbBody(body)).toThrow(DbError);
    try {
      parseDbBody(body);
    } catch (err) {
      expect((err as DbError).code).toBe('BAD_REQUEST');
    }
  });

  it('takes GET /db/query?q= as one statement, and refuses an empty q', () => {
    expect(queryStatement('SELECT 1')).toEqual([{ sql: 'SELECT 1', positional: [], named: new Map() }]);
    expect(() => queryStatement(undefined)).toThrow(DbError);
    expect(() => queryStatement('')).toThrow(DbError);
  });
});

describe('parseDbOptions', () => {
  it('reads flags bare or with values, maps read levels, ignores unknown parameters', () => {
    expect(parseDbOptions({})).toEqual(OPTS);
    expect(parseDbOptions({ transaction: '', timings: 'true', pretty: '1', associative: '', other: 'x' })).toEqual({ transaction: true, timings: true, pretty: true, associative: true, level: 'linearizable' });
    expect(parseDbOptions({ transaction: 'false', pretty: '0' })).toMatchObject({ transaction: false, pretty: false });
    expect(parseDbOptions({ level: 'strong' }).level).toBe('linearizable');
    expect(parseDbOptions({ level: 'auto' }).level).toBe('linearizable');
    expect(parseDbOptions({ level: 'weak' }).level).toBe('weak');
    expect(parseDbOptions({ level: 'stale' }).level).toBe('none');
    expect(() => parseDbOptions({ level: 'fast' })).toThrow(DbError);
  });
});

describe('formatResults', () => {
  const results: StatementResult[] = [
    { kind: 'execute', rowsAffected: 2, lastInsertId: 9007199254740993n, seconds: 0.001 },
    { kind: 'query', columns: ['id', 'name', 'data', 'x'], types: ['integer', 'text', 'blob', ''], rows: [[1n, 'fiona', new Uint8Array([1, 2]), 1.5], [-(2n ** 63n), null, null, Infinity]], seconds: 0.002 },
    { kind: 'query', columns: ['id'], types: ['integer'], rows: [], seconds: 0 },
    { kind: 'error', message: 'no such table: t', seconds: 0 },
  ];

  it("writes rqlite's plain form, integers exact, blobs in base64, no values for an empty result", () => {
    expect(formatResults(results, OPTS, 0.01)).toBe(
      '{"results":[{"last_insert_id":9007199254740993,"rows_affected":2},' +
        '{"columns":["id","name","data","x"],"types":["integer","text","blob",""],"values":[[1,"fiona","AQI=",1.5],[-9223372036854775808,null,null,1e999]]},' +
        '{"columns":["id"],"types":["integer"]},{"error":"no such table: t"}]}',
    );
  });

  it('writes the associative form, timings and pretty output', () => {
    const out = formatResults(results.slice(1, 2), { ...OPTS, associative: true, timings: true }, 0.01);
    expect(out).toBe('{"results":[{"types":{"id":"integer","name":"text","data":"blob","x":""},"rows":[{"id":1,"name":"fiona","data":"AQI=","x":1.5},{"id":-9223372036854775808,"name":null,"data":null,"x":1e999}],"time":0.002}],"time":0.01}');
    const pretty = formatResults(results.slice(3), { ...OPTS, pretty: true }, 0);
    expect(pretty).toBe('{\n    "results": [\n        {\n            "error": "no such table: t"\n        }\n    ]\n}');
    expect(JSON.parse(pretty)).toEqual({ results: [{ error: 'no such table: t' }] });
  });
});
