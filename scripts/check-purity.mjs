#!/usr/bin/env node
/**
 * Enforces what dependency-cruiser cannot see (STYLE.md §1): outside
 * src/runtime nothing reads the clock, arms timers or draws randomness, and
 * the Raft core is synchronous. Comments are ignored. Exits 1 on a violation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const banned = [
  [/\bDate\b/, 'Date (use the Clock from src/runtime)'],
  [/(?<![.\w])(setTimeout|setInterval|setImmediate)\s*\(/, 'timers (use Timers from src/runtime)'],
  [/\bMath\.random\b/, 'Math.random (use an Rng)'],
  [/\bperformance\.now\b|\bprocess\.hrtime\b/, 'clock reads (use the Clock from src/runtime)'],
];
const raftOnly = [
  [/\basync\b|\bawait\b|\bPromise\b/, 'async code in the pure core'],
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) yield p;
  }
}

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

let violations = 0;
for (const file of files(join(root, 'src'))) {
  const rel = relative(root, file);
  if (rel.startsWith('src/runtime/')) continue;
  const rules = rel.startsWith('src/raft/') ? [...banned, ...raftOnly] : banned;
  const lines = stripComments(readFileSync(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    for (const [re, what] of rules) {
      if (re.test(line)) {
        console.error(`${rel}:${i + 1}: ${what}: ${line.trim()}`);
        violations++;
      }
    }
  });
}
if (violations > 0) {
  console.error(`check-purity: ${violations} violation(s)`);
  process.exit(1);
}
console.log('check-purity: ok');
