// Entry point of the Skiff VS Code extension: builds a runtime session from the settings and wires
// views, commands, the notebook controller and the CodeLens. Everything it does goes through
// @skiff/runtime; nothing here talks to Docker, kind or Kubernetes itself.
import * as vscode from 'vscode';
import type { SkiffSession } from '@skiff/runtime';
import type { PromotedTarget } from '@skiff/runtime/front';
import { runtime } from './runtime.js';
import { readSettings, type SkiffSettings } from './settings.js';
import { notificationFor } from './errors.js';
import { statusBarText } from './job-items.js';
import { LiveState } from './live-state.js';
import { ClustersTree, JobsTree, type JobNode } from './views/trees.js';
import { registerCommands } from './commands.js';
import { createSkiffController } from './notebook/controller.js';
import { createSessionController } from './notebook/session-controller.js';
import { workspaceSessionSizes } from './notebook/session-run.js';
import { CellResourcesStatusBar, pickCellResources, SET_CELL_RESOURCES } from './notebook/cell-resources.js';
import { SkiffCodeLens } from './codelens.js';

/** The contexts and namespaces this workspace promoted jobs to, whose jobs the Jobs view lists. */
const PROMOTED_TARGETS_KEY = 'skiff.promotedTargets';

export function activate(context: vscode.ExtensionContext): void {
  // The bundle ships the runtime's Python helper and image recipes beside it.
  process.env.SKIFF_PYTHON_DIR ??= context.asAbsolutePath('dist/python/skiff');
  process.env.SKIFF_IMAGES_DIR ??= context.asAbsolutePath('dist/images');

  const warned = new Set<string>();
  const settings = (): SkiffSettings => {
    const read = readSettings((key) => vscode.workspace.getConfiguration('skiff').get(key));
    // Once per value not taken: a settings.json typo is named, with the default used instead.
    for (const problem of read.problems.filter((p) => !warned.has(p))) {
      warned.add(problem);
      void vscode.window.showWarningMessage(`Skiff: the setting skiff.${problem}.`);
    }
    return read.settings;
  };
  let current: { key: string; session: SkiffSession } | undefined;
  /** One session per distinct setting set: a changed cluster name or kubeconfig takes effect at once. */
  const session = async (): Promise<SkiffSession> => {
    const s = settings();
    const key = JSON.stringify([s.clusterName, s.namespace, s.kubeconfig]);
    if (current?.key !== key) {
      const { Clusters, SkiffSession } = await runtime();
      const clusters = new Clusters(s.kubeconfig ? { kubeconfigPath: s.kubeconfig } : {});
      current = { key, session: new SkiffSession({ clusters, clusterName: s.clusterName, namespace: s.namespace }) };
    }
    return current.session;
  };

  const remoteSessions = new Map<string, SkiffSession>();
  /** One session per context a job was promoted to, in its namespace there. */
  const remoteSession = async (target: PromotedTarget): Promise<SkiffSession> => {
    const key = JSON.stringify([target.context, target.namespace]);
    let remote = remoteSessions.get(key);
    if (!remote) {
      const { SkiffSession } = await runtime();
      remote = new SkiffSession({ context: target.context, namespace: target.namespace });
      remoteSessions.set(key, remote);
    }
    return remote;
  };
  const sessionFor = (node: JobNode) => (node.target ? remoteSession(node.target) : session());

  const details = vscode.window.createOutputChannel('Skiff', { log: true });
  const channels = new Map<string, vscode.LogOutputChannel>();
  const channel = (job: string) => {
    let c = channels.get(job);
    if (!c) {
      c = vscode.window.createOutputChannel(`Skiff: ${job}`, { log: true });
      channels.set(job, c);
      context.subscriptions.push(c);
    }
    return c;
  };
  const report = (err: unknown, retry?: () => PromiseLike<unknown>) => {
    const n = notificationFor(err, { retryable: !!retry });
    details.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    void vscode.window.showErrorMessage(`Skiff: ${n.message}`, ...n.actions).then((action) => {
      if (action === 'Retry' && retry) Promise.resolve(retry()).catch((e: unknown) => report(e, retry));
      else if (action === 'Show Details') details.show();
      else if (action === 'Start Cluster') void vscode.commands.executeCommand('skiff.startCluster');
      else if (action === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'skiff.');
    });
  };

  const state = new LiveState(session, remoteSession, {
    get: () => context.workspaceState.get<PromotedTarget[]>(PROMOTED_TARGETS_KEY) ?? [],
    set: (targets) => void context.workspaceState.update(PROMOTED_TARGETS_KEY, targets),
  });
  const statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  statusBar.command = 'workbench.view.extension.skiff';
  const drawStatus = () => {
    const { text, tooltip } = statusBarText(state.cluster, state.jobs);
    statusBar.text = text;
    statusBar.tooltip = state.problem ? `${tooltip}\n${state.problem}` : tooltip;
    statusBar.show();
  };
  state.onDidChange(drawStatus);
  drawStatus();

  // Status bar items of cells follow which notebooks run on the Skiff controller.
  const skiff = createSkiffController(
    async () => ({ session: await session(), settings: settings(), onError: (err) => report(err) }),
    () => cellResources.refresh(),
  );
  const liveSession = createSessionController(
    async () => ({ session: await session(), settings: settings(), onError: (err) => report(err) }),
    workspaceSessionSizes(context.workspaceState),
  );
  const cellResources = new CellResourcesStatusBar(settings, (notebook) => skiff.selected.has(notebook));

  context.subscriptions.push(
    details,
    state,
    statusBar,
    vscode.window.registerTreeDataProvider('skiff.clusters', new ClustersTree(state)),
    vscode.window.registerTreeDataProvider('skiff.jobs', new JobsTree(state)),
    ...registerCommands({ session, sessionFor, settings, state, channel, report }),
    skiff.controller,
    liveSession.controller,
    ...liveSession.disposables,
    cellResources,
    vscode.notebooks.registerNotebookCellStatusBarItemProvider('jupyter-notebook', cellResources),
    vscode.commands.registerCommand(SET_CELL_RESOURCES, (cell?: vscode.NotebookCell) => pickCellResources(cell, settings())),
    vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, new SkiffCodeLens()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('skiff')) return;
      state.restart();
      cellResources.refresh();
    }),
  );
  // After activation returns: the first look at the cluster loads the runtime.
  setTimeout(() => state.start(), 0);
}

export function deactivate(): void {}
