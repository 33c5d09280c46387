// Builds the agent as it ships: bmc-agent/src and its dependencies bundled by rolldown into dist/agent/main.mjs
// (plus healthcheck.mjs and the chunks loaded on first use), with the data files the code finds next to itself.
//   node scripts/build-agent.ts [out dir]     (default dist/agent; `npm run agent` runs it first)
// Why: plain JavaScript in a few files instead of ~150 TypeScript modules stripped at load and ~200 CommonJS files
// resolved one by one saves ~25 MiB of RSS and a third of the start time (docs/benchmarks.md). The TypeScript
// sources stay runnable as they are (`node bmc-agent/src/main.ts`) for development and the tests.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'rolldown';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'bmc-agent/src');

/**
 * Files the bundled code reads at run time. In a bundle every module's `import.meta.url` is the output file's,
 * so these go into the output directory itself: redfish/schemas/catalog.ts reads `csdl/` and `registries/`,
 * console/novnc.ts serves `page/`. noVNC itself is resolved as the package `@novnc/novnc` (node_modules).
 */
const ASSETS: Array<[from: string, to: string]> = [
  ['redfish/schemas/csdl', 'csdl'],
  ['redfish/schemas/registries', 'registries'],
  ['console/page', 'page'],
];

export async function buildAgent(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    input: { main: join(src, 'main.ts'), healthcheck: join(src, 'healthcheck.ts') },
    platform: 'node',
    logLevel: 'warn',
    output: {
      dir: out,
      format: 'esm',
      // .mjs: ES modules whatever package.json sits above the output.
      entryFileNames: '[name].mjs',
      chunkFileNames: '[name]-[hash].mjs',
      // Whitespace and dead code out, names kept: smaller source strings in V8 and readable stack traces.
      minify: { compress: true, mangle: false, codegen: true },
      comments: { legal: true, annotation: false, jsdoc: false },
    },
  });
  for (const [from, to] of ASSETS) cpSync(join(src, from), join(out, to), { recursive: true });
  // The bundle must not reach back into the sources: a path left in it would work here and fail in the image.
  const main = readFileSync(join(out, 'main.mjs'), 'utf8');
  if (main.includes('bmc-agent/src/')) throw new Error('build-agent: dist/agent/main.mjs refers to bmc-agent/src');
  if (!existsSync(join(out, 'csdl'))) throw new Error('build-agent: assets missing');
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(root, 'dist/agent'));
  const t0 = performance.now();
  await buildAgent(out);
  process.stderr.write(`build-agent: ${out} in ${Math.round(performance.now() - t0)} ms\n`);
}
