// A cell (or a whole notebook) as a job on the cluster, shown in the cell's own output: a status
// line that ends with the outcome, the live metrics chart, then every rank's lines as they arrive.
// The outputs are ordinary notebook outputs, so they are saved with the notebook.
import type { CodeCell } from '@jupyterlab/cells';
import type { IOutputAreaModel } from '@jupyterlab/outputarea';
import { METRICS_MIME, type MetricsSample } from '@skiff/media';
import { MetricsFeed, cellStatusText, displayLogLine, followJob, type JobStatus, type SkiffApiClient } from '@skiff/runtime/front';
import { errorText } from './api';

/** Log lines are appended in batches (charts are paced by MetricsFeed). */
const LOG_FLUSH_MS = 250;

export interface CellJob {
  /** The spec as the runtime's parseJobSpec takes it (kind, name, script, workers, ...). */
  spec: Record<string, unknown> & { name: string; script: string };
  /** The script's text. */
  source: string;
  /**
   * The notebook's path under the Jupyter server's root: the job runs in a copy of its folder, so
   * sibling modules and data files travel with the cell and what it writes lands in its outputs.
   */
  notebookPath?: string;
}

/** What a run needs of a code cell: its outputs and its prompt. */
export type CellTarget = Pick<CodeCell, 'setPrompt'> & { model: { outputs: IOutputAreaModel } };

export interface CellRunOptions {
  metricsIntervalMs: number;
  signal: AbortSignal;
  /** Called once the job is on the cluster (the sidebar selects it). */
  onSubmitted?(job: JobStatus): void;
}

/**
 * Outputs: [status, metrics chart (training jobs), logs…]. The chart sits above the logs so it stays
 * in view while lines stream in below; consecutive stdout outputs merge, as JupyterLab does.
 */
class CellOutputs {
  private pending = '';
  private flushTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly outputs: IOutputAreaModel,
    private readonly withMetrics: boolean,
  ) {
    outputs.clear();
    outputs.add(statusOutput('… submitting to the cluster'));
    if (withMetrics) outputs.add(metricsOutput('', []));
  }

  status(text: string): void {
    this.outputs.set(0, statusOutput(text));
  }

  metrics(job: string, samples: MetricsSample[]): void {
    if (this.withMetrics) this.outputs.set(1, metricsOutput(job, samples));
  }

  line(text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    if (stream === 'stderr') {
      this.flush();
      this.outputs.add({ output_type: 'stream', name: 'stderr', text: text + '\n' });
      return;
    }
    this.pending += text + '\n';
    this.flushTimer ??= setTimeout(() => this.flush(), LOG_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.pending) return;
    this.outputs.add({ output_type: 'stream', name: 'stdout', text: this.pending });
    this.pending = '';
  }
}

function statusOutput(text: string) {
  return { output_type: 'display_data', data: { 'text/plain': text }, metadata: { skiff: 'status' } };
}

function metricsOutput(job: string, samples: MetricsSample[]) {
  return { output_type: 'display_data', data: { [METRICS_MIME]: { job, samples } as never }, metadata: { skiff: 'metrics' } };
}

/**
 * Submits the job and follows it into the cell's outputs until it finishes (training) or until
 * `signal` aborts (serving jobs run until cancelled). Resolves with the final status, or undefined
 * when it could not be submitted or following stopped; the reason is in the cell either way.
 */
export async function runInCell(client: SkiffApiClient, cell: CellTarget, job: CellJob, opts: CellRunOptions): Promise<JobStatus | undefined> {
  const training = job.spec.kind !== 'serving';
  const out = new CellOutputs(cell.model.outputs, training);
  cell.setPrompt('*');
  try {
    const submitted = await client.submit({ spec: job.spec, files: [{ path: job.spec.script, content: job.source }], notebookPath: job.notebookPath });
    out.status(cellStatusText(submitted));
    opts.onSubmitted?.(submitted);
  } catch (err) {
    out.status(`✗ ${errorText(err)}`);
    cell.setPrompt('');
    return undefined;
  }

  const feed = new MetricsFeed((samples) => out.metrics(job.spec.name, samples as MetricsSample[]));
  try {
    const final = await followJob(
      client,
      job.spec.name,
      {
        onLog: (line) => out.line(displayLogLine(line)),
        onMetrics: training ? (sample) => feed.push(sample) : undefined,
        onStatus: (s) => out.status(cellStatusText(s)),
        onStreamError: (what, err) => out.line(`${what} stream stopped: ${errorText(err)}`, 'stderr'),
      },
      { signal: opts.signal, metricsIntervalMs: opts.metricsIntervalMs },
    );
    feed.stop();
    out.flush();
    if (training) feed.flush();
    out.status(cellStatusText(final));
    return final;
  } catch (err) {
    feed.stop();
    out.flush();
    out.status(opts.signal.aborted ? `■ stopped following ${job.spec.name}; it keeps running on the cluster (cancel it from the Skiff sidebar)` : `✗ ${errorText(err)}`);
    return undefined;
  } finally {
    cell.setPrompt('');
  }
}
