// The "Skiff session" notebook controller: a live distributed session per notebook, as a kernel.
// Cells run on every rank of the notebook's session and keep their state; interrupt sends
// KeyboardInterrupt to every rank; restart and shut down are commands on the notebook toolbar.
import * as vscode from 'vscode';
import { LOST, notebookSessionName, runCellOnSession, type KnownSessions, type SessionRunDeps, type SessionSizes } from './session-run.js';
import { gpuChoiceLabel, pickCount, GPU_CHOICES, WORKER_CHOICES } from './cell-resources.js';
import { sessionGpus, sessionSizeText } from '@skiff/runtime/front';

export const SESSION_CONTROLLER_ID = 'skiff-session';

export function createSessionController(deps: () => Promise<SessionRunDeps>, sizes: SessionSizes): { controller: vscode.NotebookController; disposables: vscode.Disposable[] } {
  const controller = vscode.notebooks.createNotebookController(SESSION_CONTROLLER_ID, 'jupyter-notebook', 'Skiff session');
  controller.supportedLanguages = ['python'];
  controller.supportsExecutionOrder = true;
  controller.description = 'A live session on the local cluster: every cell runs on each rank, variables stay between cells';
  const order = new Map<vscode.NotebookDocument, number>();
  const known: KnownSessions = new Map();
  controller.executeHandler = async (cells, notebook) => {
    const d = await deps();
    for (const cell of cells) {
      const execution = controller.createNotebookCellExecution(cell);
      const count = (order.get(notebook) ?? 0) + 1;
      order.set(notebook, count);
      execution.executionOrder = count;
      execution.start(Date.now());
      const ok = await runCellOnSession(execution, d, known, sizes);
      execution.end(ok, Date.now());
      if (!ok) break; // like a kernel's Run All: the cells after a failing one do not run
    }
  };
  controller.interruptHandler = async (notebook) => {
    const d = await deps();
    try {
      const { killed } = await d.session.interruptNotebookSession(notebookSessionName(notebook));
      if (killed.length) {
        void vscode.window.showWarningMessage(
          `Skiff: rank${killed.length === 1 ? '' : 's'} ${killed.join(', ')} ignored the interrupt and ${killed.length === 1 ? 'was' : 'were'} stopped; restart the session.`,
        );
      }
    } catch (err) {
      d.onError(err);
    }
  };
  const forNotebook = (fn: (d: SessionRunDeps, notebook: vscode.NotebookDocument) => Promise<void>) => async () => {
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (!notebook) return void vscode.window.showWarningMessage('Skiff: open a notebook first.');
    const d = await deps();
    try {
      await fn(d, notebook);
    } catch (err) {
      d.onError(err);
    }
  };
  const disposables = [
    vscode.commands.registerCommand(
      'skiff.restartSession',
      forNotebook(async (d, notebook) => {
        // A restart is a fresh start: the next cell brings up new ranks with every %pip package.
        known.delete(notebookSessionName(notebook));
        await d.session.cancelJob(notebookSessionName(notebook)).catch(() => {});
        order.delete(notebook);
        void vscode.window.showInformationMessage(`Skiff: session ${notebookSessionName(notebook)} restarts on the next cell; its variables are gone.`);
      }),
    ),
    vscode.commands.registerCommand(
      'skiff.resizeSession',
      forNotebook(async (d, notebook) => {
        const name = notebookSessionName(notebook);
        const running = known.get(name);
        const live = running !== LOST && running ? { workers: running.workers, gpusPerWorker: sessionGpus(running) } : undefined;
        const current = live ?? sizes.get(notebook) ?? { workers: d.settings.workers, gpusPerWorker: d.settings.gpusPerWorker };
        const workers = await pickCount(WORKER_CHOICES, current.workers, (n) => `${n} rank${n === 1 ? '' : 's'}`, 'Ranks of the notebook session (one pod each)');
        if (workers === undefined) return;
        const gpusPerWorker = await pickCount(GPU_CHOICES, current.gpusPerWorker, (n) => gpuChoiceLabel(n, 'rank'), 'GPUs per rank (0.5: half of a GPU the cluster shares)');
        if (gpusPerWorker === undefined) return;
        if (workers === current.workers && gpusPerWorker === current.gpusPerWorker) return;
        // A session's size is its pods': a new size is a restart, which loses the variables. Ask first.
        const restart = 'Restart';
        const size = sessionSizeText(workers, gpusPerWorker);
        const answer = await vscode.window.showWarningMessage(`Restart session ${name} with ${size}? Its variables are lost.`, { modal: true }, restart);
        if (answer !== restart) return;
        await sizes.set(notebook, { workers, gpusPerWorker });
        known.delete(name);
        await d.session.stopNotebookSession(name).catch(() => {});
        order.delete(notebook);
        void vscode.window.showInformationMessage(`Skiff: session ${name} restarts with ${size} on the next cell.`);
      }),
    ),
    vscode.commands.registerCommand(
      'skiff.shutdownSession',
      forNotebook(async (d, notebook) => {
        known.delete(notebookSessionName(notebook));
        await d.session.cancelJob(notebookSessionName(notebook));
        order.delete(notebook);
        void vscode.window.showInformationMessage(`Skiff: session ${notebookSessionName(notebook)} shut down.`);
      }),
    ),
  ];
  return { controller, disposables };
}
