// One notebook cell as a training job: submit its source, then stream every rank's lines into the
// cell's output as they arrive, a status line that ends with the outcome, and live metrics charts.
import * as vscode from 'vscode';
import type { JobStatus, SkiffSession } from '@skiff/runtime';
import { runtime } from '../runtime.js';
import { METRICS_MIME } from '@skiff/media';
import { cellJobOptions, jobNameFrom, trainingSpecInput, type SkiffSettings } from '../settings.js';
import { MetricsFeed, cellStatusText, scriptFromCells } from '@skiff/runtime/front';
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
  const status = new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text('submitting to the cluster…')], { skiff: 'status' });
  const logs = new vscode.NotebookCellOutput([], { skiff: 'logs' });
  const metrics = new vscode.NotebookCellOutput([], { skiff: 'metrics' });
  // Charts above the logs: they stay in view while the lines stream in below.
  await execution.replaceOutput([status, metrics, logs]);
  const setStatus = (text: string) => execution.replaceOutputItems(vscode.NotebookCellOutputItem.text(text), status);

  const { displayLogLine, followJob, parseTrainingSpec } = await runtime();
  let spec;
  try {
    spec = parseTrainingSpec(trainingSpecInput(deps.settings, 'cell.py', jobNameFrom(notebookName), cellJobOptions(cell.metadata)));
    // The cell runs in its notebook's folder: sibling modules import, data files read, and what it
    // writes lands in the job's outputs; its %pip lines become the job's packages.
    const script = { path: 'cell.py', content: Buffer.from(scriptFromCells([cell.document.getText()]), 'utf8') };
    const folder = cell.notebook.uri.scheme === 'file' ? path.dirname(cell.notebook.uri.fsPath) : undefined;
    const submitted = await deps.session.submit(spec, folder ? { codeRoot: folder, files: [script] } : { files: [script] });
    await setStatus(cellStatusText(submitted));
  } catch (err) {
    await setStatus(`✗ ${err instanceof Error ? err.message : String(err)}`);
    deps.onError(err);
    return false;
  }

  const feed = new MetricsFeed((samples) => void execution.replaceOutputItems(vscode.NotebookCellOutputItem.json({ job: spec.name, samples }, METRICS_MIME), metrics));
  let final: JobStatus;
  try {
    final = await followJob(
      deps.session,
      spec.name,
      {
        onLog: (line) => void execution.appendOutputItems(vscode.NotebookCellOutputItem.stdout(displayLogLine(line) + '\n'), logs),
        onMetrics: (sample) => feed.push(sample),
        onStatus: (s) => void setStatus(cellStatusText(s)),
        onStreamError: (what, err) => void execution.appendOutputItems(vscode.NotebookCellOutputItem.stderr(`${what} stream stopped: ${String(err)}\n`), logs),
      },
      { namespace: spec.namespace, signal, metricsIntervalMs: 3000 },
    );
  } catch (err) {
    feed.stop();
    if (signal.aborted) {
      await setStatus(`■ stopped following ${spec.name}; it keeps running on the cluster (Skiff: Cancel Job stops it)`);
      return false;
    }
    await setStatus(`✗ ${err instanceof Error ? err.message : String(err)}`);
    deps.onError(err);
    return false;
  }
  feed.flush();
  await setStatus(cellStatusText(final));
  return final.phase === 'Succeeded';
}
