// The notebook commands: run the active cell or the whole notebook on the cluster as a training job,
// serve the active cell, and start or stop the cluster. Cell choices live in the cell's metadata
// (`skiff: {workers, gpusPerWorker}`), so a notebook remembers how each cell runs.
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { CodeCell } from '@jupyterlab/cells';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { LabIcon } from '@jupyterlab/ui-components';
import { cellJobOptions, cellServingSpec, cellTrainingSpec, jobNameFrom, scriptFromCells, type ClusterProfile } from '@skiff/runtime/front';
import { askServingOptions, askTrainingOptions } from './dialogs';
import { runInCell, type CellJob } from './cell-run';
import type { SkiffModel } from './model';
import type { SkiffSettings } from './settings';
import type { SkiffSidebar } from './sidebar';

export const COMMANDS = {
  runCell: 'skiff:run-cell',
  runCellWithOptions: 'skiff:run-cell-with-options',
  runNotebook: 'skiff:run-notebook',
  serveCell: 'skiff:serve-cell',
  startCluster: 'skiff:start-cluster',
  stopCluster: 'skiff:stop-cluster',
  showSidebar: 'skiff:show-sidebar',
} as const;

export interface CommandDeps {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  model: SkiffModel;
  sidebar: SkiffSidebar;
  settings: () => SkiffSettings;
  icon: LabIcon;
}

export function registerCommands({ app, tracker, model, sidebar, settings, icon }: CommandDeps): void {
  const { commands } = app;
  // One follow per cell: running a cell again stops following its previous job.
  const following = new Map<string, AbortController>();

  const notebookName = (panel: NotebookPanel) => panel.context.path.split('/').pop() ?? 'notebook';
  const activeCodeCell = (): { panel: NotebookPanel; cell: CodeCell } | undefined => {
    const panel = tracker.currentWidget;
    const cell = panel?.content.activeCell;
    return panel && cell instanceof CodeCell ? { panel, cell } : undefined;
  };

  const run = async (cell: CodeCell, job: CellJob) => {
    following.get(cell.model.id)?.abort();
    const controller = new AbortController();
    following.set(cell.model.id, controller);
    app.shell.activateById(sidebar.id);
    try {
      return await runInCell(model.client, cell, job, {
        signal: controller.signal,
        metricsIntervalMs: settings().metricsIntervalSeconds * 1000,
        onSubmitted: (status) => sidebar.select(status),
      });
    } finally {
      if (following.get(cell.model.id) === controller) following.delete(cell.model.id);
    }
  };

  const choicesOf = (cell: CodeCell) => cellJobOptions({ skiff: cell.model.getMetadata('skiff') });
  const scriptOf = (cells: CodeCell[]) => scriptFromCells(cells.map((c) => c.model.sharedModel.getSource()));
  /** The cells as one training job; its output and its choices are the last cell's. */
  const trainingJob = (panel: NotebookPanel, cells: CodeCell[]): CellJob => {
    const last = cells[cells.length - 1];
    const spec = cellTrainingSpec(settings(), 'cell.py', jobNameFrom(notebookName(panel)), choicesOf(last));
    return { spec: spec as CellJob['spec'], source: scriptOf(cells), notebookPath: panel.context.path };
  };

  const hasCell = () => activeCodeCell() !== undefined;

  commands.addCommand(COMMANDS.runCell, {
    label: 'Run Cell on Cluster',
    caption: 'Run the active cell as a distributed training job on the Skiff cluster',
    icon,
    isEnabled: hasCell,
    execute: async () => {
      const target = activeCodeCell();
      if (!target) return;
      return run(target.cell, trainingJob(target.panel, [target.cell]));
    },
  });

  commands.addCommand(COMMANDS.runCellWithOptions, {
    label: 'Run Cell on Cluster…',
    caption: 'Choose workers and GPUs, then run the active cell on the Skiff cluster',
    isEnabled: hasCell,
    execute: async () => {
      const target = activeCodeCell();
      if (!target) return;
      const s = settings();
      const current = choicesOf(target.cell);
      const choice = await askTrainingOptions({ workers: current.workers ?? s.workers, gpusPerWorker: current.gpusPerWorker ?? s.gpusPerWorker });
      if (!choice) return;
      target.cell.model.setMetadata('skiff', { ...((target.cell.model.getMetadata('skiff') as object | undefined) ?? {}), ...choice });
      return run(target.cell, trainingJob(target.panel, [target.cell]));
    },
  });

  commands.addCommand(COMMANDS.runNotebook, {
    label: 'Run Notebook on Cluster',
    caption: "Run every code cell, in order, as one training job; its output goes to the notebook's last code cell",
    icon,
    isEnabled: () => tracker.currentWidget !== null,
    execute: async () => {
      const panel = tracker.currentWidget;
      if (!panel) return;
      const cells = panel.content.widgets.filter((c): c is CodeCell => c instanceof CodeCell);
      if (cells.length === 0) return;
      return run(cells[cells.length - 1], trainingJob(panel, cells));
    },
  });

  commands.addCommand(COMMANDS.serveCell, {
    label: 'Serve Cell on Cluster…',
    caption: 'Run the active cell as a serving job (a Deployment and a Service) on the Skiff cluster',
    isEnabled: hasCell,
    execute: async () => {
      const target = activeCodeCell();
      if (!target) return;
      const s = settings();
      const choice = await askServingOptions({ port: s.servePort, replicas: 1 });
      if (!choice) return;
      const spec = cellServingSpec(s, 'app.py', jobNameFrom(notebookName(target.panel)), choice);
      return run(target.cell, { spec: spec as CellJob['spec'], source: scriptOf([target.cell]), notebookPath: target.panel.context.path });
    },
  });

  commands.addCommand(COMMANDS.startCluster, {
    label: (args) => (args.profile ? `Start Local Cluster (${args.profile})` : 'Start Local Cluster'),
    caption: 'Create (or reuse) the local kind cluster',
    isEnabled: () => !model.activity && !model.cluster,
    execute: async (args) => {
      app.shell.activateById(sidebar.id);
      // A command's choice of GPUs: `gpuSharing` ways, or `dra: true` (fake-gpu); else the sidebar's.
      const gpuChoice = args.dra === true ? 'dra' : typeof args.gpuSharing === 'number' ? String(args.gpuSharing) : undefined;
      await sidebar.startCluster((args.profile as ClusterProfile | undefined) ?? settings().profile, gpuChoice);
    },
  });

  commands.addCommand(COMMANDS.stopCluster, {
    label: 'Stop Local Cluster',
    caption: 'Delete the local kind cluster and everything on it',
    isEnabled: () => !model.activity && model.cluster !== undefined,
    execute: () => sidebar.stopCluster(),
  });

  commands.addCommand(COMMANDS.showSidebar, {
    label: 'Show Skiff Sidebar',
    execute: () => app.shell.activateById(sidebar.id),
  });

  model.changed.connect(() => commands.notifyCommandChanged());
  tracker.activeCellChanged.connect(() => commands.notifyCommandChanged());
}
