// The Skiff sidebar: the cluster (start with a profile, stop, progress), the live job list, and the
// selected job's logs, metrics and description. It draws the model and calls its methods.
import { Widget } from '@lumino/widgets';
import {
  ADDON_DESCRIPTIONS,
  ADDONS,
  CLUSTER_PROFILES,
  gpuChoices,
  PROFILE_DESCRIPTIONS,
  clusterGpusText,
  clusterUpRequest,
  hasGpus,
  cellStatusText,
  jobSizeText,
  promotedTargetLabel,
  type ClusterInfo,
  type ClusterProfile,
  type JobStatus,
  type PromotedTarget,
} from '@skiff/runtime/front';
import { errorText } from './api';
import { h } from './dom';
import { JobView } from './job-view';
import type { ClusterActivity, SkiffModel } from './model';
import type { SkiffSettings } from './settings';

/** A select's short labels; the long words are the option's tooltip. */
const PROFILE_LABELS: Record<ClusterProfile, string> = { cpu: 'CPU', 'fake-gpu': 'fake GPU (scheduling only)', gpu: 'GPU (NVIDIA runtime)' };
const PROFILES = CLUSTER_PROFILES.map((value) => ({ value, label: PROFILE_LABELS[value], title: PROFILE_DESCRIPTIONS[value] }));

/** kind lists a cluster while it is still being made: it is ready once it is made and every node is. */
export function clusterState(c: ClusterInfo, activity: ClusterActivity | undefined): 'starting' | 'stopping' | 'ready' | 'degraded' {
  // Adding add-ons restarts nothing: the cluster reads as starting until they are in.
  if (activity) return activity.action === 'stopping' ? 'stopping' : 'starting';
  return c.nodes.length > 0 && c.nodes.every((n) => n.ready) ? 'ready' : 'degraded';
}

export class SkiffSidebar extends Widget {
  private readonly status = h('div', { className: 'skiff-status' });
  private readonly cluster = h('section', { className: 'skiff-cluster' });
  private readonly jobs = h('section', { className: 'skiff-jobs' });
  private readonly detail = h('section', { className: 'skiff-detail' });
  private readonly profile = h(
    'select',
    { className: 'skiff-profile', title: 'cluster profile' },
    ...PROFILES.map((p) => h('option', { value: p.value, textContent: p.label, title: p.title })),
  );
  /** Shown while the profile has GPUs: how many ways each GPU is shared (jobs then ask 0.5 GPU). */
  private readonly sharing = h('select', { className: 'skiff-gpu-sharing', title: 'GPU sharing: jobs asking 0.5 GPUs per worker need GPUs shared 2 ways or more' });
  /** The add-ons a new cluster gets (`skiff up --with`), ticked from the addons setting. */
  private readonly addons = ADDONS.map((addon) => ({ addon, box: h('input', { type: 'checkbox', className: 'skiff-addon', value: addon }) }));
  private view?: JobView;
  /** Which job the view shows: its name, and the target for a promoted job. */
  private viewKey?: string;
  private clusterError?: string;

  constructor(
    private readonly model: SkiffModel,
    private readonly settings: () => SkiffSettings,
    /** The open notebook's path and the file browser, for a job's outputs. */
    private readonly files: { notebookPath(): string; reveal(folder: string): void } = { notebookPath: () => '', reveal: () => {} },
  ) {
    super();
    this.id = 'skiff-sidebar';
    this.addClass('skiff-sidebar');
    this.title.caption = 'Skiff: local cluster and jobs';
    this.profile.value = settings().profile;
    // Every choice any profile has; the DRA one shows on fake-gpu only.
    const choices = gpuChoices('fake-gpu', settings().gpuSharing);
    this.sharing.append(...choices.map((c) => h('option', { value: c.value, textContent: c.short, title: c.label })));
    this.sharing.value = String(settings().gpuSharing);
    this.profile.onchange = () => {
      const profile = this.profile.value as ClusterProfile;
      const offered = new Set(gpuChoices(profile, settings().gpuSharing).map((c) => c.value));
      for (const option of this.sharing.options) option.hidden = !offered.has(option.value);
      if (!offered.has(this.sharing.value)) this.sharing.value = String(settings().gpuSharing);
      this.sharing.hidden = !hasGpus(profile);
    };
    this.profile.onchange(new Event('change'));
    for (const a of this.addons) a.box.checked = settings().addons.includes(a.addon);
    this.node.append(h('header', {}, h('h2', { textContent: 'Skiff' }), this.status), this.cluster, this.jobs, this.detail);
    model.changed.connect(this.draw, this);
    this.draw();
  }

  /** Shows a job's logs (the cell that just submitted it, or a click in the list); `target` for a promoted job. */
  select(job: JobStatus, target?: PromotedTarget): void {
    const key = viewKey(job.name, target);
    if (this.viewKey === key) return;
    this.view?.dispose();
    const client = target ? this.model.client.at(target) : this.model.client;
    this.view = new JobView(client, job, {
      cancel: (j) => this.cancel(j, target),
      promoted: (t) => this.model.promoted.add(t),
      target,
      notebookPath: () => this.files.notebookPath(),
      reveal: (folder) => this.files.reveal(folder),
    });
    this.viewKey = key;
    this.detail.replaceChildren(this.view.node);
    this.draw();
  }

  /** `gpuSharing` defaults to the sidebar's choice, which starts at the gpuSharing setting. */
  async startCluster(profile: ClusterProfile = this.profile.value as ClusterProfile, gpuChoice = this.sharing.value): Promise<void> {
    this.clusterError = undefined;
    try {
      const addons = this.addons.filter((a) => a.box.checked).map((a) => a.addon);
      const choice = gpuChoices(profile, this.settings().gpuSharing).find((c) => c.value === gpuChoice);
      const gpus = { gpuSharing: choice?.gpuSharing ?? this.settings().gpuSharing, dra: choice?.dra ?? false };
      await this.model.up(clusterUpRequest(profile, { nodes: this.settings().nodes, ...gpus, addons }));
    } catch (err) {
      this.clusterError = errorText(err);
      this.draw();
    }
  }

  /** Installs the add-ons ticked into the running cluster (`skiff up --with`, as VS Code's Add to Local Cluster). */
  async addToCluster(): Promise<void> {
    const addons = this.addons.filter((a) => a.box.checked).map((a) => a.addon);
    if (addons.length === 0) return;
    this.clusterError = undefined;
    try {
      await this.model.up({ addons });
    } catch (err) {
      this.clusterError = errorText(err);
      this.draw();
    }
  }

  async stopCluster(): Promise<void> {
    this.clusterError = undefined;
    try {
      await this.model.down();
    } catch (err) {
      this.clusterError = errorText(err);
      this.draw();
    }
  }

  private async cancel(job: JobStatus, target?: PromotedTarget): Promise<void> {
    try {
      await (target ? this.model.client.at(target) : this.model.client).cancel(job.name);
    } catch (err) {
      this.clusterError = errorText(err);
      this.draw();
    }
  }

  private draw(): void {
    const m = this.model;
    this.status.replaceChildren(
      m.error
        ? h('div', { className: 'skiff-error', textContent: m.error })
        : h('div', { className: 'skiff-muted', textContent: m.health ? `runtime ${m.health.version} · cluster ${m.health.cluster}` : 'connecting to the Skiff runtime…' }),
    );
    this.drawCluster();
    this.drawJobs();
    if (this.view) {
      const shown: { j: JobStatus; t?: PromotedTarget }[] = [...m.jobs.map((j) => ({ j })), ...m.promoted.remotes.flatMap((r) => r.jobs.map((j) => ({ j, t: r.target })))];
      const job = shown.find((x) => viewKey(x.j.name, x.t) === this.viewKey)?.j;
      if (job) this.view.update(job);
    }
  }

  private addonChoices(): HTMLElement[] {
    return this.addons.map((a) => h('label', { className: 'skiff-addon-choice', title: ADDON_DESCRIPTIONS[a.addon] }, a.box, ` with ${a.addon}`));
  }

  private drawCluster(): void {
    const m = this.model;
    const c = m.cluster;
    const busy = m.activity !== undefined;
    const rows: (Node | string)[] = [h('h3', { textContent: 'Cluster' })];
    if (c) {
      const ready = c.nodes.filter((n) => n.ready).length;
      const gpus = clusterGpusText(c);
      rows.push(
        h(
          'div',
          { className: 'skiff-cluster-state', dataset: { state: clusterState(c, m.activity) } },
          h('strong', { textContent: c.name }),
          ` ${c.profile} · ${ready}/${c.nodes.length} nodes Ready${gpus ? ` · ${gpus}` : ''}`,
        ),
        h('button', { className: 'skiff-button', textContent: 'Stop cluster', disabled: busy, onclick: () => void this.stopCluster() }),
        // Add-ons go into a running cluster too; one already there is left as it is.
        h(
          'div',
          { className: 'skiff-toolbar' },
          ...this.addonChoices(),
          h('button', { className: 'skiff-button skiff-add-addons', textContent: 'Add to cluster', disabled: busy, onclick: () => void this.addToCluster() }),
        ),
      );
    } else {
      rows.push(
        h('div', { className: 'skiff-cluster-state', dataset: { state: 'none' }, textContent: m.health ? `no cluster '${m.health.cluster}' yet` : 'no cluster' }),
        h(
          'div',
          { className: 'skiff-toolbar' },
          this.profile,
          this.sharing,
          ...this.addonChoices(),
          h('button', { className: 'skiff-button skiff-primary', textContent: 'Start cluster', disabled: busy || !m.health, onclick: () => void this.startCluster() }),
        ),
      );
    }
    if (m.activity) {
      const last = m.activity.progress.slice(-6);
      rows.push(
        h(
          'div',
          { className: 'skiff-progress' },
          h('div', { className: 'skiff-muted', textContent: `${m.activity.action} the cluster…` }),
          ...last.map((line) => h('div', { textContent: line })),
        ),
      );
    }
    if (this.clusterError) rows.push(h('div', { className: 'skiff-error', textContent: this.clusterError }));
    this.cluster.replaceChildren(...rows);
  }

  private drawJobs(): void {
    const m = this.model;
    const rows: (Node | string)[] = [h('h3', { textContent: `Jobs (${m.jobs.length})` })];
    if (m.jobsError && m.cluster) rows.push(h('div', { className: 'skiff-error', textContent: m.jobsError }));
    if (m.jobs.length === 0) rows.push(h('div', { className: 'skiff-muted', textContent: 'No jobs yet: run a cell on the cluster (Skiff: Run Cell on Cluster).' }));
    rows.push(this.jobList(m.jobs));
    // Jobs promoted to other contexts, each target under its own heading.
    for (const remote of m.promoted.remotes) {
      rows.push(
        h('h3', { className: 'skiff-target', dataset: { target: viewKey('', remote.target) }, textContent: `${promotedTargetLabel(remote.target)} (${remote.jobs.length})` }),
      );
      if (remote.problem) rows.push(h('div', { className: 'skiff-error', textContent: `cannot be read: ${remote.problem}` }));
      rows.push(this.jobList(remote.jobs, remote.target));
    }
    this.jobs.replaceChildren(...rows);
  }

  private jobList(jobs: JobStatus[], target?: PromotedTarget): HTMLUListElement {
    const list = h('ul', { className: 'skiff-job-list' });
    for (const job of [...jobs].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))) {
      list.append(
        h(
          'li',
          {
            className: `skiff-job-row skiff-phase-${job.phase}${this.viewKey === viewKey(job.name, target) ? ' skiff-mod-selected' : ''}`,
            dataset: { job: job.name, phase: job.phase, ...(target ? { target: viewKey('', target) } : {}) },
            title: cellStatusText(job),
            onclick: () => this.select(job, target),
          },
          h('span', { className: 'skiff-job-name', textContent: job.name }),
          h('span', { className: 'skiff-job-meta', textContent: `${job.phase} · ${jobSizeText(job)}` }),
          job.reason ? h('div', { className: 'skiff-job-reason', textContent: job.reason }) : null,
        ),
      );
    }
    return list;
  }
}

function viewKey(name: string, target?: PromotedTarget): string {
  return target ? `${target.context}/${target.namespace}/${name}` : name;
}
