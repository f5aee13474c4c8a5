// The Skiff extension in the real VS Code workbench (code-server + Chromium) against a real kind
// cluster: start it from the palette, run a 2-worker training cell and a failing cell, run a script
// from its CodeLens, watch jobs in the tree, cancel one, promote one to another context (an alias
// context of the same cluster, with Debian's docker-registry as the cloud's registry) and see it
// under its target in the Jobs view, serve a script and call it, with its metrics, description and the
// status bar's count, run a cell in its notebook's folder whose written file opens from the job's
// outputs, and run a notebook on a live 2-rank session (state between cells, interrupt, a failing
// rank, a window reload, a deleted pod, restart, a new size).
// Screenshots land in test-results/vscode/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { REPO, openFile, openWorkbench, pick, runCommand, screenshot, waitInFrames, type Workbench } from './workbench.mjs';
import { REGISTRY, mirrorRegistryIntoNodes } from '../infra/registry.js';

const CLUSTER = process.env.SKIFF_VSCODE_CLUSTER ?? 'skiff-vscode';
const skiff = (...args: string[]) => execFileSync(process.execPath, [join(REPO, 'runtime/dist/cli/skiff.mjs'), '--cluster', CLUSTER, ...args], { encoding: 'utf8' });

let wb: Workbench;
let page: Page;

const pane = (title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
const jobsTree = () => pane('Jobs');
const notification = (text: string | RegExp) => page.locator('.notification-toast', { hasText: text });

/** What a job's output channel printed in this window, from the log file VS Code keeps of it. */
function channelLog(job: string): string {
  const files = readdirSync(join(wb.userDir, 'logs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(`${job}.log`));
  // One file per window load: the last is this window's.
  const latest = files
    .map((f) => join(wb.userDir, 'logs', f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .at(-1);
  if (!latest) throw new Error(`no output channel log for ${job} under ${wb.userDir}/logs`);
  return readFileSync(latest, 'utf8');
}

/**
 * Chooses the notebook's controller. With two controllers VS Code first asks for the kernel source
 * (the extension, "Skiff"), then for one of its controllers.
 */
async function selectKernel(label: 'Skiff cluster' | 'Skiff session'): Promise<void> {
  await runCommand(page, 'Notebook: Select Notebook Kernel');
  await page.locator('.quick-input-widget input[placeholder*="kernel"]').waitFor();
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const row = rows.filter({ hasText: label }).first();
  // A controller chosen before is offered at once (with "Select Another Kernel…"), the others under their source.
  if (!(await row.isVisible({ timeout: 2000 }).catch(() => false))) {
    const another = rows.filter({ hasText: 'Select Another Kernel' }).first();
    if (await another.isVisible().catch(() => false)) await another.click();
    await rows
      .filter({ has: page.getByText('Skiff', { exact: true }) })
      .first()
      .click();
  }
  await row.click();
  // Notebooks opened before keep their (hidden) toolbars: look at the visible one.
  await page.locator('.notebook-toolbar-container:visible', { hasText: label }).first().waitFor({ timeout: 30_000 });
}

/** Types the answer into the input box a command opened and confirms it. */
async function answer(text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(text);
  await input.press('Enter');
}

/** Opens a script and runs it from its "Run on cluster" CodeLens on this many workers. */
async function runFromCodeLens(file: string, workers: number): Promise<void> {
  await openFile(page, file);
  const lens = page.locator('.codelens-decoration a', { hasText: 'Run on cluster' });
  await lens.waitFor({ timeout: 30_000 }); // the first lens waits for the extension to start
  await lens.click();
  await answer(String(workers));
}

/** How many slow.py jobs the Jobs tree lists. */
const slowRows = () =>
  jobsTree()
    .locator('.monaco-list-row', { hasText: /^slow-/ })
    .count();

/** slow.py on 1 worker, until the Jobs tree shows it Running. */
async function runSlowJob(): Promise<void> {
  await runFromCodeLens('slow.py', 1);
  const row = jobsTree()
    .locator('.monaco-list-row', { hasText: /^slow-/ })
    .first();
  await expect.poll(() => row.textContent(), { timeout: 4 * 60_000 }).toMatch(/Running/);
}

/**
 * Brings the Skiff view into the sidebar. Its activity bar icon toggles: a click while the view is
 * shown (as a reload restores it) would hide the sidebar, and with it the Jobs tree.
 */
async function showSkiffView(): Promise<void> {
  if (await jobsTree().isVisible()) return;
  await page.locator('.activitybar [aria-label^="Skiff"]').first().click();
  await jobsTree().waitFor({ timeout: 30_000 });
}

/** Start Local Cluster's questions answered for a plain CPU cluster: the profile, then no add-on ticked (Enter). */
async function pickCpuCluster(shot?: string): Promise<void> {
  await pick(page, 'cpu');
  await page.locator('.quick-input-widget input[placeholder*="Add-ons of the new cluster"]').waitFor();
  if (shot) await screenshot(page, shot);
  await page.keyboard.press('Enter');
}

async function reloadWindow(): Promise<void> {
  // Until the page has navigated, the old workbench still answers every locator.
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await navigated;
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.activitybar [aria-label^="Skiff"]').first().waitFor({ timeout: 60_000 });
}

/** session.ipynb in front, on its "Skiff session" controller (a reload may leave it closed). */
async function openSessionNotebook(): Promise<void> {
  await openFile(page, 'session.ipynb');
  // Some cell of it (a reload keeps where the notebook was scrolled to).
  await page.locator('.notebookOverlay .cell-editor-container:visible').first().waitFor({ timeout: 60_000 });
  if (!(await page.locator('.notebook-toolbar-container:visible', { hasText: 'Skiff session' }).first().isVisible())) await selectKernel('Skiff session');
}

/**
 * Runs the session notebook's cell that holds `marker` from its run button, after clearing every
 * output: the frames then show this cell's output only. (Not a key: in the browser workbench
 * Ctrl+Enter inserts a line or a cell.)
 */
async function runSessionCell(marker: string): Promise<void> {
  // VS Code offers Clear All Outputs only while the notebook has some, and a reload may bring it back without any.
  await runCommand(page, 'Notebook: Clear All Outputs', { ifOffered: true });
  // The notebook renders the cells in view only: scroll (the wheel over the list's left gutter:
  // over an output, the output's frame would take it) until the cell's top, where its run button
  // is, lies below the toolbar and above the bottom edge.
  const row = page.locator('.notebookOverlay .code-cell-row:visible', { hasText: marker }).first();
  const list = page.locator('.notebookOverlay .cell-list-container:visible').first();
  const toolbar = page.locator('.notebook-toolbar-container:visible').first();
  const topInView = async () => {
    if (!(await row.isVisible())) return false;
    const [cell, view, bar] = await Promise.all([row.boundingBox(), list.boundingBox(), toolbar.boundingBox()]);
    if (!cell || !view) return false;
    return cell.y >= Math.max(view.y, bar ? bar.y + bar.height : 0) && cell.y + 40 <= view.y + view.height;
  };
  for (let step = 0; step < 40 && !(await topInView()); step++) {
    const view = await list.boundingBox();
    if (view) await page.mouse.move(view.x + 8, view.y + view.height / 2);
    await page.mouse.wheel(0, step < 12 ? -300 : 200);
    await page.waitForTimeout(200);
  }
  await row.hover({ position: { x: 30, y: 20 } });
  const run = row.locator('.run-button-container .action-label').first();
  try {
    await run.click({ timeout: 10_000 });
  } catch (err) {
    await screenshot(page, `run-button-${marker.replace(/\W+/g, '-')}`);
    throw err;
  }
}

describe('Skiff in VS Code', () => {
  beforeAll(async () => {
    // "cloud": a second context for the same cluster, which the workbench sees beside kind's.
    const extra = join(mkdtempSync(join(tmpdir(), 'skiff-vscode-kube-')), 'cloud.yaml');
    writeFileSync(extra, stringify({ apiVersion: 'v1', kind: 'Config', contexts: [{ name: 'cloud', context: { cluster: `kind-${CLUSTER}`, user: `kind-${CLUSTER}` } }] }));
    process.env.KUBECONFIG = [join(homedir(), '.kube', 'config'), extra].join(delimiter);
    wb = await openWorkbench({ 'skiff.clusterName': CLUSTER, 'skiff.nodes': 1 });
    writeFileSync(join(wb.folder, 'skiff-targets.yaml'), stringify({ cloud: { registry: REGISTRY, namespace: 'prod' } }));
    page = wb.page;
  });
  afterAll(async () => {
    await wb?.close();
    if (!process.env.SKIFF_E2E_KEEP) skiff('down');
  });

  it('starts a local cluster from the command palette and shows it in the Skiff view', async () => {
    await showSkiffView();
    await runCommand(page, 'Skiff: Start Local Cluster…');
    await pickCpuCluster('01a-cluster-addons');
    await notification(new RegExp(`cluster '${CLUSTER}' is (ready|running)`)).waitFor({ timeout: 15 * 60_000 });
    const clusterRow = pane('Clusters').locator('.monaco-list-row', { hasText: CLUSTER });
    await clusterRow.waitFor({ timeout: 30_000 });
    await expect.poll(() => clusterRow.textContent(), { timeout: 30_000 }).toMatch(/2\/2 nodes Ready/);
    await screenshot(page, '01-cluster-started');
  });

  it('runs a 2-worker training cell: both ranks log into the cell, the loss is charted; a failing cell, given 1 worker by the picker, shows its reason', async () => {
    await openFile(page, 'train.ipynb');
    await page.locator('.notebookOverlay').first().waitFor();
    // The failing cell has no choice of its own (the settings say 2 workers): give it 1 through the picker.
    await page.locator('.notebookOverlay .cell-editor-container').nth(1).click();
    await runCommand(page, 'Skiff: Set Workers and GPUs for Cell…');
    await pick(page, '1 worker');
    await pick(page, 'no GPU');
    await page
      .locator('.notebookOverlay .cell-statusbar-container', { hasText: /1\sworker/ })
      .first()
      .waitFor({ timeout: 10_000 });
    await page.locator('.notebookOverlay .cell-editor-container').first().click();
    await selectKernel('Skiff cluster');
    await runCommand(page, 'Notebook: Run All');
    await waitInFrames(page, 'text=rank 1/2 finished', 8 * 60_000);
    const frame = await waitInFrames(page, 'text=/✓ job train-.*Succeeded/', 2 * 60_000);
    expect(await frame.locator('text=rank 0/2 finished').count()).toBeGreaterThan(0);
    expect(await frame.locator('text=/metrics step=0 loss=/').count()).toBeGreaterThan(0);
    await screenshot(page, '02-training-cell');
    await waitInFrames(page, '.skiff-metrics-chart[data-metric="loss"] canvas', 60_000);
    await screenshot(page, '03-loss-chart');
    // The toolbar's "Go To" reveals the running cell, then the failed one: click until it shows the failure.
    const failure = 'text=/✗ job train-.*Failed \\(1 worker\\b.*script exited 1/';
    await expect
      .poll(
        async () => {
          await page.locator('.notebook-toolbar-container .action-item', { hasText: 'Go To' }).first().click();
          await page.waitForTimeout(1000);
          return (
            await Promise.all(
              page.frames().map((f) =>
                f
                  .locator(failure)
                  .count()
                  .catch(() => 0),
              ),
            )
          ).some(Boolean);
        },
        { timeout: 4 * 60_000, interval: 2000 },
      )
      .toBe(true);
    await waitInFrames(page, 'text=/ValueError: bad batch size/', 10_000);
    await screenshot(page, '04-failing-cell');
  });

  it('runs a script from its CodeLens and shows the job live in the Jobs tree and its log channel', async () => {
    await runFromCodeLens('hello.py', 2);
    await jobsTree()
      .locator('.monaco-list-row', { hasText: /^hello-/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await page
      .locator('.view-lines', { hasText: 'hello from rank 1 of 2' })
      .first()
      .waitFor({ timeout: 4 * 60_000 });
    await expect
      .poll(
        () =>
          jobsTree()
            .locator('.monaco-list-row', { hasText: /^hello-/ })
            .first()
            .textContent(),
        { timeout: 60_000 },
      )
      .toMatch(/Succeeded/);
    await screenshot(page, '05-codelens-run');
  });

  it('cancels a running job from the palette, and the tree drops it', async () => {
    await runSlowJob();
    await runCommand(page, 'Skiff: Cancel Job');
    await pick(page, 'slow-');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Cancel Job' }).click();
    await notification(/cancelled slow-/).waitFor({ timeout: 30_000 });
    await expect.poll(slowRows, { timeout: 60_000 }).toBe(0);
    await screenshot(page, '06-cancelled');
  });

  it('promotes a job to another context after the dry run in a diff editor, and lists it under that target', async () => {
    mirrorRegistryIntoNodes(CLUSTER);
    await runCommand(page, 'Skiff: Promote to Cloud…');
    await pick(page, 'hello-');
    await pick(page, /^cloud/, 'to which context?'); // not another context whose name holds "cloud"
    await pick(page, 'cloud', 'Target profile'); // the profile, with the file it comes from
    // The target's dry run, side by side with what it holds now (nothing).
    await page.locator('.tab', { hasText: /now ↔ after promotion/ }).waitFor({ timeout: 60_000 });
    await page.locator('.editor-container .view-lines', { hasText: 'promoted-from' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, '07-promotion-diff');
    await page.locator('.monaco-dialog-box', { hasText: 'Promote hello-' }).waitFor();
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Promote$/ }).click();
    await notification(/runs on 'cloud' \(namespace prod\)/).waitFor({ timeout: 10 * 60_000 });
    const heading = jobsTree().locator('.monaco-list-row', { hasText: 'cloud · prod' });
    await heading.waitFor({ timeout: 60_000 });
    const promoted = jobsTree().locator('.monaco-list-row[aria-level="2"]', { hasText: /^hello-/ });
    await expect.poll(() => promoted.first().textContent(), { timeout: 5 * 60_000 }).toMatch(/Succeeded/);
    await page.locator('.view-lines', { hasText: 'hello from rank 1 of 2' }).first().waitFor({ timeout: 60_000 });
    await screenshot(page, '08-promoted-job');
    const remote = JSON.parse(skiff('--context', 'cloud', '-n', 'prod', 'jobs', '-o', 'json')) as { name: string; phase: string }[];
    expect(remote).toEqual([expect.objectContaining({ name: expect.stringMatching(/^hello-/), phase: 'Succeeded' })]);
  });

  it('serves a script from its CodeLens, calls it, shows its metrics and description, and the status bar counts it', async () => {
    await openFile(page, 'serve.py');
    await page.locator('.codelens-decoration a', { hasText: 'Serve on cluster' }).click();
    await answer('8000');
    await notification(/serving serve-/).waitFor({ timeout: 60_000 });
    const row = jobsTree()
      .locator('.monaco-list-row[aria-level="1"]', { hasText: /^serve-/ })
      .first();
    await expect.poll(() => row.textContent(), { timeout: 4 * 60_000 }).toMatch(/Running · 1 replica/);
    const statusBar = page.locator('.statusbar-item', { hasText: CLUSTER });
    await expect.poll(() => statusBar.first().textContent(), { timeout: 30_000 }).toMatch(/1 running/);

    await runCommand(page, 'Skiff: Call Serving Job…');
    await pick(page, 'serve-');
    await answer('[1, 2, 3]');
    await page
      .locator('.view-lines', { hasText: 'HTTP 200: {"doubled": [2, 4, 6]}' })
      .first()
      .waitFor({ timeout: 2 * 60_000 });
    await screenshot(page, '09-serve-call');

    await runCommand(page, 'Skiff: Show Metrics');
    await pick(page, 'serve-');
    await page
      // Monaco draws spaces as no-break spaces, which a regular expression must match as \s.
      .locator('.view-lines', { hasText: /usage\srank\s0:\s\d+\.\d+\scores,\s\d+\sMiB/ })
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(async (err: unknown) => {
        await screenshot(page, '10-metrics-failed');
        throw err;
      });
    await screenshot(page, '10-metrics');

    await runCommand(page, 'Skiff: Describe Job');
    await pick(page, 'serve-');
    const described = page.locator('.editor-container .view-lines', { hasText: 'phase: Running' }).first();
    await described.waitFor({ timeout: 60_000 });
    expect(await page.locator('.editor-container .view-lines', { hasText: 'kind: serving' }).count()).toBeGreaterThan(0);
    await screenshot(page, '11-describe');
  });

  it("runs a cell in its notebook's folder: it imports a sibling module, installs its %pip package, and the file it writes opens from Open Job Outputs", async () => {
    await openFile(page, 'project.ipynb');
    // The notebook opened before stays in its (now hidden, inert) tab: click this one's cell.
    await page.locator('.notebookOverlay .cell-editor-container', { hasText: 'helpers' }).first().click();
    await selectKernel('Skiff cluster');
    await runCommand(page, 'Notebook: Run All');
    const frame = await waitInFrames(page, 'text=/✓ job project-.*Succeeded/', 6 * 60_000);
    // The status line can render before the last log lines reach the output webview: wait for them.
    await frame.locator('text=hello from helpers').first().waitFor({ timeout: 30_000 });
    await screenshot(page, '12-project-cell');

    await runCommand(page, 'Skiff: Open Job Outputs');
    await pick(page, 'project-');
    await pick(page, 'result.txt');
    await page.locator('.editor-container .view-lines', { hasText: 'hello from helpers' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, '13-job-outputs');
  });

  it('runs a notebook top to bottom on a live 2-rank session: state stays between cells, and interrupt stops a loop on every rank', async () => {
    await openFile(page, 'session.ipynb');
    await page.locator('.notebookOverlay .cell-editor-container', { hasText: 'make_batches' }).first().click();
    await selectKernel('Skiff session');
    await runCommand(page, 'Notebook: Run All');
    // Cell 1 joins the process group on both ranks; cell 2 reads cell 1's variables; cell 4 trains the DDP model of cell 3.
    const joined = await waitInFrames(page, 'text=[rank 1] rank 1 of 2 joined', 6 * 60_000);
    // Rank 0's line may reach the output a moment after rank 1's: wait for it, do not count at once.
    await joined.locator('text=rank 0 of 2 joined').first().waitFor({ timeout: 30_000 });
    await waitInFrames(page, 'text=/✓ cell 2 ok on 2 ranks/', 2 * 60_000, { scroll: true });
    await waitInFrames(page, 'text=/✓ cell 4 ok on 2 ranks/', 2 * 60_000, { scroll: true });
    await waitInFrames(page, '.skiff-metrics-chart[data-metric="loss"] canvas', 60_000, { scroll: true });
    await screenshot(page, '14-session-cells');
    // Cell 5 loops until interrupted, on every rank; Run All stops there.
    await waitInFrames(page, 'text=[rank 1] rank 1 looping', 60_000, { scroll: true });
    await runCommand(page, 'Notebook: Interrupt');
    await waitInFrames(page, 'text=/■ cell 5 interrupted/', 60_000, { scroll: true });
    await screenshot(page, '15-session-interrupted');
  });

  it("keeps the session's state through an interrupt and a window reload; a failing rank, a deleted pod, restart and a new size each say what happened", async () => {
    // The next cell after the interrupt runs on the same ranks, with their variables.
    await runSessionCell('still world');
    const kept = await waitInFrames(page, 'text=still world 2, 128 rows, group up: True', 60_000);
    await kept.locator('text=/✓ cell \\d+ ok on 2 ranks/').first().waitFor({ timeout: 30_000 });
    const session = /session (session-\S+)/.exec((await kept.locator('text=/✓ cell \\d+ ok on 2 ranks · session/').first().textContent()) ?? '')?.[1];
    expect(session).toBeTruthy();

    // An exception on rank 1 only: its traceback, tagged, beside rank 0's output.
    await runSessionCell('bad shard');
    const failed = await waitInFrames(page, 'text=/✗ cell \\d+ failed on rank 1 of 2/', 60_000);
    await failed.locator('text=/rank 1 got a bad shard/').first().waitFor({ timeout: 30_000 });
    await failed.locator('text=rank 0 is fine').first().waitFor({ timeout: 30_000 });
    await page.mouse.wheel(0, 600); // the output below the cell, into the picture
    await screenshot(page, '15a-session-failing-rank');

    // The window reloads: the next cell reaches the same pods and the same variables.
    await reloadWindow();
    await openSessionNotebook();
    await runSessionCell('still world');
    const reloaded = await waitInFrames(page, 'text=still world 2, 128 rows, group up: True', 2 * 60_000);
    // The ranks' cell count goes on from before the reload (5 cells run, then 2): the same processes.
    await reloaded.locator('text=/✓ cell 8 ok on 2 ranks/').first().waitFor({ timeout: 30_000 });
    await screenshot(page, '15b-session-after-reload');

    // Rank 1's pod deleted: the cell says so in plain words, and the next cell starts a fresh session.
    const rank1 = `skiff.dev/job=${session},batch.kubernetes.io/job-completion-index=1`;
    execFileSync('kubectl', ['--context', `kind-${CLUSTER}`, '-n', 'skiff', 'delete', 'pod', '-l', rank1, '--wait=true', '--timeout=120s']);
    await runSessionCell('still world');
    const lost = await waitInFrames(page, 'text=/lost ranks? (0, )?1 of 2: restart the session/', 2 * 60_000);
    await lost.locator('text=/rank 1 (is gone|stopped)/').first().waitFor({ timeout: 30_000 });
    await screenshot(page, '15c-session-lost-rank');
    await runSessionCell('still world');
    const fresh = await waitInFrames(page, "text=/name 'world' is not defined/", 6 * 60_000);
    await fresh.locator('text=/a fresh session .*its variables are gone/').first().waitFor({ timeout: 30_000 });
    await fresh.locator('text=/✗ cell 1 failed on ranks 0, 1 of 2/').first().waitFor({ timeout: 30_000 });

    // Restart: the variables of the cell before are gone.
    await runSessionCell('init_process_group');
    await waitInFrames(page, 'text=[rank 1] rank 1 of 2 joined', 2 * 60_000);
    await runCommand(page, 'Skiff: Restart Notebook Session');
    await notification(/restarts on the next cell/).waitFor({ timeout: 60_000 });
    await runSessionCell('still world');
    const restarted = await waitInFrames(page, "text=/name 'world' is not defined/", 6 * 60_000);
    await restarted.locator('text=/✗ cell 1 failed on ranks 0, 1 of 2/').first().waitFor({ timeout: 30_000 });
    await screenshot(page, '15d-session-restarted');

    // A new size, after the prompt: it is the notebook's from then on, through a reload too.
    await runCommand(page, 'Skiff: Change Notebook Session Size');
    await page.locator('.quick-input-title', { hasText: 'Ranks of the notebook session' }).waitFor();
    await pick(page, '1 rank');
    await page.locator('.quick-input-title', { hasText: 'GPUs per rank' }).waitFor();
    await pick(page, 'no GPU');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Restart' }).click();
    await notification(/restarts with 1 rank on the next cell/).waitFor({ timeout: 60_000 });
    await reloadWindow();
    await openSessionNotebook();
    await runSessionCell('init_process_group');
    const resized = await waitInFrames(page, 'text=rank 0 of 1 joined', 6 * 60_000);
    await resized.locator('text=/✓ cell 1 ok on 1 rank/').first().waitFor({ timeout: 30_000 });
    await screenshot(page, '15e-session-resized');
    await runCommand(page, 'Skiff: Shut Down Notebook Session');
    await notification(/session session-s\w+ shut down/).waitFor({ timeout: 60_000 });
  });

  it('keeps a job across a window reload: the Jobs tree still has it, and Show Logs brings back every line once', async () => {
    await runFromCodeLens('steady.py', 1);
    await page
      .locator('.view-lines', { hasText: 'steady step 3' })
      .first()
      .waitFor({ timeout: 4 * 60_000 });
    const job = /^steady-[a-z0-9]{1,5}/.exec(
      (await jobsTree()
        .locator('.monaco-list-row', { hasText: /^steady-/ })
        .first()
        .textContent()) ?? '',
    )![0];
    await reloadWindow();
    await showSkiffView();
    const row = jobsTree().locator('.monaco-list-row', { hasText: job });
    await expect.poll(() => row.first().textContent(), { timeout: 60_000 }).toMatch(/Running/);
    await screenshot(page, '16-reloaded-job');
    await runCommand(page, 'Skiff: Show Logs');
    await pick(page, job);
    await page
      .locator('.view-lines', { hasText: 'steady done' })
      .first()
      .waitFor({ timeout: 3 * 60_000 });
    await expect.poll(() => row.first().textContent(), { timeout: 60_000 }).toMatch(/Succeeded/);
    // The channel after the reload, as VS Code logs it: from the first line to the last, each once.
    const printed = channelLog(job)
      .split('\n')
      .map((l) => /(steady step \d+|steady done)$/.exec(l)?.[1])
      .filter(Boolean);
    expect(printed).toEqual([...Array.from({ length: 40 }, (_, i) => `steady step ${i}`), 'steady done']);
  });

  it('says what happened when its cluster is deleted under a job it follows, and Start Cluster from that message brings it back', async () => {
    // Submitted from a terminal, followed here: the tree's watch and the job's log channel.
    skiff('run', join(wb.folder, 'slow.py'), '--workers', '1', '--name', 'slow-gone', '-d');
    await showSkiffView();
    const row = jobsTree()
      .locator('.monaco-list-row', { hasText: /^slow-gone/ })
      .first();
    await expect.poll(() => row.textContent(), { timeout: 4 * 60_000 }).toMatch(/Running/);
    await runCommand(page, 'Skiff: Show Logs');
    await pick(page, 'slow-gone');
    await page.locator('.view-lines', { hasText: 'still working: 1' }).first().waitFor({ timeout: 60_000 });
    skiff('down');
    const gone = notification(new RegExp(`cluster '${CLUSTER}'`)).filter({ has: page.locator('.monaco-button', { hasText: 'Start Cluster' }) });
    await gone.first().waitFor({ timeout: 2 * 60_000 });
    await screenshot(page, '17-cluster-deleted');
    await expect.poll(slowRows, { timeout: 60_000 }).toBe(0);
    await gone.first().locator('.monaco-button', { hasText: 'Start Cluster' }).click();
    await pickCpuCluster();
    await notification(new RegExp(`cluster '${CLUSTER}' is ready`)).waitFor({ timeout: 15 * 60_000 });
    const clusterRow = pane('Clusters').locator('.monaco-list-row', { hasText: CLUSTER });
    await expect.poll(() => clusterRow.textContent(), { timeout: 60_000 }).toMatch(/2\/2 nodes Ready/);
    await screenshot(page, '18-cluster-back');
  });
});
