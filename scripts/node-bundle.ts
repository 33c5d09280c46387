// rolldown output options shared by the agent and operator bundles (scripts/build-agent.ts, build-operator.ts).
export function nodeBundleOutput(dir: string) {
  return {
    dir,
    format: 'esm' as const,
    // .mjs: ES modules whatever package.json sits above the output.
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
    // Whitespace and dead code out, names kept: smaller source strings in V8 and readable stack traces.
    minify: { compress: true, mangle: false, codegen: true },
    comments: { legal: true, annotation: false, jsdoc: false },
  };
}
