// The jobs of every context a job was promoted to, kept live for the editors' job views: one watch
// per remembered target, each retried quietly when its cluster cannot be reached (LiveJobs). Browser-safe; the
// editors pass how to watch (a runtime session in VS Code, the HTTP API in JupyterLab) and where to
// remember the targets (workspace state, browser storage).
import type { JobStatus } from '../types.js';
import { LiveJobs, LIVE_JOBS_RETRY_MS } from './live-jobs.js';
import type { PromotedTarget } from '../types.js';
import { rememberPromotedTarget } from './promotion-text.js';

/** The jobs in one promotion target, or why they cannot be read now. */
export interface RemoteJobs {
  target: PromotedTarget;
  jobs: JobStatus[];
  problem?: string;
}

/** Where the targets are remembered between sessions. */
export interface TargetMemory {
  get(): PromotedTarget[];
  set(targets: PromotedTarget[]): void;
}

export type WatchTarget = (target: PromotedTarget, signal: AbortSignal) => AsyncIterable<JobStatus[]>;

const sameTarget = (a: PromotedTarget, b: PromotedTarget) => a.context === b.context && a.namespace === b.namespace;

export class PromotedJobs {
  remotes: RemoteJobs[] = [];
  private controller?: AbortController;

  constructor(
    private readonly watch: WatchTarget,
    private readonly memory: TargetMemory,
    private readonly onChange: () => void,
    private readonly retryMs = LIVE_JOBS_RETRY_MS,
  ) {}

  /** Watches every remembered target (again, from scratch, when already started). */
  start(): void {
    this.stop();
    const controller = (this.controller = new AbortController());
    this.remotes = this.memory.get().map((target) => ({ target, jobs: [] }));
    for (const remote of this.remotes) void this.loop(remote, controller.signal);
    this.onChange();
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  /** After a promotion: that target's jobs from now on, here and in the next session. */
  add(target: PromotedTarget): void {
    this.memory.set(rememberPromotedTarget(this.memory.get(), target));
    this.start();
  }

  /** Stops listing a target; its jobs stay where they are. */
  forget(target: PromotedTarget): void {
    this.memory.set(this.memory.get().filter((t) => !sameTarget(t, target)));
    this.start();
  }

  find(target: PromotedTarget): RemoteJobs | undefined {
    return this.remotes.find((r) => sameTarget(r.target, target));
  }

  private loop(remote: RemoteJobs, signal: AbortSignal): Promise<void> {
    const live = new LiveJobs(
      (watchSignal) => this.watch(remote.target, watchSignal),
      {
        onJobs: (jobs) => {
          remote.jobs = jobs;
          remote.problem = undefined;
          this.onChange();
        },
        onProblem: (err) => {
          remote.problem = err instanceof Error ? err.message : String(err);
          remote.jobs = [];
          this.onChange();
        },
      },
      this.retryMs,
    );
    return live.run(signal);
  }
}
