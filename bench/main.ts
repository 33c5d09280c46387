// bench/run.sh → this file. `node bench/main.ts [--quick] [redfish|ipmi|footprint|operator ...]`
// Runs the chosen parts (all by default) one after the other and writes bench/results/<stamp>[-quick].{json,md,svg}.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchFootprint } from './footprint.ts';
import { benchIpmi } from './ipmi.ts';
import { headInfo } from './lib/baseline.ts';
import { loadAverage } from './lib/proc.ts';
import { markdown, svg } from './lib/report.ts';
import { computeTargets } from './lib/targets.ts';
import type { BenchOptions, BenchResults } from './lib/types.ts';
import { benchOperator } from './operator.ts';
import { benchRedfish } from './redfish.ts';

const PARTS = ['redfish', 'ipmi', 'footprint', 'operator'] as const;
type Part = (typeof PARTS)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const unknown = args.filter((a) => a !== '--quick' && !PARTS.includes(a as Part));
if (unknown.length) {
  process.stderr.write(`usage: bench/run.sh [--quick] [${PARTS.join('|')} ...]; unknown: ${unknown.join(' ')}\n`);
  process.exit(2);
}
const chosen: Part[] = PARTS.filter((p) => args.includes(p));
const parts: Part[] = chosen.length ? chosen : [...PARTS];

const workDir = mkdtempSync(join(tmpdir(), 'qemu-bmc-bench-'));
const options: BenchOptions = { quick, workDir };
const started = new Date();
const results: BenchResults = {
  date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
  quick,
  parts,
  head: await headInfo(),
  machine: {
    cpus: cpus().length,
    memGiB: totalmem() / 2 ** 30,
    node: process.version,
    loadBefore: loadAverage(),
    loadAfter: [],
  },
  targets: [],
  errors: [],
};

const t0 = performance.now();
for (const part of parts) {
  const ts = performance.now();
  process.stdout.write(`${part}: start [load ${loadAverage().join(' ')}]\n`);
  try {
    if (part === 'redfish') results.redfish = await benchRedfish(options);
    if (part === 'ipmi') results.ipmi = await benchIpmi(options);
    if (part === 'footprint') results.footprint = await benchFootprint(options);
    if (part === 'operator') results.operator = await benchOperator(options);
  } catch (err) {
    const message = `${part}: ${(err as Error).stack ?? String(err)}`.slice(0, 2000);
    results.errors.push(message);
    process.stdout.write(`${message}\n`);
  }
  process.stdout.write(`${part}: done in ${((performance.now() - ts) / 1000).toFixed(0)} s\n`);
}
results.machine.loadAfter = loadAverage();
results.targets = computeTargets(results);

const outDir = join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
const stamp = `${results.date.replace(/[-:]/g, '').replace('T', '-').replace('Z', '')}${quick ? '-quick' : ''}${
  chosen.length ? `-${chosen.join('-')}` : ''
}`;
writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `${stamp}.svg`), svg(results));
writeFileSync(join(outDir, `${stamp}.md`), markdown(results, `${stamp}.svg`));
if (process.env['BENCH_KEEP'] !== '1') rmSync(workDir, { recursive: true, force: true });
else process.stdout.write(`logs kept in ${workDir}\n`);

process.stdout.write(`\n${markdown(results, `${stamp}.svg`).split('\n## Redfish')[0]}\n`);
process.stdout.write(
  `wrote bench/results/${stamp}.{json,md,svg} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
);
process.exit(results.errors.length ? 1 : 0);
