import { defineConfig } from 'vitest/config';

// Two tiers: fast unit tests beside the code, and the cluster tier that drives a real
// kind cluster (built offline by `skiff images build`). CI runs both.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['runtime/src/**/*.test.ts'] } },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
