// The cluster and its jobs as the views show them, kept current from the runtime's job watch; and
// the jobs of each context a job was promoted to, from a watch there. One instance per window; a
// lost cluster (deleted, Docker stopped, unreachable cloud) is retried quietly.
import * as vscode from 'vscode';
import type { ClusterInfo, JobStatus, SkiffSession } from '@skiff/runtime';
import { LiveJobs, PromotedJobs, type PromotedTarget, type RemoteJobs, type TargetMemory } from '@skiff/runtime/front';

export type { RemoteJobs } from '@skiff/runtime/front';

export class LiveState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  cluster: ClusterInfo | undefined;
  jobs: JobStatus[] = [];
  /** Why the cluster could not be read, for the views' tooltip. */
  problem: string | undefined;
  private controller = new AbortController();
  private readonly promoted: PromotedJobs;

  constructor(
    private readonly session: () => Promise<SkiffSession>,
    remoteSession: (target: PromotedTarget) => Promise<SkiffSession>,
    memory: TargetMemory,
  ) {
    const watch = async function* (target: PromotedTarget, signal: AbortSignal) {
      yield* (await remoteSession(target)).watchJobs({ signal });
    };
    this.promoted = new PromotedJobs(watch, memory, () => this.changed.fire());
  }

  /** The jobs of each context a job was promoted to. */
  get remotes(): RemoteJobs[] {
    return this.promoted.remotes;
  }

  start(): void {
    void this.loop(this.controller.signal);
    this.promoted.start();
  }

  /** Re-reads at once, e.g. after a cluster was started or a setting changed. */
  restart(): void {
    this.controller.abort();
    this.controller = new AbortController();
    this.start();
  }

  /** After a promotion: list that target's jobs from now on, in this window and the next. */
  watchTarget(target: PromotedTarget): void {
    this.promoted.add(target);
  }

  /** Stops listing a target (its jobs stay where they are). */
  forgetTarget(target: PromotedTarget): void {
    this.promoted.forget(target);
  }

  /** One watch of the jobs; the cluster is read at its start, so a cluster started meanwhile shows up. */
  private async *watchOnce(signal: AbortSignal) {
    const session = await this.session();
    this.cluster = await session.clusterStatus();
    this.problem = undefined;
    this.changed.fire();
    yield* session.watchJobs({ signal });
  }

  private loop(signal: AbortSignal): Promise<void> {
    const live = new LiveJobs((watchSignal) => this.watchOnce(watchSignal), {
      onJobs: (jobs) => {
        this.jobs = jobs;
        this.changed.fire();
      },
      onProblem: (err) => {
        this.problem = err instanceof Error ? err.message : String(err);
        if (this.cluster || this.jobs.length) {
          this.cluster = undefined;
          this.jobs = [];
          this.changed.fire();
        }
      },
    });
    return live.run(signal);
  }

  dispose(): void {
    this.controller.abort();
    this.promoted.stop();
    this.changed.dispose();
  }
}
