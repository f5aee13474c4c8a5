// The real VS Code workbench for end-to-end tests: code-server (installed by
// test/infra/ensure-code-server.sh) with the packaged .vsix, driven by Playwright in Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(REPO, 'test-results/vscode');

/** @typedef {{ page: import('playwright-core').Page, folder: string, userDir: string, close(): Promise<void> }} Workbench */

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {{ port: number }} */ (server.address());
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts code-server on a copy of test/vscode/workspace with the extension installed, and opens it in Chromium. */
/**
 * @param {Record<string, unknown>} settings
 * @returns {Promise<Workbench>}
 */
export async function openWorkbench(settings) {
  const codeServer = process.env.SKIFF_CODE_SERVER;
  if (!codeServer) throw new Error('SKIFF_CODE_SERVER is not set: run the tier through scripts/test-vscode.sh');
  const home = mkdtempSync(join(tmpdir(), 'skiff-vscode-'));
  const folder = join(home, 'workspace');
  cpSync(join(REPO, 'test/vscode/workspace'), folder, { recursive: true });
  mkdirSync(join(home, 'user/User'), { recursive: true });
  writeFileSync(
    join(home, 'user/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      ...settings,
    }),
  );
  const dirs = ['--user-data-dir', join(home, 'user'), '--extensions-dir', join(home, 'extensions')];
  execFileSync(process.execPath, [join(codeServer, 'out/node/entry.js'), ...dirs, '--install-extension', join(REPO, 'extension/skiff.vsix')], { stdio: 'pipe' });
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      join(codeServer, 'out/node/entry.js'),
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...dirs,
      folder,
    ],
    { stdio: 'ignore', env: { ...process.env, SKIFF_CODE_SERVER: undefined } },
  );
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  for (let i = 0; ; i++) {
    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
      break;
    } catch (err) {
      if (i > 60) throw err;
      await page.waitForTimeout(500);
    }
  }
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  return {
    page,
    folder,
    userDir: join(home, 'user'),
    close: async () => {
      await browser.close();
      server.kill();
    },
  };
}

/** @param {import('playwright-core').Page} page @param {string} name */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * Runs a command from the palette by its title, e.g. "Skiff: Start Local Cluster…". With `ifOffered`,
 * a command the palette does not offer within a few seconds (its precondition is false, e.g. Clear
 * All Outputs on a notebook without outputs) is not run: the palette closes and false comes back.
 * @param {import('playwright-core').Page} page @param {string} title @param {{ ifOffered?: boolean }} [opts]
 */
export async function runCommand(page, title, opts = {}) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  if (!opts.ifOffered) await row.waitFor();
  else if (
    !(await row.waitFor({ timeout: 5_000 }).then(
      () => true,
      () => false,
    ))
  ) {
    await input.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    return false;
  }
  await input.press('Enter');
  return true;
}

/**
 * Picks an entry of the open quick pick. With `asking`, first waits for the pick whose placeholder
 * holds that text: two picks in a row can offer the same label, and the first one's rows stay
 * clickable for a moment after it is answered.
 * @param {import("playwright-core").Page} page @param {string | RegExp} label @param {string} [asking]
 */
export async function pick(page, label, asking) {
  if (asking !== undefined) await page.locator(`.quick-input-widget input[placeholder*=${JSON.stringify(asking)}]`).waitFor();
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor();
  await row.click();
}

/** Opens a workspace file through Quick Open. */
/** @param {import('playwright-core').Page} page @param {string} name */
export async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await input.press('Enter');
}

/**
 * Waits until some frame (notebook outputs live in nested webview iframes) shows the selector. With
 * `scroll`, the notebook is scrolled down between looks: outputs out of view are not rendered.
 */
/**
 * @param {import('playwright-core').Page} page @param {string} selector @param {number} timeoutMs
 * @param {{ scroll?: boolean }} [opts]
 * @returns {Promise<import('playwright-core').Frame>}
 */
export async function waitInFrames(page, selector, timeoutMs, opts = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (
        await frame
          .locator(selector)
          .count()
          .catch(() => 0)
      )
        return frame;
    }
    if (opts.scroll) {
      await page.mouse.move(800, 500);
      await page.mouse.wheel(0, 300);
    }
    await page.waitForTimeout(1000);
  }
  await screenshot(page, `timeout-${selector.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`);
  throw new Error(`no frame shows ${selector} within ${timeoutMs / 1000} s`);
}
