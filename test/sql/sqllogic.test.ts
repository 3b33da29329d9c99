/**
 * SQLite's sqllogictest files (../shared/sqllogic, read at test time, never
 * copied here: see SOURCE.md there) against the executor. Prints each file's
 * passed / failed / skipped counts and fails only when a file has more
 * failures than sqllogic-baseline.json records, so the numbers stay honest
 * and a regression still shows. Large files run only their first records, to
 * keep the whole under a minute.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSqlLogic } from '../support/sqllogic.js';
import type { SltReport } from '../support/sqllogic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.join(here, '..', '..');
const sltDir = path.join(repoRoot, '..', 'shared', 'sqllogic');
const baseline = JSON.parse(readFileSync(path.join(here, 'sqllogic-baseline.json'), 'utf8')) as Record<string, number>;

const MAX_RECORDS = 5000;
const TIME_LIMIT_MS = 15_000;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

function summary(file: string, r: SltReport): string {
  const skipped = [...r.skipped.values()].reduce((a, b) => a + b, 0);
  const reasons = [...r.skipped].map(([why, n]) => `${n} × ${why}`).join('; ');
  const stopped = r.stoppedEarly ? ` (stopped early: ${r.stoppedEarly})` : '';
  const lines = [`${file}: ${r.passed} passed / ${r.failed} failed / ${skipped} skipped${stopped}`];
  if (reasons) lines.push(`  skipped: ${reasons}`);
  for (const m of r.mismatches) lines.push(`  FAIL ${m.where}: ${m.sql.replace(/\s+/g, ' ')}\n    expected: ${m.expected}\n    got:      ${m.got}`);
  return lines.join('\n');
}

const present = existsSync(sltDir);
if (!present) console.warn(`sqllogictest: ${sltDir} is missing, so the conformance test is skipped`);

describe.skipIf(!present)('sqllogictest conformance', () => {
  for (const file of present ? testFiles(sltDir) : []) {
    it(file, async () => {
      const text = readFileSync(path.join(sltDir, file), 'utf8');
      const report = await runSqlLogic(text, { file, maxRecords: MAX_RECORDS, timeLimitMs: TIME_LIMIT_MS });
      console.log(summary(file, report));
      expect(report.failed, `${file}: more failures than the baseline`).toBeLessThanOrEqual(baseline[file] ?? 0);
    });
  }
});
