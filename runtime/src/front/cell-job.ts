// A notebook cell run as a job, as both editors show it in the cell: a status line from submission
// to the outcome, every rank's lines as they arrive, the live metrics chart (training jobs), and a
// stop that leaves the job running. The editors pass the cell's outputs (a surface) and how to
// submit; the order of things and the words are decided here once.
import type { JobStatus, MetricsSample } from '../types.js';
import { FINISHED_PHASES, followJob, type FollowSource } from '../jobs/follow-job.js';
import { displayLogLine } from '../logs/parse.js';
import { MetricsFeed } from './metrics-feed.js';
import { cellStatusText } from './status-text.js';

/** The cell's outputs, as an editor keeps them. */
export interface CellJobSurface {
  status(text: string): unknown;
  line(text: string, stream: 'stdout' | 'stderr'): unknown;
  /** The chart's samples so far; absent where the cell shows no chart (a serving job). */
  metrics?(samples: MetricsSample[]): unknown;
  /** Lines held back for batching go out now (before the outcome). */
  flush?(): void;
}

export interface CellJobRun {
  job: string;
  namespace?: string;
  /** Puts the job on the cluster. */
  submit(): Promise<JobStatus>;
  /** Where its logs, metrics and status are read (a runtime session, or the HTTP API's client). */
  source: FollowSource;
  /** Stops following (not the job). */
  signal: AbortSignal;
  metricsIntervalMs: number;
  /** How this editor's user cancels a job, for the line shown when following stops. */
  cancelHint: string;
  /** The job is on the cluster. */
  onSubmitted?(status: JobStatus): void;
  /** A failure, already shown in the cell; `when` tells a refused submission from a follow that broke. */
  onError?(err: unknown, when: 'submit' | 'follow'): void;
  /** An error in the editor's words (its hints, its error types). */
  errorText(err: unknown): string;
}

/** Submits and follows the job into the cell; its final status, or undefined when it was not submitted or following stopped. */
export async function runCellJob(out: CellJobSurface, run: CellJobRun): Promise<JobStatus | undefined> {
  out.status('submitting to the cluster…');
  try {
    const submitted = await run.submit();
    out.status(cellStatusText(submitted));
    run.onSubmitted?.(submitted);
  } catch (err) {
    out.status(`✗ ${run.errorText(err)}`);
    run.onError?.(err, 'submit');
    return undefined;
  }
  const chart = out.metrics?.bind(out);
  const feed = new MetricsFeed((samples) => chart?.(samples as MetricsSample[]));
  try {
    const final = await followJob(
      run.source,
      run.job,
      {
        onLog: (line) => out.line(displayLogLine(line), 'stdout'),
        onMetrics: chart ? (sample) => feed.push(sample) : undefined,
        // The outcome waits for the job's last lines (below): a cell never reads "Succeeded" above
        // output still on its way.
        onStatus: (status) => !FINISHED_PHASES.includes(status.phase) && out.status(cellStatusText(status)),
        onStreamError: (what, err) => out.line(`${what} stream stopped: ${run.errorText(err)}`, 'stderr'),
      },
      { namespace: run.namespace, signal: run.signal, metricsIntervalMs: run.metricsIntervalMs },
    );
    feed.flush();
    out.flush?.();
    out.status(cellStatusText(final));
    return final;
  } catch (err) {
    feed.stop();
    out.flush?.();
    if (run.signal.aborted) {
      out.status(`■ stopped following ${run.job}; it keeps running on the cluster (${run.cancelHint})`);
      return undefined;
    }
    out.status(`✗ ${run.errorText(err)}`);
    run.onError?.(err, 'follow');
    return undefined;
  }
}
