// Skiff in a real JupyterLab (from PyPI, the wheel installed) against a real kind cluster: start the
// cluster from the sidebar, run a 2-worker training cell and see both ranks and the loss chart, a
// failing cell's reason, the %%skiff magic, cancelling a job, a cell run in its notebook's folder whose
// outputs come back, a notebook on the Skiff kernel (a live 2-rank session), and promoting one to
// another context
// (test-jupyterlab-e2e.sh makes "cloud", an alias context of the same cluster, and its target profile;
// Debian's docker-registry is its registry). Screenshots: test-results/jupyterlab/.
import { expect, galata, test, type IJupyterLabPageFixture, type JupyterLabPage } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { mirrorRegistryIntoNodes } from '../../infra/registry';

const NOTEBOOKS = path.join(__dirname, '..', 'notebooks');
/** The sibling module of the session notebooks (shared with the cluster tier's session tests). */
const SHARDS = path.join(__dirname, '..', '..', 'cluster', 'fixtures', 'session', 'shards.py');
const SHOTS = path.join(__dirname, '..', '..', '..', 'test-results', 'jupyterlab');
const CLUSTER = process.env.SKIFF_JLAB_CLUSTER ?? 'skiff-jlab';

test.describe.configure({ mode: 'serial' });
// Galata serves settings from memory: one worker node is enough here (spreading ranks over nodes is
// the cluster tier's test).
test.use({ serverFiles: 'off', mockSettings: { ...galata.DEFAULT_SETTINGS, '@skiff/jupyterlab:plugin': { nodes: 1 } } });

const shot = (page: IJupyterLabPageFixture, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const sidebar = (page: IJupyterLabPageFixture) => page.locator('#skiff-sidebar');

async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('skiff-sidebar');
  const bar = sidebar(page);
  await expect(bar.locator('.skiff-status')).toContainText(`cluster ${CLUSTER}`);
  return bar;
}

async function openNotebook(page: IJupyterLabPageFixture, tmpPath: string, name: string): Promise<void> {
  await page.contents.uploadFile(path.join(NOTEBOOKS, name), `${tmpPath}/${name}`);
  // Galata opens files through the file browser, which shares the left area with Skiff's sidebar.
  await page.sidebar.openTab('filebrowser');
  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await page.notebook.activate(name);
}

/** The cell's rendered outputs as one text. */
async function outputText(page: IJupyterLabPageFixture, cell: number): Promise<string> {
  const locator = await page.notebook.getCellLocator(cell);
  return (
    (await locator
      ?.locator('.jp-OutputArea')
      .innerText()
      .catch(() => '')) ?? ''
  );
}

/** Runs a cell on the cluster from JupyterLab's Run menu (the toolbar button may sit in the overflow). */
async function runFromMenu(page: IJupyterLabPageFixture, cell: number): Promise<void> {
  await page.notebook.selectCells(cell);
  await page.menu.clickMenuItem('Run>Run Cell on Cluster');
}

test('starts a local cluster from the sidebar, with progress, and shows its nodes', async ({ page }) => {
  const bar = await openSidebar(page);
  await shot(page, '01-sidebar-no-cluster');
  await expect(bar.locator('.skiff-cluster-state')).toHaveAttribute('data-state', 'none');
  // A GPU profile offers GPU sharing; a CPU one has nothing to share.
  await bar.locator('.skiff-profile').selectOption('fake-gpu');
  await expect(bar.locator('.skiff-gpu-sharing')).toBeVisible();
  await expect(bar.locator('.skiff-gpu-sharing option')).toHaveText(['whole GPUs', 'GPUs shared 2 ways', 'GPUs shared 4 ways', 'GPUs as DRA devices']);
  await shot(page, '01b-sidebar-gpu-sharing');
  await bar.locator('.skiff-profile').selectOption('cpu');
  await expect(bar.locator('.skiff-gpu-sharing')).toBeHidden();
  await bar.getByRole('button', { name: 'Start cluster' }).click();
  await expect(bar.locator('.skiff-progress')).toBeVisible();
  await shot(page, '02-cluster-starting');
  await expect(bar.locator('.skiff-cluster-state')).toHaveAttribute('data-state', 'ready', { timeout: 15 * 60_000 });
  await expect(bar.locator('.skiff-cluster-state')).toContainText('2/2 nodes Ready');
  await shot(page, '03-cluster-ready');
});

test('runs a 2-worker training cell: both ranks stream into the cell, the loss is charted, the sidebar follows', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'train.ipynb');
  const bar = await openSidebar(page);
  await runFromMenu(page, 0);
  await expect.poll(() => outputText(page, 0), { timeout: 8 * 60_000 }).toMatch(/✓ job train-[a-z0-9]+: Succeeded \(2 workers/);
  const text = await outputText(page, 0);
  expect(text).toContain('rank 0/2 finished');
  expect(text).toContain('rank 1/2 finished');
  expect(text).toMatch(/metrics step=0 loss=/);
  const cell = (await page.notebook.getCellLocator(0))!;
  await expect(cell.locator('.skiff-metrics-chart[data-metric="loss"] canvas')).toBeVisible();
  await shot(page, '04-training-cell-loss-chart');

  // The sidebar selected the job: its logs carry both ranks, and the rank filter narrows them.
  const row = bar.locator('.skiff-job-row[data-phase="Succeeded"]').first();
  await expect(row).toBeVisible();
  const logs = bar.locator('.skiff-logs');
  await expect(logs).toContainText('rank 1/2 finished');
  await expect(logs).toContainText('rank 0/2 finished');
  await bar.locator('.skiff-rank-filter').selectOption('1');
  await expect(logs).toContainText('rank 1/2 finished');
  await expect(logs).not.toContainText('rank 0/2 finished');
  await shot(page, '05-sidebar-logs-rank-1');
  await bar.locator('.skiff-tab[data-tab="metrics"]').click();
  await expect(bar.locator('.skiff-metrics-chart[data-metric="loss"] canvas')).toBeVisible();
  await shot(page, '06-sidebar-metrics');
});

test('a failing cell shows its exit code and last lines, and Describe gives the reason', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'train.ipynb');
  const bar = await openSidebar(page);
  // From the cell's context menu, with the options dialog.
  await page.notebook.selectCells(1);
  await (await page.notebook.getCellLocator(1))!.click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Run Cell on Cluster…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input[name="workers"]').fill('1');
  await dialog.getByRole('button', { name: 'Run' }).click();
  await expect.poll(() => outputText(page, 1), { timeout: 6 * 60_000 }).toMatch(/✗ job train-[a-z0-9]+: Failed .*script exited 1/);
  expect(await outputText(page, 1)).toContain('ValueError: bad batch size');
  await shot(page, '07-failing-cell');
  await bar.locator('.skiff-tab[data-tab="describe"]').click();
  await expect(bar.locator('.skiff-reason')).toContainText('script exited 1');
  await expect(bar.locator('.skiff-describe')).toContainText('Pods:');
  await shot(page, '08-describe-reason');
});

test('the %%skiff magic runs a cell on the cluster from the kernel, with its logs and chart', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'magic.ipynb');
  await page.notebook.runCell(0);
  await page.notebook.runCell(1, { inplace: true, wait: false } as never);
  await expect.poll(() => outputText(page, 1), { timeout: 8 * 60_000 }).toMatch(/job cell-[a-f0-9]+ Succeeded/);
  const text = await outputText(page, 1);
  expect(text).toContain('rank 0/2 finished');
  expect(text).toContain('rank 1/2 finished');
  const cell = (await page.notebook.getCellLocator(1))!;
  await expect(cell.locator('.skiff-metrics-chart[data-metric="loss"] canvas')).toBeVisible();
  await shot(page, '09-magic');
});

test('cancels a running job from the sidebar; the cell ends Cancelled', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'train.ipynb');
  const bar = await openSidebar(page);
  await runFromMenu(page, 2);
  await expect.poll(() => outputText(page, 2), { timeout: 4 * 60_000 }).toContain('tick 2');
  const row = bar.locator('.skiff-job-row[data-phase="Running"]').first();
  await expect(row).toBeVisible();
  await row.click();
  await shot(page, '10-running-job');
  await bar.locator('.skiff-job').getByRole('button', { name: 'Cancel' }).click();
  await expect.poll(() => outputText(page, 2), { timeout: 2 * 60_000 }).toMatch(/■ job train-[a-z0-9]+: Cancelled/);
  await shot(page, '11-cancelled');
});

test('runs a whole notebook as one job; its output lands in the last code cell', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'whole.ipynb');
  await page.menu.clickMenuItem('Run>Run Notebook on Cluster');
  await expect.poll(() => outputText(page, 1), { timeout: 4 * 60_000 }).toMatch(/✓ job whole-[a-z0-9]+: Succeeded \(1 worker/);
  expect(await outputText(page, 1)).toContain('hello notebook from the cluster');
  await shot(page, '12-whole-notebook');
});

test("runs a cell in its notebook's folder: a sibling module imports, its %pip package installs, and the file it writes is in its outputs", async ({ page, tmpPath }) => {
  await page.contents.uploadFile(path.join(NOTEBOOKS, 'helpers.py'), `${tmpPath}/helpers.py`);
  await openNotebook(page, tmpPath, 'project.ipynb');
  await runFromMenu(page, 0);
  await expect.poll(() => outputText(page, 0), { timeout: 5 * 60_000 }).toMatch(/✓ job project-[a-z0-9]+: Succeeded \(1 worker/);
  expect(await outputText(page, 0)).toContain('hello from helpers');
  const bar = await openSidebar(page);
  await bar.locator('.skiff-tab[data-tab="outputs"]').click();
  await expect(bar.locator('.skiff-outputs')).toContainText('result.txt');
  await expect(bar.locator('.skiff-outputs')).toContainText('helpers.py');
  await shot(page, '14-job-outputs');
  const job = /job (project-[a-z0-9]+)/.exec(await outputText(page, 0))![1];
  await bar.locator('.skiff-outputs-actions').getByRole('button', { name: "Copy to the notebook's folder" }).click();
  await expect(bar.locator('.skiff-outputs-copied')).toContainText(`skiff-outputs/${job}/`);
  await expect.poll(() => page.contents.fileExists(`${tmpPath}/skiff-outputs/${job}/result.txt`)).toBe(true);
});

test('serves a cell and answers a request sent from the sidebar', async ({ page, tmpPath }) => {
  await openNotebook(page, tmpPath, 'serve.ipynb');
  const bar = await openSidebar(page);
  await page.notebook.selectCells(0);
  await page.menu.clickMenuItem('Run>Serve Cell on Cluster…');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('input[name="port"]')).toHaveValue('8000');
  await dialog.getByRole('button', { name: 'Serve' }).click();
  await expect.poll(() => outputText(page, 0), { timeout: 4 * 60_000 }).toContain('serving on :8000');
  await expect.poll(() => outputText(page, 0)).toMatch(/▶ job serve-[a-z0-9]+: Running \(1 replica/);
  await bar.locator('.skiff-tab[data-tab="call"]').click();
  await bar.locator('.skiff-call textarea[name="data"]').fill('[1, 2]');
  await bar.locator('.skiff-call').getByRole('button', { name: 'Send' }).click();
  await expect(bar.locator('.skiff-call-answer')).toContainText('HTTP 200');
  await expect(bar.locator('.skiff-call-answer')).toContainText('"predictions": [5.0, 8.0]');
  await shot(page, '13-serving-call');
  await bar.locator('.skiff-job').getByRole('button', { name: 'Cancel' }).click();
  await expect.poll(() => outputText(page, 0), { timeout: 2 * 60_000 }).toMatch(/■ job serve-[a-z0-9]+: Cancelled/);
});

test('promotes a finished training job after the reviewed plan, and lists it with its logs under the target', async ({ page }) => {
  mirrorRegistryIntoNodes(CLUSTER);
  const bar = await openSidebar(page);
  await bar
    .locator('.skiff-job-row[data-phase="Succeeded"]:not([data-target])', { hasText: /^train-/ })
    .first()
    .click();
  const job = (await bar.locator('.skiff-job-title strong').innerText()).trim();
  await bar.locator('.skiff-job').getByRole('button', { name: 'Promote…' }).click();
  const targets = page.locator('.jp-Dialog');
  await targets.locator('select[name="context"]').selectOption('cloud');
  await expect(targets.locator('select[name="profile"]')).toHaveValue('cloud');
  await targets.getByRole('button', { name: 'Show plan' }).click();
  const plan = page.locator('.jp-Dialog', { hasText: "Apply to 'cloud'?" });
  await expect(plan.locator('.skiff-plan')).toContainText(`${job} → context 'cloud', namespace prod`);
  await expect(plan.locator('.skiff-diff')).toContainText('skiff.dev/promoted-from');
  await shot(page, '14-promotion-plan');
  await plan.getByRole('button', { name: 'Promote' }).click();
  await expect(bar.locator('.skiff-promote-log')).toContainText(`✓ promoted ${job} to 'cloud'`, { timeout: 10 * 60_000 });
  await expect(bar.locator('.skiff-target')).toContainText('cloud · prod (1)');
  const promoted = bar.locator(`.skiff-job-row[data-target="cloud/prod/"][data-job="${job}"]`);
  await expect(promoted).toHaveAttribute('data-phase', 'Succeeded', { timeout: 5 * 60_000 });
  await promoted.click();
  await expect(bar.locator('.skiff-job-title')).toContainText('on cloud · prod');
  await expect(bar.locator('.skiff-logs')).toContainText('rank 1/2 finished');
  // A promoted job is not promoted again from where it went.
  await expect(bar.locator('.skiff-job').getByRole('button', { name: 'Promote…' })).toHaveCount(0);
  await shot(page, '15-promoted-job');
});

/** Runs a cell on the notebook's kernel without waiting: a cell that starts a session or loops outlasts Galata's wait. */
const runOnKernel = (page: IJupyterLabPageFixture, cell: number) => page.notebook.runCell(cell, { inplace: true, wait: false });

/** `skiff session status NAME` as JSON, or undefined when the session is gone. */
function sessionStatus(name: string): { workers: number; phase: string } | undefined {
  const [command, ...args] = (process.env.SKIFF_COMMAND ?? 'skiff').split(' ');
  try {
    return JSON.parse(execFileSync(command, [...args, 'session', 'status', name, '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return undefined;
  }
}

test.describe('the Skiff kernel', () => {
  // Galata's kernel tracking reads every POST answer as JSON; an interrupt's is empty (204). The test
  // shuts its kernel down itself.
  test.use({ kernels: null, sessions: null });

  test('the Skiff kernel keeps a 2-rank session: state across cells, DDP with its loss chart, a failing rank, interrupt, reload, restart, shut down', async ({ page, tmpPath }) => {
    await page.contents.uploadFile(SHARDS, `${tmpPath}/shards.py`);
    await openNotebook(page, tmpPath, 'session.ipynb');
    // The notebook names its kernel: JupyterLab starts "Skiff · 2 workers" for it.
    await expect(page.locator('.jp-NotebookPanel-toolbar').getByText('Skiff · 2 workers')).toBeVisible({ timeout: 60_000 });

    await runOnKernel(page, 0);
    await expect.poll(() => outputText(page, 0), { timeout: 6 * 60_000 }).toContain('[rank 1] rank 1 of 2 joined');
    const first = await outputText(page, 0);
    expect(first).toContain('rank 0 of 2 joined');
    const session = /session (\S+) ready: 2 ranks/.exec(first)?.[1];
    expect(session, first).toBeTruthy();
    await shot(page, '17-kernel-session-started');

    // Cell 2 uses cell 1's variables; its last expression is the cell's value, from rank 0.
    await runOnKernel(page, 1);
    await expect.poll(() => outputText(page, 1), { timeout: 60_000 }).toContain('[rank 1] rank 1 has 128 rows');
    expect(await page.notebook.getCellTextOutput(1)).toContain('128');
    await runOnKernel(page, 2);
    await expect.poll(() => page.notebook.getCellTextOutput(2), { timeout: 60_000 }).toContain('5');
    await runOnKernel(page, 3);
    await expect.poll(() => outputText(page, 3), { timeout: 2 * 60_000 }).toContain('[rank 1] rank 1 final loss');
    expect(await outputText(page, 3)).toMatch(/^rank 0 final loss \d/m);
    const training = (await page.notebook.getCellLocator(3))!;
    await expect(training.locator('.skiff-metrics-chart[data-metric="loss"] canvas')).toBeVisible();
    await shot(page, '18-kernel-ddp-loss-chart');

    // An exception on rank 1 only: its traceback, tagged, and the cell's outcome.
    await runOnKernel(page, 4);
    await expect.poll(() => outputText(page, 4), { timeout: 60_000 }).toContain('failed on rank 1 of 2');
    const failed = await outputText(page, 4);
    expect(failed).toContain('[rank 1] ValueError: rank 1 got a bad shard');
    expect(failed).toContain('rank 0 is fine');
    await shot(page, '19-kernel-failing-rank');

    // An endless loop, interrupted from JupyterLab's Kernel menu: KeyboardInterrupt on both ranks.
    await runOnKernel(page, 5);
    await expect.poll(() => outputText(page, 5), { timeout: 60_000 }).toContain('[rank 1] rank 1 looping');
    await page.menu.clickMenuItem('Kernel>Interrupt Kernel');
    await expect.poll(() => outputText(page, 5), { timeout: 60_000 }).toContain('interrupted');
    expect(await outputText(page, 5)).toContain('KeyboardInterrupt');
    await shot(page, '20-kernel-interrupted');

    // The page reloads mid-session: the same kernel, the same pods, the same variables.
    // (Not Galata's ready check: it waits for the Launcher tab, and the restored notebook is in front.)
    // Galata's own reload (JupyterLabPage's); the fixture's type shows Playwright's, which lacks waitForIsReady.
    await (page as unknown as JupyterLabPage).reload({ waitForIsReady: false });
    await expect(page.locator('#jupyterlab-splash')).toHaveCount(0, { timeout: 60_000 });
    if (!(await page.notebook.isOpen('session.ipynb'))) await openNotebook(page, tmpPath, 'session.ipynb');
    await page.notebook.activate('session.ipynb');
    await runOnKernel(page, 6);
    await expect.poll(() => outputText(page, 6), { timeout: 2 * 60_000 }).toContain('still world 2, 128 rows, group up: True');
    await shot(page, '21-kernel-after-reload');

    // Restart: fresh ranks, no variables.
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator('#jp-main-statusbar').getByText(/Idle/)).toBeVisible({ timeout: 60_000 });
    await runOnKernel(page, 6);
    await expect.poll(() => outputText(page, 6), { timeout: 6 * 60_000 }).toContain("NameError: name 'world' is not defined");
    expect(await outputText(page, 6)).toMatch(/session \S+ ready: 2 ranks/);
    await shot(page, '22-kernel-restarted');

    // A rank's pod deleted under the kernel: the cell says so in plain words (the job may take rank 0
    // down with it: a group that lost a member is lost); the next cell starts afresh. The deletion is
    // waited out, as in the VS Code row: a pod in its grace period may still answer a cell sent at once.
    execFileSync('kubectl', [
      '--context',
      `kind-${CLUSTER}`,
      '-n',
      'skiff',
      'delete',
      'pod',
      '-l',
      `skiff.dev/job=${session},batch.kubernetes.io/job-completion-index=1`,
      '--wait=true',
      '--timeout=120s',
    ]);
    await runOnKernel(page, 6);
    await expect.poll(() => outputText(page, 6), { timeout: 2 * 60_000 }).toMatch(/lost ranks? (0, )?1 of 2: restart the session/);
    expect(await outputText(page, 6)).toMatch(/rank 1 (is gone|stopped)[^\n]*session-\S+-1-/);
    await shot(page, '23-kernel-lost-rank');
    await runOnKernel(page, 0);
    await expect.poll(() => outputText(page, 0), { timeout: 6 * 60_000 }).toContain('[rank 1] rank 1 of 2 joined');
    expect(await outputText(page, 0)).toContain('(a fresh one: the last lost a rank, its variables are gone)');

    // Shut down: the session's pods go with the kernel.
    expect(sessionStatus(session!)).toMatchObject({ workers: 2, phase: 'Running' });
    await page.menu.clickMenuItem('Kernel>Shut Down Kernel');
    await expect.poll(() => sessionStatus(session!), { timeout: 60_000 }).toBeUndefined();
  });
});

test('stops the cluster from the sidebar', async ({ page }) => {
  const bar = await openSidebar(page);
  await bar.getByRole('button', { name: 'Stop cluster' }).click();
  await expect(bar.locator('.skiff-cluster-state')).toHaveAttribute('data-state', 'none', { timeout: 5 * 60_000 });
  await shot(page, '16-cluster-stopped');
});
