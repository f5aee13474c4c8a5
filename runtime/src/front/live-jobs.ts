// A job list kept live from a watch, for the editors' job views: the local cluster's in VS Code and
// JupyterLab, and each promotion target's. A watch that fails (no cluster yet, Docker stopped, an
// unreachable cloud) or ends is tried again after a pause; a cluster just started cuts the pause
// short. Browser-safe: the editors pass how to watch (a runtime session, or the HTTP API).
import type { JobStatus } from '../types.js';
import { sleep } from '../k8s/streams.js';

export type WatchJobs = (signal: AbortSignal) => AsyncIterable<JobStatus[]>;

export interface LiveJobsHandlers {
  /** The whole list, at the start of a watch and at every change. */
  onJobs(jobs: JobStatus[]): void;
  /** Why the watch failed (each editor words errors its own way); the list is to be shown empty until the next onJobs. */
  onProblem(error: unknown): void;
  /** Before each new try (e.g. read the clusters again). */
  beforeRetry?(): Promise<void>;
}

export const LIVE_JOBS_RETRY_MS = 5000;

export class LiveJobs {
  private wakeRetry?: () => void;

  constructor(
    private readonly watch: WatchJobs,
    private readonly on: LiveJobsHandlers,
    private readonly retryMs = LIVE_JOBS_RETRY_MS,
  ) {}

  /** Watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const jobs of this.watch(signal)) {
          if (signal.aborted) return;
          this.on.onJobs(jobs);
        }
      } catch (err) {
        if (!signal.aborted) this.on.onProblem(err);
      }
      if (signal.aborted) return;
      const wake = new AbortController();
      this.wakeRetry = () => wake.abort();
      await sleep(this.retryMs, AbortSignal.any([signal, wake.signal]));
      this.wakeRetry = undefined;
      if (!signal.aborted) await this.on.beforeRetry?.();
    }
  }

  /** Tries again now instead of at the end of the pause (a cluster was just started). */
  wake(): void {
    this.wakeRetry?.();
  }
}
