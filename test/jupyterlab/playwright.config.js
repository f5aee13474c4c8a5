// Galata (JupyterLab's Playwright helpers) in Debian's Chromium against a real JupyterLab with the
// Skiff wheel installed, on a real kind cluster. test-jupyterlab-e2e.sh sets PATH and SKIFF_COMMAND.
const path = require('node:path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.SKIFF_JLAB_PORT ?? '8888';

module.exports = {
  ...baseConfig,
  testDir: path.join(__dirname, 'tests'),
  outputDir: path.join(__dirname, '../../test-results/jupyterlab/playwright'),
  reporter: [['list']],
  timeout: 20 * 60_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1400, height: 900 },
    video: 'off',
    trace: 'retain-on-failure',
    actionTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: `jupyter lab --config ${path.join(__dirname, 'jupyter_server_test_config.py')}`,
    url: `http://127.0.0.1:${port}/lab`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
};
