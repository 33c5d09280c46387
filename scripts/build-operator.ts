// Builds the operator as it ships: operator/src and its dependencies bundled by rolldown into dist/operator/main.mjs,
// plus the chunks loaded only on demand (the YAML parser for kubeconfig files; @kubernetes/client-node for a
// kubeconfig with an exec plugin, auth-provider or proxy-url).
//   node scripts/build-operator.ts [out dir]     (default dist/operator)
// Why: one JavaScript file instead of ~40 TypeScript modules stripped at load (Node's type stripping alone costs
// ~16 MiB of RSS) and pino's and prom-client's CommonJS trees resolved file by file (docs/benchmarks.md). The
// TypeScript sources stay runnable as they are (`node operator/src/main.ts`) for development and the tests.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'rolldown';
import { nodeBundleOutput } from './node-bundle.ts';

const root = resolve(import.meta.dirname, '..');

/**
 * node flags of the operator image (Dockerfile.operator's ENTRYPOINT; keep the two in sync). V8 lets its young
 * generation grow to 2 x 64 MiB under a burst of reconciles and keeps it committed; at 1,000 VirtualBMCs that was
 * more RSS than everything the operator keeps alive. 8 MiB semi-spaces: 16 MiB at most (docs/benchmarks.md).
 */
export const OPERATOR_NODE_FLAGS = ['--max-semi-space-size=8'];

export async function buildOperator(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    input: { main: join(root, 'operator/src/main.ts') },
    platform: 'node',
    logLevel: 'warn',
    output: nodeBundleOutput(out),
  });
  const main = readFileSync(join(out, 'main.mjs'), 'utf8');
  if (main.includes('operator/src/')) throw new Error('build-operator: dist/operator/main.mjs refers to operator/src');
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(root, 'dist/operator'));
  const t0 = performance.now();
  await buildOperator(out);
  process.stderr.write(`build-operator: ${out} in ${Math.round(performance.now() - t0)} ms\n`);
}
