// The cluster and its jobs as the views show them, kept current from the runtime's job watch. One
// instance per window; a lost cluster (deleted, Docker stopped) is retried quietly.
import * as vscode from 'vscode';
import type { ClusterInfo, JobStatus, SkiffSession } from '@skiff/runtime';

const RETRY_MS = 5000;

export class LiveState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  cluster: ClusterInfo | undefined;
  jobs: JobStatus[] = [];
  /** Why the cluster could not be read, for the views' tooltip. */
  problem: string | undefined;
  private controller = new AbortController();

  constructor(private session: () => Promise<SkiffSession>) {}

  start(): void {
    void this.loop(this.controller.signal);
  }

  /** Re-reads at once, e.g. after a cluster was started or a setting changed. */
  restart(): void {
    this.controller.abort();
    this.controller = new AbortController();
    this.start();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const session = await this.session();
        this.cluster = await session.clusterStatus();
        this.problem = undefined;
        this.changed.fire();
        for await (const jobs of session.watchJobs({ signal })) {
          this.jobs = jobs;
          this.changed.fire();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.problem = err instanceof Error ? err.message : String(err);
        if (this.cluster || this.jobs.length) {
          this.cluster = undefined;
          this.jobs = [];
          this.changed.fire();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  dispose(): void {
    this.controller.abort();
    this.changed.dispose();
  }
}
