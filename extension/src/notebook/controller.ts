// The "Skiff cluster" notebook controller: each executed cell becomes a training job on the cluster.
import * as vscode from 'vscode';
import { runCellOnCluster, type CellRunDeps } from './cell-run.js';

export const CONTROLLER_ID = 'skiff-cluster';

/** The controller, and the notebooks it is selected for (which the cell status bar reads). */
export function createSkiffController(
  deps: () => Promise<CellRunDeps>,
  onSelectionChange?: () => void,
): { controller: vscode.NotebookController; selected: Set<vscode.NotebookDocument> } {
  const controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, 'jupyter-notebook', 'Skiff cluster');
  controller.supportedLanguages = ['python'];
  controller.supportsExecutionOrder = true;
  controller.description = 'Runs each cell as a distributed PyTorch job on the local kind cluster';
  let order = 0;
  let running: AbortController | undefined;
  controller.executeHandler = async (cells) => {
    running = new AbortController();
    const signal = running.signal;
    for (const cell of cells) {
      if (signal.aborted) break;
      const execution = controller.createNotebookCellExecution(cell);
      execution.executionOrder = ++order;
      execution.token.onCancellationRequested(() => running?.abort());
      execution.start(Date.now());
      const ok = await runCellOnCluster(execution, await deps(), signal);
      execution.end(ok, Date.now());
    }
  };
  controller.interruptHandler = () => running?.abort();
  const selected = new Set<vscode.NotebookDocument>();
  controller.onDidChangeSelectedNotebooks(({ notebook, selected: isSelected }) => {
    if (isSelected) selected.add(notebook);
    else selected.delete(notebook);
    onSelectionChange?.();
  });
  return { controller, selected };
}
