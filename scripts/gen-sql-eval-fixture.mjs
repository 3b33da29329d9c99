#!/usr/bin/env node
/**
 * Fills in the expected results of src/sql/eval/testdata/*.txt by asking the
 * sqlite3 CLI (the expectations were made with 3.40.1). Each non-comment line
 * starts with an expression; the script runs `SELECT quote(e), typeof(e);` and
 * rewrites the line as `expr <TAB> quote <TAB> typeof`, or, when SQLite
 * rejects it, `expr <TAB> error <TAB> message`. Lines starting with `#` are
 * kept; a line `# setup: SQL` runs SQL first, and expressions are then
 * selected FROM t (one row). Usage: node scripts/gen-sql-eval-fixture.mjs [file…]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const files = process.argv.slice(2);
const testdata = new URL('../src/sql/eval/testdata/', import.meta.url).pathname;
if (files.length === 0) files.push(`${testdata}expressions.txt`, `${testdata}column-affinity.txt`);

function runSqlite(expr, setup) {
  const select = `SELECT quote(${expr}), typeof(${expr})${setup ? ' FROM t' : ''};`;
  const r = spawnSync('sqlite3', ['-batch', ':memory:'], { input: `${setup ?? ''}\n${select}\n`, encoding: 'utf8' });
  if (r.error) throw r.error;
  const error = /(?:Parse|Runtime) error near line \d+: (.*)|^Error: (?:in prepare, )?(.*)/m.exec(r.stderr);
  if (error) return ['error', error[1] ?? error[2]];
  const out = r.stdout.replace(/\n$/, '');
  const bar = out.lastIndexOf('|');
  if (bar < 0 || out.includes('\n')) throw new Error(`unexpected output for ${expr}: ${JSON.stringify(out)} ${r.stderr}`);
  return [out.slice(0, bar), out.slice(bar + 1)];
}

for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const setup = lines.find((line) => line.startsWith('# setup: '))?.slice('# setup: '.length);
  const out = lines.map((line) => {
    if (line.startsWith('#') || line.trim() === '') return line;
    const expr = line.split('\t')[0];
    return [expr, ...runSqlite(expr, setup)].join('\t');
  });
  writeFileSync(file, out.join('\n'));
  console.log(`${file}: ${out.filter((l) => l.includes('\t')).length} expressions`);
}
