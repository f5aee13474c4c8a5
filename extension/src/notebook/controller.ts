// The "Skiff cluster" notebook controller: each executed cell becomes a training job on the cluster.
import * as vscode from 'vscode';
import { runCellOnCluster, type CellRunDeps } from './cell-run.js';

export const CONTROLLER_ID = 'skiff-cluster';

export function createSkiffController(deps: () => Promise<CellRunDeps>): vscode.NotebookController {
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
  return controller;
}
