import { defineConfig } from 'vitest/config';

// Tiers: fast unit tests beside the code; the cluster tier that drives a real kind cluster (built
// offline by `skiff images build`); the VS Code tier, the extension in the real workbench against
// such a cluster. CI runs them all.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['runtime/src/**/*.test.ts', 'media/src/**/*.test.ts', 'extension/src/**/*.test.ts', 'jupyterlab-ext/src/**/*.test.ts'],
          // JupyterLab's web components ship ESM with extensionless imports: let Vite resolve them.
          server: { deps: { inline: [/@jupyter\/web-components/, /@microsoft\/fast-/] } },
        },
      },
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
      {
        test: {
          name: 'vscode',
          include: ['test/vscode/**/*.e2e.test.ts'],
          testTimeout: 20 * 60_000,
          hookTimeout: 5 * 60_000,
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
