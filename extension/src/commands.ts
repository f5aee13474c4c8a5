// The command palette and context-menu commands: each asks what it needs, calls the runtime, shows
// the result. No cluster logic lives here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AddonName, ClusterProfile, JobStatus } from '@skiff/runtime';
import { runtime } from './runtime.js';
import { jobNameFrom, trainingSpecInput } from './settings.js';
import {
  ADDON_DESCRIPTIONS,
  ADDONS,
  CLUSTER_PROFILES,
  gpuChoices,
  PROFILE_DESCRIPTIONS,
  clusterGpusText,
  clusterUpRequest,
  hasGpus,
  promotedTargetLabel,
} from '@skiff/runtime/front';
import type { JobNode, TargetNode } from './views/trees.js';
import { PLAN_SCHEME, PlanDocuments, promoteJob } from './promote.js';
import { channelName, followInChannel, type CommandContext } from './job-channel.js';

/** How long Show Metrics waits for the kubelet's first numbers of a job. */
const METRICS_WAIT_MS = 30_000;

const PROFILES: { label: ClusterProfile; description: string }[] = CLUSTER_PROFILES.map((label) => ({ label, description: PROFILE_DESCRIPTIONS[label] }));

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const planDocs = new PlanDocuments();
  /** The job a command acts on: the tree's node, or one picked from the local and promoted jobs. */
  const pickJob = async (node?: JobNode, kind?: JobStatus['kind'], opts: { localOnly?: boolean } = {}): Promise<JobNode | undefined> => {
    if (node?.job) return node;
    const nodes: JobNode[] = [
      ...ctx.state.jobs.map((job) => ({ job })),
      ...(opts.localOnly ? [] : ctx.state.remotes.flatMap((r) => r.jobs.map((job) => ({ job, target: r.target })))),
    ].filter((n) => !kind || n.job.kind === kind);
    const picked = await vscode.window.showQuickPick(
      nodes.map((n) => ({ label: n.job.name, description: `${n.job.kind} · ${n.job.phase}${n.target ? ` · ${promotedTargetLabel(n.target)}` : ''}`, node: n })),
      { placeHolder: nodes.length ? 'Pick a job' : 'No jobs on the cluster yet' },
    );
    return picked?.node;
  };

  const startCluster = async () => {
    const settings = ctx.settings();
    const profile = await vscode.window.showQuickPick(
      PROFILES.map((p) => ({ ...p, picked: p.label === settings.profile })),
      { placeHolder: `Profile of cluster '${settings.clusterName}' (${settings.nodes} worker nodes)` },
    );
    if (!profile) return;
    let gpuSharing = settings.gpuSharing;
    let dra = false;
    if (hasGpus(profile.label)) {
      const picked = await vscode.window.showQuickPick(
        gpuChoices(profile.label, settings.gpuSharing).map((c) => ({ label: c.label, choice: c, picked: !c.dra && c.gpuSharing === settings.gpuSharing })),
        { placeHolder: 'GPU sharing: jobs asking 0.5 GPUs per worker need GPUs shared 2 ways or more (or DRA devices)' },
      );
      if (!picked) return;
      gpuSharing = picked.choice.gpuSharing;
      dra = picked.choice.dra ?? false;
    }
    const addons = await pickAddons(settings.addons, 'Add-ons of the new cluster (Enter with none ticked: a plain cluster)');
    if (!addons) return;
    const up = () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Skiff: cluster '${settings.clusterName}'`, cancellable: false }, async (progress) => {
        const result = await (
          await ctx.session()
        ).up(clusterUpRequest(profile.label, { nodes: settings.nodes, gpuSharing, dra, addons }), (message) => progress.report({ message }));
        ctx.state.restart();
        const gpus = clusterGpusText(result.cluster);
        const withAddons = result.addons?.length ? `, with ${result.addons.join(', ')}` : '';
        void vscode.window.showInformationMessage(
          `Skiff: cluster '${result.cluster.name}' is ${result.reused ? 'running' : 'ready'} (${result.cluster.nodes.length} nodes, ${profile.label}${gpus ? `, ${gpus}` : ''}${withAddons}).`,
        );
      });
    try {
      await up();
    } catch (err) {
      ctx.report(err, up);
    }
  };

  /** Adds add-ons to the running local cluster, as `skiff up --with` does. */
  const addToCluster = async () => {
    const settings = ctx.settings();
    const addons = await pickAddons([], `Add to cluster '${settings.clusterName}'`);
    if (!addons?.length) return;
    const add = () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Skiff: adding ${addons.join(', ')} to '${settings.clusterName}'` }, async (progress) => {
        await (await ctx.session()).up({ addons }, (message) => progress.report({ message }));
        void vscode.window.showInformationMessage(`Skiff: cluster '${settings.clusterName}' now has ${addons.join(', ')}.`);
      });
    try {
      await add();
    } catch (err) {
      ctx.report(err, add);
    }
  };

  /** The Python file a command acts on (saved first) and one number the user types for it. */
  const fileAndNumber = async (uri: vscode.Uri | undefined, verb: string, prompt: string, value: string, minimum: number) => {
    const file = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!file || !file.fsPath.endsWith('.py')) return void vscode.window.showWarningMessage(`Skiff: open a Python file to ${verb} it.`);
    await vscode.workspace.save(file);
    const answer = await vscode.window.showInputBox({
      prompt,
      value,
      validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= minimum ? undefined : `a whole number, ${minimum} or more`),
    });
    return answer ? { file, number: Number(answer), name: path.basename(file.fsPath), settings: ctx.settings() } : undefined;
  };

  const runFile = async (uri?: vscode.Uri) => {
    const asked = await fileAndNumber(uri, 'run', 'Workers (one pod each)', String(ctx.settings().workers), 1);
    if (!asked) return;
    const { file, number: workers, name, settings } = asked;
    const submit = async () => {
      const spec = (await runtime()).parseTrainingSpec({ ...trainingSpecInput(settings, name, jobNameFrom(name)), workers });
      const job = await (await ctx.session()).submit(spec, { codeRoot: path.dirname(file.fsPath) });
      await followInChannel(ctx, { job });
    };
    try {
      await submit();
    } catch (err) {
      ctx.report(err, submit);
    }
  };

  const serveFile = async (uri?: vscode.Uri) => {
    const asked = await fileAndNumber(uri, 'serve', 'Port the script listens on ($PORT)', '8000', 1);
    if (!asked) return;
    const { file, number: port, name, settings } = asked;
    try {
      const spec = (await runtime()).parseServingSpec({
        name: jobNameFrom(name),
        script: name,
        namespace: settings.namespace,
        port,
        ...(settings.image ? { image: settings.image } : {}),
      });
      const job = await (await ctx.session()).submit(spec, { codeRoot: path.dirname(file.fsPath) });
      void vscode.window.showInformationMessage(`Skiff: serving ${job.name}; call it with Skiff: Call Serving Job…`);
      void followInChannel(ctx, { job });
    } catch (err) {
      ctx.report(err);
    }
  };

  const callJob = async (node?: JobNode) => {
    const picked = await pickJob(node, 'serving');
    if (!picked) return;
    const { job } = picked;
    const data = await vscode.window.showInputBox({ prompt: `Request body for ${job.name} (empty: GET /)`, placeHolder: '[1, 2, 3]' });
    if (data === undefined) return;
    try {
      const result = await (await ctx.sessionFor(picked)).call(job.name, { path: '/', data: data || undefined });
      const channel = ctx.channel(channelName(picked));
      channel.info(`HTTP ${result.status}: ${result.body}`);
      channel.show(true);
    } catch (err) {
      ctx.report(err);
    }
  };

  const showLogs = async (node?: JobNode) => {
    const picked = await pickJob(node);
    if (picked) void followInChannel(ctx, picked);
  };

  const showMetrics = async (node?: JobNode) => {
    const picked = await pickJob(node);
    if (!picked) return;
    const channel = ctx.channel(channelName(picked));
    channel.show(true);
    // The kubelet reports a pod's usage some seconds after it starts: follow until the first usage
    // sample with numbers (or the job ends, or half a minute), then print that.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), METRICS_WAIT_MS);
    let usageSeen = false;
    try {
      for await (const sample of (await ctx.sessionFor(picked)).metrics(picked.job.name, { follow: true, intervalMs: 2000, signal: stop.signal })) {
        if (sample.type === 'training') channel.info(`metrics rank ${sample.metric.rank}: ${JSON.stringify(sample.metric.values)}`);
        else if (sample.pods.length > 0) {
          for (const pod of sample.pods) channel.info(`usage rank ${pod.rank}: ${pod.cpuCores.toFixed(2)} cores, ${(pod.memoryBytes / 2 ** 20).toFixed(0)} MiB`);
          usageSeen = true;
          stop.abort();
        }
      }
      if (!usageSeen) channel.info(`no CPU or memory usage reported for ${picked.job.name} (yet): the kubelet reports a pod some seconds after it starts, and none once it ended`);
    } catch (err) {
      if (!stop.signal.aborted) ctx.report(err);
    } finally {
      clearTimeout(timer);
    }
  };

  const describeJob = async (node?: JobNode) => {
    const picked = await pickJob(node);
    if (!picked) return;
    try {
      const d = await (await ctx.sessionFor(picked)).describeJob(picked.job.name);
      const { stringify } = await import('yaml');
      const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: stringify(d, { lineWidth: 0 }) });
      await vscode.window.showTextDocument(doc, { preview: true });
      if (d.reason) void vscode.window.showWarningMessage(`Skiff: ${d.name} is ${d.phase}: ${d.reason}`);
    } catch (err) {
      ctx.report(err);
    }
  };

  const cancelJob = async (node?: JobNode) => {
    const picked = await pickJob(node);
    if (!picked) return;
    const { job, target } = picked;
    const where = target ? ` on '${target.context}'` : '';
    const kept = target ? '' : ' What it wrote stays (Skiff: Open Job Outputs).';
    const ok = await vscode.window.showWarningMessage(`Cancel job ${job.name}${where}? Its pods are deleted.${kept}`, { modal: true }, 'Cancel Job');
    if (ok !== 'Cancel Job') return;
    try {
      await (await ctx.sessionFor(picked)).cancelJob(job.name);
      void vscode.window.showInformationMessage(`Skiff: cancelled ${job.name}${where}.`);
    } catch (err) {
      ctx.report(err);
    }
  };

  /**
   * A job's run folder (what it wrote, kept after it ended): its files in a quick pick, the one
   * picked opened in an editor; or the folder added to the workspace's Explorer, or its path copied.
   */
  const openOutputs = async (node?: JobNode) => {
    const picked = await pickJob(node);
    if (!picked) return;
    try {
      const run = await (await ctx.sessionFor(picked)).outputs(picked.job.name);
      const { files } = await (await runtime()).runFiles(run);
      const ADD = '$(root-folder) Add the folder to the Explorer';
      const COPY = '$(copy) Copy the folder path';
      const items: vscode.QuickPickItem[] = [
        { label: ADD, detail: run.dir },
        { label: COPY },
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        ...files.map((file) => ({ label: file })),
      ];
      const choice = await vscode.window.showQuickPick(items, { title: `Outputs of ${picked.job.name}`, placeHolder: 'Open a file the job wrote, or the folder' });
      if (!choice) return;
      const uri = vscode.Uri.file(run.dir);
      if (choice.label === COPY) return void (await vscode.env.clipboard.writeText(run.dir));
      if (choice.label === ADD) {
        const folders = vscode.workspace.workspaceFolders ?? [];
        if (!folders.some((f) => f.uri.fsPath === uri.fsPath)) vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri, name: `outputs: ${picked.job.name}` });
        return;
      }
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.joinPath(uri, ...choice.label.split('/')));
    } catch (err) {
      ctx.report(err);
    }
  };

  const stopCluster = async () => {
    const name = ctx.settings().clusterName;
    const ok = await vscode.window.showWarningMessage(`Delete cluster '${name}' and every job on it?`, { modal: true }, 'Delete Cluster');
    if (ok !== 'Delete Cluster') return;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Skiff: deleting cluster '${name}'` }, async () => (await ctx.session()).down());
      ctx.state.restart();
    } catch (err) {
      ctx.report(err);
    }
  };

  const runCell = async () => {
    const editor = vscode.window.activeNotebookEditor;
    if (!editor) return void vscode.window.showWarningMessage('Skiff: open a notebook to run a cell on the cluster.');
    await vscode.commands.executeCommand('notebook.selectKernel', { id: 'skiff-cluster', extension: 'skiff.skiff-vscode' });
    await vscode.commands.executeCommand('notebook.cell.execute');
  };

  return [
    vscode.commands.registerCommand('skiff.startCluster', startCluster),
    vscode.commands.registerCommand('skiff.stopCluster', stopCluster),
    vscode.commands.registerCommand('skiff.addToCluster', addToCluster),
    vscode.commands.registerCommand('skiff.runFile', runFile),
    vscode.commands.registerCommand('skiff.runCell', runCell),
    vscode.commands.registerCommand('skiff.serveFile', serveFile),
    vscode.commands.registerCommand('skiff.callJob', callJob),
    vscode.commands.registerCommand('skiff.showLogs', showLogs),
    vscode.commands.registerCommand('skiff.showMetrics', showMetrics),
    vscode.commands.registerCommand('skiff.describeJob', describeJob),
    vscode.commands.registerCommand('skiff.cancelJob', cancelJob),
    vscode.commands.registerCommand('skiff.openOutputs', openOutputs),
    vscode.commands.registerCommand('skiff.promoteJob', async (node?: JobNode) => {
      const picked = await pickJob(node, undefined, { localOnly: true });
      if (picked) await promoteJob(ctx, planDocs, picked.job);
    }),
    vscode.commands.registerCommand('skiff.forgetTarget', (node?: TargetNode) => node && ctx.state.forgetTarget(node.remote.target)),
    vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, planDocs),
    vscode.commands.registerCommand('skiff.refresh', () => ctx.state.restart()),
  ];
}

/** A multi-pick of the add-ons, `ticked` ticked; undefined when dismissed. */
async function pickAddons(ticked: readonly AddonName[], placeHolder: string): Promise<AddonName[] | undefined> {
  const picked = await vscode.window.showQuickPick(
    ADDONS.map((addon) => ({ label: addon, description: ADDON_DESCRIPTIONS[addon], picked: ticked.includes(addon) })),
    { canPickMany: true, placeHolder },
  );
  return picked?.map((p) => p.label);
}
