// A cell (or a whole notebook) as a job on the cluster, shown in the cell's own output: a status
// line that ends with the outcome, the live metrics chart, then every rank's lines as they arrive.
// The outputs are ordinary notebook outputs, so they are saved with the notebook.
import type { CodeCell } from '@jupyterlab/cells';
import type { IOutputAreaModel } from '@jupyterlab/outputarea';
import { METRICS_MIME, type MetricsSample } from '@skiff/media';
import { runCellJob, type CellJobSurface, type JobStatus, type SkiffApiClient } from '@skiff/runtime/front';
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
class CellOutputs implements CellJobSurface {
  private pending = '';
  private flushTimer?: ReturnType<typeof setTimeout>;
  /** The chart of the job's samples: training jobs only, a serving cell has none. */
  readonly metrics?: (samples: MetricsSample[]) => void;

  constructor(
    private readonly outputs: IOutputAreaModel,
    job: string,
    withMetrics: boolean,
  ) {
    outputs.clear();
    outputs.add(statusOutput(''));
    if (withMetrics) {
      outputs.add(metricsOutput('', []));
      this.metrics = (samples) => this.outputs.set(1, metricsOutput(job, samples));
    }
  }

  status(text: string): void {
    this.outputs.set(0, statusOutput(text));
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
  const out = new CellOutputs(cell.model.outputs, job.spec.name, job.spec.kind !== 'serving');
  cell.setPrompt('*');
  try {
    return await runCellJob(out, {
      job: job.spec.name,
      submit: () => client.submit({ spec: job.spec, files: [{ path: job.spec.script, content: job.source }], notebookPath: job.notebookPath }),
      source: client,
      signal: opts.signal,
      metricsIntervalMs: opts.metricsIntervalMs,
      cancelHint: 'cancel it from the Skiff sidebar',
      onSubmitted: opts.onSubmitted,
      errorText,
    });
  } finally {
    cell.setPrompt('');
  }
}
