// One cell on the notebook's live session: every rank runs it in its own persistent namespace.
// Rank 0's output reads as a local kernel's would; the other ranks' lines carry a tag; results and
// displays from rank 0 keep their MIME types; skiff.log lines become the chart above the output.
import * as vscode from 'vscode';
import type { MetricsSample, NotebookSessionInfo, SkiffSession } from '@skiff/runtime';
import { CellPresenter, MetricsFeed, gpuFields, sessionNameFor, sessionSizeText, type CellOutput } from '@skiff/runtime/front';
import { METRICS_MIME } from '@skiff/media';
import { errorCodeOf } from '@skiff/runtime/errors';
import { runtime } from '../runtime.js';
import type { SkiffSettings } from '../settings.js';
import path from 'node:path';

/** A live session's chart follows its cell closer than a job's does. */
const SESSION_REDRAW_MS = 1000;

export interface SessionRunDeps {
  session: SkiffSession;
  settings: SkiffSettings;
  onError(err: unknown): void;
}

/** The session of a notebook: its name follows the notebook's path, so a reloaded editor finds it again. */
export function notebookSessionName(notebook: vscode.NotebookDocument): string {
  return sessionNameFor(notebook.uri.scheme === 'file' ? notebook.uri.fsPath : notebook.uri.toString());
}

/** A session that lost a rank: its state is gone, so the next cell starts a fresh one, never reattaches. */
export const LOST = 'lost';

/**
 * The sessions this window runs cells on, by name: a warm cell goes straight to its ranks. A cell
 * that finds its session gone, a restart and a shut down forget it; a lost rank marks it LOST.
 */
export type KnownSessions = Map<string, NotebookSessionInfo | typeof LOST>;

export interface SessionSize {
  workers: number;
  /** Below 1 (0.5): each rank's time-slice of one GPU the cluster shares. */
  gpusPerWorker: number;
}

/** The size chosen for a notebook's session (Change Session Size…), else the settings'. */
export interface SessionSizes {
  get(notebook: vscode.NotebookDocument): SessionSize | undefined;
  set(notebook: vscode.NotebookDocument, size: SessionSize): Thenable<void>;
}

const SESSION_SIZES_KEY = 'skiff.sessionSizes';

/**
 * Sizes kept in the workspace's state, by notebook URI: a size chosen once stays the notebook's
 * through a window reload and the next start of the editor, as a chosen kernel does.
 */
export function workspaceSessionSizes(state: vscode.Memento): SessionSizes {
  const all = () => state.get<Record<string, SessionSize>>(SESSION_SIZES_KEY) ?? {};
  return {
    get: (notebook) => all()[notebook.uri.toString()],
    set: (notebook, size) => state.update(SESSION_SIZES_KEY, { ...all(), [notebook.uri.toString()]: size }),
  };
}

/**
 * The running session, or a new one: the notebook's folder as its code, every %pip line installed
 * first. `fresh` when it replaced one that lost a rank (whose variables are gone).
 */
export async function ensureSession(
  notebook: vscode.NotebookDocument,
  deps: SessionRunDeps,
  say: (text: string) => Thenable<void> | void,
  known: KnownSessions,
  sizes: SessionSizes,
): Promise<{ info: NotebookSessionInfo; fresh: boolean }> {
  const name = notebookSessionName(notebook);
  const cached = known.get(name);
  if (cached && cached !== LOST) return { info: cached, fresh: false };
  const fresh = cached === LOST;
  // After a lost rank the job may still look Running (its other ranks are up): start anew, never reattach.
  const found = fresh ? undefined : await deps.session.findNotebookSession(name);
  if (found?.phase === 'Running') {
    known.set(name, found);
    return { info: found, fresh: false };
  }
  const { notebookPipRequirements } = await runtime();
  const codeCells = notebook
    .getCells()
    .filter((c) => c.kind === vscode.NotebookCellKind.Code)
    .map((c) => c.document.getText());
  const file = notebook.uri.scheme === 'file' ? notebook.uri.fsPath : undefined;
  const { workers, gpusPerWorker } = sizes.get(notebook) ?? deps.settings;
  await say(`starting a ${fresh ? 'fresh ' : ''}session of ${sessionSizeText(workers, gpusPerWorker)} on '${deps.settings.clusterName}'…`);
  const started = await deps.session.startNotebookSession(
    {
      name,
      notebook: file ? path.basename(file) : 'notebook.ipynb',
      codeRoot: file ? path.dirname(file) : undefined,
      workers,
      ...gpuFields(gpusPerWorker),
      image: deps.settings.image || undefined,
      packages: notebookPipRequirements(codeCells),
      idleMinutes: deps.settings.sessionIdleMinutes,
    },
    { onProgress: (line) => void say(line) },
  );
  known.set(name, started);
  return { info: started, fresh };
}

export async function runCellOnSession(execution: vscode.NotebookCellExecution, deps: SessionRunDeps, known: KnownSessions, sizes: SessionSizes): Promise<boolean> {
  const status = new vscode.NotebookCellOutput([], { skiff: 'status' });
  const metrics = new vscode.NotebookCellOutput([], { skiff: 'metrics' });
  const text = new vscode.NotebookCellOutput([], { skiff: 'text' });
  await execution.replaceOutput([status, metrics, text]);
  const setStatus = (line: string) => execution.replaceOutputItems(vscode.NotebookCellOutputItem.text(line), status);

  let info: NotebookSessionInfo;
  let fresh: boolean;
  try {
    ({ info, fresh } = await ensureSession(execution.cell.notebook, deps, setStatus, known, sizes));
  } catch (err) {
    await setStatus(`✗ ${err instanceof Error ? err.message : String(err)}`);
    deps.onError(err);
    return false;
  }
  await setStatus(`running on ${info.workers === 1 ? '1 rank' : `${info.workers} ranks`} of session ${info.name}…`);
  if (fresh)
    await execution.appendOutputItems(vscode.NotebookCellOutputItem.stderr(`skiff: a fresh session ${info.name}: the last one lost a rank, its variables are gone\n`), text);

  const presenter = new CellPresenter(info.workers, { allRanks: deps.settings.sessionShowOtherRanks });
  const drawMetrics = (samples: readonly MetricsSample[]) => {
    // A cell that logged no metric keeps no (empty) chart.
    if (samples.length > 0) void execution.replaceOutputItems(vscode.NotebookCellOutputItem.json({ job: info.name, samples }, METRICS_MIME), metrics);
  };
  const feed = new MetricsFeed(drawMetrics, { redrawMs: SESSION_REDRAW_MS });
  const show = async (output: CellOutput) => {
    switch (output.type) {
      case 'metrics':
        return feed.push(...output.samples);
      case 'stream':
        return execution.appendOutputItems(output.name === 'stdout' ? vscode.NotebookCellOutputItem.stdout(output.text) : vscode.NotebookCellOutputItem.stderr(output.text), text);
      case 'rich':
        return execution.appendOutput(new vscode.NotebookCellOutput(mimeItems(output.data)));
      case 'error':
        return execution.appendOutput(
          new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name: output.ename, message: output.evalue, stack: output.traceback })]),
        );
    }
  };
  try {
    for await (const event of deps.session.runCell(info.name, execution.cell.document.getText())) {
      for (const output of presenter.present(event)) await show(output);
    }
  } catch (err) {
    if (errorCodeOf(err) === 'SESSION_LOST') known.set(info.name, LOST);
    else known.delete(info.name);
    feed.stop();
    await setStatus(`✗ ${err instanceof Error ? err.message : String(err)}`);
    deps.onError(err);
    return false;
  }
  feed.flush();
  const outcome = presenter.outcome;
  const ok = outcome.status === 'ok';
  if (outcome.status === 'lost') known.set(info.name, LOST);
  await setStatus(`${ok ? '✓' : outcome.status === 'interrupted' ? '■' : '✗'} ${outcome.summary()} · session ${info.name}`);
  return ok;
}

/** A MIME bundle as output items: images decoded from base64, text as text, JSON as JSON. */
function mimeItems(data: Record<string, unknown>): vscode.NotebookCellOutputItem[] {
  return Object.entries(data).map(([mime, value]) => {
    if (mime.startsWith('image/') && mime !== 'image/svg+xml' && typeof value === 'string') return new vscode.NotebookCellOutputItem(Buffer.from(value, 'base64'), mime);
    if (typeof value === 'string') return vscode.NotebookCellOutputItem.text(value, mime);
    return vscode.NotebookCellOutputItem.json(value, mime);
  });
}
