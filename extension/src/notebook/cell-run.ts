// One notebook cell as a training job: submit its source, then stream every rank's lines into the
// cell's output as they arrive, a status line that ends with the outcome, and live metrics charts.
import * as vscode from 'vscode';
import type { SkiffSession } from '@skiff/runtime';
import { runtime } from '../runtime.js';
import { METRICS_MIME } from '@skiff/media';
import { cellJobOptions, jobNameFrom, trainingSpecInput, type SkiffSettings } from '../settings.js';
import { runCellJob, scriptFromCells } from '@skiff/runtime/front';
import path from 'node:path';

export interface CellRunDeps {
  session: SkiffSession;
  settings: SkiffSettings;
  /** Where a failure is also shown with its buttons (the cell shows it too). */
  onError(err: unknown): void;
}

export async function runCellOnCluster(execution: vscode.NotebookCellExecution, deps: CellRunDeps, signal: AbortSignal): Promise<boolean> {
  const cell = execution.cell;
  const notebookName = cell.notebook.uri.path.split('/').pop() ?? 'notebook';
  const status = new vscode.NotebookCellOutput([], { skiff: 'status' });
  const logs = new vscode.NotebookCellOutput([], { skiff: 'logs' });
  const metrics = new vscode.NotebookCellOutput([], { skiff: 'metrics' });
  // Charts above the logs: they stay in view while the lines stream in below.
  await execution.replaceOutput([status, metrics, logs]);
  const setStatus = (text: string) => execution.replaceOutputItems(vscode.NotebookCellOutputItem.text(text), status);
  const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

  const { parseTrainingSpec } = await runtime();
  let spec: ReturnType<typeof parseTrainingSpec>;
  try {
    spec = parseTrainingSpec(trainingSpecInput(deps.settings, 'cell.py', jobNameFrom(notebookName), cellJobOptions(cell.metadata)));
  } catch (err) {
    await setStatus(`✗ ${errorText(err)}`);
    deps.onError(err);
    return false;
  }
  // The cell runs in its notebook's folder: sibling modules import, data files read, and what it
  // writes lands in the job's outputs; its %pip lines become the job's packages.
  const script = { path: 'cell.py', content: Buffer.from(scriptFromCells([cell.document.getText()]), 'utf8') };
  const folder = cell.notebook.uri.scheme === 'file' ? path.dirname(cell.notebook.uri.fsPath) : undefined;
  const final = await runCellJob(
    {
      status: setStatus,
      line: (text, stream) =>
        execution.appendOutputItems(stream === 'stdout' ? vscode.NotebookCellOutputItem.stdout(text + '\n') : vscode.NotebookCellOutputItem.stderr(text + '\n'), logs),
      metrics: (samples) => execution.replaceOutputItems(vscode.NotebookCellOutputItem.json({ job: spec.name, samples }, METRICS_MIME), metrics),
    },
    {
      job: spec.name,
      namespace: spec.namespace,
      submit: () => deps.session.submit(spec, folder ? { codeRoot: folder, files: [script] } : { files: [script] }),
      source: deps.session,
      signal,
      metricsIntervalMs: 3000,
      cancelHint: 'Skiff: Cancel Job stops it',
      onError: (err) => deps.onError(err),
      errorText,
    },
  );
  return final?.phase === 'Succeeded';
}
