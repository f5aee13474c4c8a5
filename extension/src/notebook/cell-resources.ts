// Workers and GPUs per cell: a cell status bar item says what a cell will ask the cluster for, and
// a picker writes the choice into the cell's metadata, where it is kept in the .ipynb and read
// back at run time (cellJobOptions). Cells without a choice run with the skiff.* settings.
import * as vscode from 'vscode';
import { cellJobOptions, cellResourcesText, isGpuShare, withCellJobOptions } from '@skiff/runtime/front';
import type { SkiffSettings } from '../settings.js';

export const SET_CELL_RESOURCES = 'skiff.setCellResources';

export const WORKER_CHOICES = [1, 2, 3, 4, 8];
/** GPUs per worker or rank; 0.5 is half of a GPU the cluster shares (`skiff up --gpu-sharing 2`). */
export const GPU_CHOICES = [0, 0.5, 1, 2, 4, 8];

/** "no GPU", "0.5 GPU per worker (a time-slice of a shared GPU)", "2 GPUs per rank". */
export function gpuChoiceLabel(n: number, per: 'worker' | 'rank' = 'worker'): string {
  if (n === 0) return 'no GPU';
  return isGpuShare(n) ? `${n} GPU per ${per} (a time-slice of a shared GPU)` : `${n} GPU${n === 1 ? '' : 's'} per ${per}`;
}

/**
 * Shown on the code cells of notebooks that run on the Skiff controller, and on any cell that
 * already carries a Skiff choice (so it is visible before a kernel is picked).
 */
export class CellResourcesStatusBar implements vscode.NotebookCellStatusBarItemProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.changed.event;

  constructor(
    private readonly settings: () => SkiffSettings,
    private readonly runsOnSkiff: (notebook: vscode.NotebookDocument) => boolean,
  ) {}

  /** Call when the notebooks using the Skiff controller change. */
  refresh(): void {
    this.changed.fire();
  }

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem | undefined {
    if (cell.kind !== vscode.NotebookCellKind.Code) return undefined;
    const chosen = cellJobOptions(cell.metadata);
    const hasChoice = chosen.workers !== undefined || chosen.gpusPerWorker !== undefined;
    if (!hasChoice && !this.runsOnSkiff(cell.notebook)) return undefined;
    const s = this.settings();
    const item = new vscode.NotebookCellStatusBarItem(
      `$(server-process) ${cellResourcesText(chosen.workers ?? s.workers, chosen.gpusPerWorker ?? s.gpusPerWorker)}`,
      vscode.NotebookCellStatusBarAlignment.Right,
    );
    item.tooltip = hasChoice ? 'Skiff: what this cell asks the cluster for (click to change)' : 'Skiff: the skiff.* settings apply to this cell (click to choose for it)';
    item.command = { command: SET_CELL_RESOURCES, title: 'Set Workers and GPUs for Cell…', arguments: [cell] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Asks for workers, then GPUs per worker, and keeps the answer in the cell's metadata. */
export async function pickCellResources(cell: vscode.NotebookCell | undefined, settings: SkiffSettings): Promise<void> {
  cell ??= activeCell();
  if (!cell) {
    void vscode.window.showInformationMessage('Skiff: select a notebook cell first.');
    return;
  }
  const chosen = cellJobOptions(cell.metadata);
  const workers = await pickCount(
    WORKER_CHOICES,
    chosen.workers ?? settings.workers,
    (n) => `${n} worker${n === 1 ? '' : 's'}`,
    'Workers for this cell (one process each, spread over the nodes)',
  );
  if (workers === undefined) return;
  const gpus = await pickCount(GPU_CHOICES, chosen.gpusPerWorker ?? settings.gpusPerWorker, (n) => gpuChoiceLabel(n), 'GPUs per worker');
  if (gpus === undefined) return;
  const edit = new vscode.WorkspaceEdit();
  edit.set(cell.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(cell.index, withCellJobOptions(cell.metadata, { ...chosen, workers, gpusPerWorker: gpus }))]);
  await vscode.workspace.applyEdit(edit);
}

function activeCell(): vscode.NotebookCell | undefined {
  const editor = vscode.window.activeNotebookEditor;
  const index = editor?.selection.start;
  return editor && index !== undefined && index < editor.notebook.cellCount ? editor.notebook.cellAt(index) : undefined;
}

/** A number from a quick pick of choices, the current one marked. */
export async function pickCount(choices: number[], current: number, label: (n: number) => string, title: string): Promise<number | undefined> {
  const values = [...new Set([...choices, current])].sort((a, b) => a - b);
  const items = values.map((n) => ({ label: label(n), description: n === current ? 'current' : undefined, value: n }));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: label(current) });
  return picked?.value;
}
