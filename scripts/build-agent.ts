// Builds the agent as it ships: bmc-agent/src and its dependencies bundled by rolldown into dist/agent/main.mjs
// (plus healthcheck.mjs and the chunks loaded on first use), with the data files the code finds next to itself.
//   node scripts/build-agent.ts [out dir]     (default dist/agent; `npm run agent` runs it first)
// Why: plain JavaScript in a few files instead of 113 TypeScript modules stripped at load and ~280 dependency files
// resolved one by one, plus the two fixes below, saves ~40 MiB of RSS (117 -> 74 MiB idle) and half of the start
// time (docs/benchmarks.md). The TypeScript sources stay runnable as they are (`node bmc-agent/src/main.ts`) for
// development and the tests.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'rolldown';
import { nodeBundleOutput } from './node-bundle.ts';

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

/**
 * JSON modules as `JSON.parse('...')` instead of object literals. V8 compiles a large literal with a lot of parser
 * memory that stays in the process (glibc keeps the freed heap): mime-db's 2,500 types (required by express)
 * cost ~8 MiB of RSS as a literal and almost nothing as a parsed string. Only large files: a small literal is cheap.
 */
const jsonAsParse: Plugin = {
  name: 'json-as-parse',
  load(id) {
    if (!id.endsWith('.json')) return null;
    const raw = readFileSync(id, 'utf8');
    // Small ones (package.json: only `version` is used) stay literals, which the bundler trims to what is used.
    if (raw.length < 16_384) return null;
    const text = JSON.stringify(JSON.parse(raw));
    // CommonJS, as a JSON file is to require(): `require("./db.json")` must give the object, not a namespace.
    return { code: `module.exports = JSON.parse(${JSON.stringify(text)});`, moduleType: 'js' };
  },
};

/**
 * Node built-ins bound with `process.getBuiltinModule()` instead of `import ... from 'node:x'`. An ES import of a
 * built-in makes Node read every export of it, lazy getters included: `node:http`'s `WebSocket`, `CloseEvent` and
 * `MessageEvent` then load undici (with http2, zlib, web streams), 13.5 MiB of RSS for a fetch nobody makes.
 * Rewrites the bundle's own import lines (each on its own line at the top of a chunk before minification, so the
 * bindings exist before any code runs).
 */
const BUILTIN_IMPORT =
  /^import\s*(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\}\s*)?(?:\*\s*as\s+(\w+)\s*)?from\s*["'](node:[\w/]+)["'];?/gm;
const builtinsWithoutFacade: Plugin = {
  name: 'builtins-without-facade',
  renderChunk(code) {
    return code.replace(BUILTIN_IMPORT, (_all, def?: string, named?: string, ns?: string, id?: string) => {
      const module = `process.getBuiltinModule(${JSON.stringify(id)})`;
      const bindings: string[] = [];
      const whole = def ?? ns;
      if (whole) bindings.push(`${whole} = ${module}`);
      if (named?.trim()) {
        const props = named
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
          .map((n) => n.replace(/\s+as\s+/, ': '));
        bindings.push(`{ ${props.join(', ')} } = ${whole ?? module}`);
      }
      return bindings.length ? `const ${bindings.join(', ')};` : '';
    });
  },
};

export async function buildAgent(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    input: { main: join(src, 'main.ts'), healthcheck: join(src, 'healthcheck.ts') },
    platform: 'node',
    logLevel: 'warn',
    plugins: [jsonAsParse, builtinsWithoutFacade],
    output: nodeBundleOutput(out),
  });
  for (const [from, to] of ASSETS) cpSync(join(src, from), join(out, to), { recursive: true });
  // The bundle must not reach back into the sources: a path left in it would work here and fail in the image.
  const main = readFileSync(join(out, 'main.mjs'), 'utf8');
  if (main.includes('bmc-agent/src/')) throw new Error('build-agent: dist/agent/main.mjs refers to bmc-agent/src');
  for (const file of readdirSync(out).filter((f) => f.endsWith('.mjs'))) {
    const left = /from\s*["']node:/.exec(readFileSync(join(out, file), 'utf8'));
    if (left)
      throw new Error(`build-agent: ${file} still imports a built-in as an ES module (see builtinsWithoutFacade)`);
  }
  if (!existsSync(join(out, 'csdl'))) throw new Error('build-agent: assets missing');
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(root, 'dist/agent'));
  const t0 = performance.now();
  await buildAgent(out);
  process.stderr.write(`build-agent: ${out} in ${Math.round(performance.now() - t0)} ms\n`);
}
