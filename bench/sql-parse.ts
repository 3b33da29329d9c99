/**
 * `npm run bench:sql-parse`: the SQL front end's cost per statement, the
 * parse a gateway pays before anything reaches a range: a point SELECT and a
 * three-value INSERT, each parsed 200,000 times after a warm-up. Prints µs
 * per parse.
 */
import { parseStatement } from '../src/sql/index.js';
import { benchArgs } from './args.js';

const USAGE = `Usage: npm run bench:sql-parse

Parses a point SELECT and a three-value INSERT 200,000 times each (after a
warm-up of 20,000) and prints the microseconds per parse.`;

const ITERATIONS = 200_000;
const WARM_UP = 20_000;

const STATEMENTS = [
  ['select', 'SELECT a, b FROM t WHERE id = ?'],
  ['insert', "INSERT INTO t (id, name, score) VALUES (?, 'alice', 42)"],
] as const;

/** Microseconds per parse of `sql` over `n` parses. */
function timeParses(sql: string, n: number): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) parseStatement(sql);
  return ((performance.now() - start) * 1000) / n;
}

benchArgs({}, USAGE);
for (const [, sql] of STATEMENTS) timeParses(sql, WARM_UP);
for (const [name, sql] of STATEMENTS) {
  console.log(`${name.padEnd(7)} ${timeParses(sql, ITERATIONS).toFixed(2)} µs/parse  ${sql}`);
}
