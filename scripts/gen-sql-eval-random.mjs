#!/usr/bin/env node
/**
 * Writes src/sql/eval/testdata/random.txt: random expressions from a seeded
 * generator (seed printed in the file's header), one a line, then fills in
 * sqlite3's answers with gen-sql-eval-fixture.mjs. Usage:
 * node scripts/gen-sql-eval-random.mjs [seed] [count]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const seed = Number(process.argv[2] ?? 20240611);
const count = Number(process.argv[3] ?? 400);

/** mulberry32: small, seeded, good enough to pick grammar rules. */
function rng(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(seed);
const pick = (xs) => xs[Math.floor(random() * xs.length)];

const literals = ['0', '1', '-1', '2', '7', '-3', '9223372036854775807', '-9223372036854775808', '0.5', '-2.5', '1e18', '3.0', 'NULL', "'abc'", "'12'", "' 3.5x'", "'1e2'", "''", "x'3132'", 'TRUE', 'FALSE'];
const binary = ['+', '-', '*', '/', '%', '||', '&', '|', '<<', '>>', '<', '<=', '>', '>=', '=', '!=', 'IS', 'IS NOT', 'AND', 'OR'];
const types = ['INTEGER', 'REAL', 'TEXT', 'NUMERIC', 'BLOB'];

function expr(depth) {
  if (depth === 0 || random() < 0.3) return pick(literals);
  const a = () => expr(depth - 1);
  switch (Math.floor(random() * 10)) {
    case 0:
      return `${pick(['-', '+', '~', 'NOT '])}(${a()})`;
    case 1:
      return `(${a()}) IN (${a()}, ${a()})`;
    case 2:
      return `(${a()}) BETWEEN (${a()}) AND (${a()})`;
    case 3:
      return `CAST(${a()} AS ${pick(types)})`;
    case 4:
      return `CASE ${a()} WHEN ${a()} THEN ${a()} ELSE ${a()} END`;
    case 5:
      return `${pick(['abs', 'length', 'lower', 'typeof', 'round'])}(${a()})`;
    case 6:
      return `${pick(['coalesce', 'nullif', 'substr', 'round', 'ifnull'])}(${a()}, ${a()})`;
    case 7:
      return `(${a()}) LIKE (${a()})`;
    default:
      return `(${a()}) ${pick(binary)} (${a()})`;
  }
}

const lines = [
  `# Random expressions (seed ${seed}, ${count} of them) and sqlite3 3.40.1's answers;`,
  '# regenerate with node scripts/gen-sql-eval-random.mjs [seed] [count].',
];
for (let i = 0; i < count; i++) lines.push(expr(3));
const file = new URL('../src/sql/eval/testdata/random.txt', import.meta.url).pathname;
writeFileSync(file, `${lines.join('\n')}\n`);
execFileSync('node', [new URL('gen-sql-eval-fixture.mjs', import.meta.url).pathname, file], { stdio: 'inherit' });
