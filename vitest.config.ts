import { defineConfig } from 'vitest/config';

// One project per suite; each suite's prerequisites are checked by test/support/require.ts,
// which fails loudly (never skips) when something is missing.
const slow = { testTimeout: 180_000, hookTimeout: 300_000 };

export default defineConfig({
  test: {
    reporters: ['default', 'junit'],
    outputFile: { junit: 'test-results/junit.xml' },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], ...slow, fileParallelism: false } },
      { test: { name: 'browser', include: ['test/browser/**/*.test.ts'], ...slow, fileParallelism: false } },
      { test: { name: 'container', include: ['test/container/**/*.test.ts'], ...slow, fileParallelism: false } },
      // Each file starts its own control plane on free ports and counts only its own operator's writes, so two
      // files at a time are independent; it halves the suite's time on two cores.
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          ...slow,
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      // One long user story: its steps wait for a guest under TCG inside a pod.
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
