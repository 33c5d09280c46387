// Aggregates the per-suite junit files of test/run-all.sh into one closing line: "N passed, N failed".
// A suite counts as one extra failure when its file is missing, it ran no test, or vitest exited non-zero
// without reporting a failed test (a crash or an unhandled error); each failed phase (bed, typecheck, lint)
// counts as one failure too.
//
// Usage: node test/support/junit-summary.ts --dir test-results --suite unit=0 --suite integration=1 --failed-phase lint
// Exit status: 0 when nothing failed, 1 otherwise, 2 on bad usage.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface SuiteCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts the testcases of a junit document; a testcase with <failure> or <error> failed. */
export function countTestcases(xml: string): SuiteCounts {
  const counts: SuiteCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[1] ?? '';
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

export interface SuiteVerdict extends SuiteCounts {
  suite: string;
  /** Why the suite as a whole failed beyond its failed tests; null when it did not. */
  problem: string | null;
}

export function judgeSuite(suite: string, exitCode: number, xml: string | null): SuiteVerdict {
  if (xml === null) return { suite, passed: 0, failed: 0, skipped: 0, problem: 'no junit file: vitest crashed' };
  const counts = countTestcases(xml);
  let problem: string | null = null;
  if (counts.passed + counts.failed + counts.skipped === 0) problem = 'ran no test';
  else if (exitCode !== 0 && counts.failed === 0)
    problem = `vitest exited ${exitCode} with no failed test (crash or unhandled error)`;
  return { suite, ...counts, problem };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: 'test-results' },
      suite: { type: 'string', multiple: true, default: [] },
      'failed-phase': { type: 'string', multiple: true, default: [] },
    },
  });
  const verdicts: SuiteVerdict[] = [];
  for (const spec of values.suite) {
    const match = /^([\w-]+)=(\d+)$/.exec(spec);
    if (!match?.[1] || !match[2]) {
      console.error(`junit-summary: --suite must look like name=exitcode, got '${spec}'`);
      return 2;
    }
    const file = join(values.dir, `${match[1]}.xml`);
    verdicts.push(judgeSuite(match[1], Number(match[2]), existsSync(file) ? readFileSync(file, 'utf8') : null));
  }

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  console.log('\n=== summary');
  for (const phase of values['failed-phase']) {
    console.log(`  ${phase.padEnd(12)} FAILED`);
    failed++;
  }
  for (const verdict of verdicts) {
    passed += verdict.passed;
    failed += verdict.failed + (verdict.problem ? 1 : 0);
    skipped += verdict.skipped;
    const state = verdict.failed > 0 || verdict.problem ? 'FAILED' : 'ok';
    const detail = `${verdict.passed} passed, ${verdict.failed} failed, ${verdict.skipped} skipped`;
    console.log(
      `  ${verdict.suite.padEnd(12)} ${state.padEnd(6)} ${detail}${verdict.problem ? ` — ${verdict.problem}` : ''}`,
    );
  }
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) process.exitCode = main();
