// The VS Code extension's cost to the editor: its bundle size, and its activation time as the real
// workbench (code-server) reports it in "Developer: Show Running Extensions", beside the built-in
// Git extension's in the same window. Goals: activation under 50 ms, bundle under 1 MB.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { median, REPO, round, writeResults } from './lib.mjs';
import { openFile, openWorkbench, runCommand } from '../test/vscode/workbench.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!process.env.SKIFF_CODE_SERVER) throw new Error('set SKIFF_CODE_SERVER=$(bash test/infra/ensure-code-server.sh) and build extension/skiff.vsix first');

const skiff = [];
const git = [];
for (let i = 0; i < ROUNDS; i++) {
  // A cluster that does not exist: the extension activates and finds nothing, no cluster work.
  const wb = await openWorkbench({ 'skiff.clusterName': 'bench-no-cluster' });
  try {
    await openFile(wb.page, 'hello.py'); // onLanguage:python activates Skiff
    await wb.page.locator('.codelens-decoration a', { hasText: 'Run on cluster' }).waitFor({ timeout: 60_000 });
    await runCommand(wb.page, 'Developer: Show Running Extensions');
    await wb.page.waitForTimeout(2000);
    const text = await wb.page.locator('.editor-container').first().innerText();
    skiff.push(activationMs(text, 'Skiff'));
    git.push(activationMs(text, 'Git'));
  } finally {
    await wb.close();
  }
}

const dist = join(REPO, 'extension/dist');
const bundle = statSync(join(dist, 'extension.js')).size;
// The runtime (Kubernetes and Docker clients) loads in its own chunks on first use: count them too.
const allJs = readdirSync(dist)
  .filter((f) => f.endsWith('.js') && f !== 'renderer.js')
  .reduce((sum, f) => sum + statSync(join(dist, f)).size, 0);
const vsix = statSync(join(REPO, 'extension/skiff.vsix')).size;
writeResults('vscode', {
  what: 'activation as VS Code reports it (Running Extensions), and the size of what loads',
  rounds: ROUNDS,
  skiff: { activationMs: skiff, median: median(skiff), goal: '< 50' },
  baseline: { extension: 'Git (built in)', activationMs: git, median: median(git) },
  ratio: round(median(skiff) / median(git), 2),
  bundle: { 'extension.js bytes (loads at activation)': bundle, 'all extension-host JS bytes (with the lazily loaded runtime)': allJs, 'skiff.vsix bytes': vsix, goal: '< 1 MB' },
});

/** "Skiff\n0.1.0\n host\nActivation: 488ms" -> 488 */
function activationMs(text, name) {
  const block = text.split('\n').findIndex((line) => line.trim() === name);
  const line = text
    .split('\n')
    .slice(block, block + 6)
    .find((l) => /Activation: \d+ms/.test(l));
  if (block < 0 || !line) throw new Error(`no activation time for ${name} in:\n${text}`);
  return Number(/Activation: (\d+)ms/.exec(line)[1]);
}
