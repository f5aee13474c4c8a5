// One job in the sidebar: its logs (live, filtered by rank), metrics charts, the description with
// its plain-words reason, a call to a serving job, and cancel. Each tab owns one stream at a time.
import { drawMetricsCharts, type MetricsSample } from '@skiff/media';
import { MetricsFeed, OUTPUTS_COPY_DIR, describeText, promotedTargetLabel, type JobStatus, type PromotedTarget, type SkiffApiClient } from '@skiff/runtime/front';
import { errorText } from './api';
import { h } from './dom';
import { LogPane } from './log-pane';
import { promoteJob } from './promote-dialog';

type Tab = 'logs' | 'metrics' | 'describe' | 'call' | 'outputs';

export class JobView {
  readonly node = h('div', { className: 'skiff-job' });
  private readonly title = h('div', { className: 'skiff-job-title' });
  private readonly tabs = h('div', { className: 'skiff-tabs' });
  private readonly body = h('div', { className: 'skiff-job-body' });
  private stream?: AbortController;
  private tab: Tab = 'logs';
  private job: JobStatus;

  constructor(
    private readonly client: SkiffApiClient,
    job: JobStatus,
    private readonly actions: {
      cancel(job: JobStatus): Promise<void>;
      promoted(target: PromotedTarget): void;
      /** Set for a job on a context it was promoted to: it is not promoted again from there. */
      target?: PromotedTarget;
      /** The open notebook's path under the server's root, where outputs are copied ('' for the root). */
      notebookPath(): string;
      /** Shows a folder (relative to the server's root) in the file browser. */
      reveal(folder: string): void;
    },
  ) {
    this.job = job;
    this.node.append(this.title, this.tabs, this.body);
    this.drawHeader();
    this.show('logs');
  }

  get name(): string {
    return this.job.name;
  }

  /** A new status from the live list: the header follows it. */
  update(job: JobStatus): void {
    this.job = job;
    this.drawHeader();
  }

  dispose(): void {
    this.stream?.abort();
    this.node.remove();
  }

  private drawHeader(): void {
    const where = this.actions.target ? ` · on ${promotedTargetLabel(this.actions.target)}` : '';
    this.title.replaceChildren(h('strong', {}, this.job.name), ` ${this.job.kind} · ${this.job.phase}${where}`);
    const tabs: [Tab, string][] = [
      ['logs', 'Logs'],
      ['metrics', 'Metrics'],
      ['describe', 'Describe'],
    ];
    if (this.job.kind === 'serving') tabs.push(['call', 'Call']);
    if (this.job.workDir && !this.actions.target) tabs.push(['outputs', 'Outputs']);
    const promote = h('button', {
      className: 'skiff-button',
      textContent: 'Promote…',
      title: `move ${this.job.name} to another cluster after a reviewed diff`,
      dataset: { action: 'promote' },
      onclick: () => this.promote(),
    });
    const cancel = h('button', {
      className: 'skiff-button skiff-danger',
      textContent: 'Cancel',
      title: `delete ${this.job.name} and its pods`,
      disabled: ['Succeeded', 'Failed', 'Cancelled'].includes(this.job.phase),
      onclick: () => void this.actions.cancel(this.job),
    });
    this.tabs.replaceChildren(
      ...tabs.map(([tab, label]) =>
        h('button', { className: `skiff-tab${tab === this.tab ? ' skiff-mod-active' : ''}`, textContent: label, dataset: { tab }, onclick: () => this.show(tab) }),
      ),
      ...(this.actions.target ? [cancel] : [promote, cancel]),
    );
  }

  private promote(): void {
    this.stream?.abort();
    this.stream = new AbortController();
    const log = h('pre', { className: 'skiff-promote-log' });
    this.body.replaceChildren(log);
    void promoteJob(this.client, this.job.name, (line) => log.append((log.textContent ? '\n' : '') + line), this.actions.promoted);
  }

  private show(tab: Tab): void {
    this.stream?.abort();
    this.stream = new AbortController();
    this.tab = tab;
    this.drawHeader();
    this.body.replaceChildren();
    const signal = this.stream.signal;
    if (tab === 'logs') void this.showLogs(signal);
    else if (tab === 'metrics') void this.showMetrics(signal);
    else if (tab === 'describe') void this.showDescribe();
    else if (tab === 'outputs') void this.showOutputs();
    else this.showCall();
  }

  private async showLogs(signal: AbortSignal): Promise<void> {
    const pane = new LogPane(this.job.name);
    this.body.append(h('div', { className: 'skiff-toolbar' }, pane.rankFilter), pane.notice, pane.pre);
    try {
      for await (const line of this.client.logs(this.job.name, { follow: true, signal })) pane.add(line);
    } catch (err) {
      if (!signal.aborted) this.body.append(h('div', { className: 'skiff-error', textContent: errorText(err) }));
    }
  }

  private async showMetrics(signal: AbortSignal): Promise<void> {
    const charts = h('div', { className: 'skiff-metrics-root' });
    this.body.append(charts);
    const feed = new MetricsFeed((samples) => drawMetricsCharts(charts, samples as MetricsSample[], { width: Math.max(220, this.body.clientWidth - 16), height: 160 }));
    feed.flush();
    try {
      for await (const sample of this.client.metrics(this.job.name, { follow: true, intervalMs: 3000, signal })) feed.push(sample);
      feed.flush();
    } catch (err) {
      feed.stop();
      if (!signal.aborted) this.body.append(h('div', { className: 'skiff-error', textContent: errorText(err) }));
    }
  }

  private async showDescribe(): Promise<void> {
    try {
      const d = await this.client.describe(this.job.name);
      if (d.reason) this.body.append(h('div', { className: `skiff-reason skiff-phase-${d.phase}`, textContent: d.reason }));
      this.body.append(h('pre', { className: 'skiff-describe', textContent: describeText(d) }));
    } catch (err) {
      this.body.append(h('div', { className: 'skiff-error', textContent: errorText(err) }));
    }
  }

  /** What the job wrote (its run folder, kept after it ends), and a copy next to the notebook to open. */
  private async showOutputs(): Promise<void> {
    try {
      const outputs = await this.client.outputs(this.job.name);
      const list = h('ul', { className: 'skiff-outputs' }, ...outputs.files.map((f) => h('li', { textContent: f })));
      const done = h('div', { className: 'skiff-outputs-copied' });
      const copy = h('button', {
        className: 'skiff-button',
        textContent: "Copy to the notebook's folder",
        title: `copy ${outputs.dir} into ${OUTPUTS_COPY_DIR}/${this.job.name}/ beside the open notebook`,
        onclick: async () => {
          done.textContent = '…';
          try {
            const notebookPath = this.actions.notebookPath();
            await this.client.copyOutputs(this.job.name, { notebookPath });
            const folder = [notebookPath.split('/').slice(0, -1).join('/'), OUTPUTS_COPY_DIR, this.job.name].filter(Boolean).join('/');
            done.textContent = `copied to ${folder}/`;
            this.actions.reveal(folder);
          } catch (err) {
            done.textContent = errorText(err);
          }
        },
      });
      const more = outputs.truncated ? [h('div', { textContent: '… and more' })] : [];
      this.body.append(h('div', { className: 'skiff-outputs-dir', textContent: outputs.dir }), list, ...more, h('div', { className: 'skiff-outputs-actions' }, copy), done);
    } catch (err) {
      this.body.append(h('div', { className: 'skiff-error', textContent: errorText(err) }));
    }
  }

  private showCall(): void {
    const path = h('input', { className: 'jp-mod-styled', value: '/', placeholder: 'path, e.g. /predict', name: 'path' });
    const data = h('textarea', { className: 'jp-mod-styled', placeholder: 'request body (JSON or text); empty for GET', name: 'data', rows: 3 });
    const answer = h('pre', { className: 'skiff-call-answer' });
    const send = h('button', {
      className: 'skiff-button',
      textContent: 'Send',
      onclick: async () => {
        answer.textContent = '…';
        try {
          const r = await this.client.call(this.job.name, data.value ? { path: path.value, method: 'POST', data: data.value } : { path: path.value });
          answer.textContent = `HTTP ${r.status}\n${r.body}`;
        } catch (err) {
          answer.textContent = errorText(err);
        }
      },
    });
    this.body.append(h('div', { className: 'skiff-call' }, path, data, send), answer);
  }
}
