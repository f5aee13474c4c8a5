// The sidebar's state, owned in one place: the runtime's health, the clusters, the live job list and
// what the cluster is busy with. Widgets only draw it and call its methods.
import { Signal, type ISignal } from '@lumino/signaling';
import {
  LiveJobs,
  PromotedJobs,
  type ClusterInfo,
  type ClusterUpRequest,
  type Health,
  type JobStatus,
  type PromotedTarget,
  type SkiffApiClient,
  type TargetMemory,
} from '@skiff/runtime/front';
import { connect, errorText } from './api';

const PROMOTED_TARGETS_KEY = 'skiff:promoted-targets';

/** The promotion targets, remembered by this browser. */
export function browserTargetMemory(storage: Pick<Storage, 'getItem' | 'setItem'> = window.localStorage): TargetMemory {
  return {
    get: () => {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(PROMOTED_TARGETS_KEY) ?? '[]');
        return Array.isArray(parsed) ? parsed.filter((t): t is PromotedTarget => typeof t?.context === 'string' && typeof t?.namespace === 'string') : [];
      } catch {
        return [];
      }
    },
    set: (targets) => storage.setItem(PROMOTED_TARGETS_KEY, JSON.stringify(targets)),
  };
}

export interface ClusterActivity {
  action: 'starting' | 'adding to' | 'stopping';
  /** Progress lines as the runtime reports them. */
  progress: string[];
}

export class SkiffModel {
  health?: Health;
  /** Why the runtime cannot be used right now (plain words, with what to do). */
  error?: string;
  clusters: ClusterInfo[] = [];
  jobs: JobStatus[] = [];
  /** Why the job list is not live (e.g. no cluster yet); it reconnects by itself. */
  jobsError?: string;
  activity?: ClusterActivity;

  private readonly changedSignal = new Signal<this, void>(this);
  private readonly stopped = new AbortController();
  /** The local cluster's jobs: retried while there is no cluster, woken when one starts. */
  private readonly liveJobs = new LiveJobs((signal) => this.client.watchJobs(signal), {
    onJobs: (jobs) => {
      this.jobs = jobs;
      this.jobsError = undefined;
      this.emit();
    },
    onProblem: (err) => {
      // No cluster yet, or it went away: say so; a started cluster wakes the retry.
      this.jobs = [];
      this.jobsError = errorText(err);
      this.emit();
    },
    beforeRetry: () => this.refreshClusters(),
  });

  /** The jobs of each context a job was promoted to, live from the API's view of that context. */
  readonly promoted: PromotedJobs;

  constructor(
    readonly client: SkiffApiClient,
    memory: TargetMemory = browserTargetMemory(),
  ) {
    this.promoted = new PromotedJobs(
      (target, signal) => client.at(target).watchJobs(signal),
      memory,
      () => this.emit(),
    );
  }

  get changed(): ISignal<this, void> {
    return this.changedSignal;
  }

  /** The cluster the runtime works on, when it exists. */
  get cluster(): ClusterInfo | undefined {
    return this.clusters.find((c) => c.name === this.health?.cluster);
  }

  job(name: string): JobStatus | undefined {
    return this.jobs.find((j) => j.name === name);
  }

  /** Connects (version check), reads the clusters, then keeps the job list live until dispose(). */
  async start(): Promise<void> {
    try {
      this.health = await connect(this.client);
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
      this.emit();
      return;
    }
    await this.refreshClusters();
    void this.liveJobs.run(this.stopped.signal);
    this.promoted.start();
  }

  async refreshClusters(): Promise<void> {
    try {
      this.clusters = await this.client.clusters();
      this.error = undefined;
    } catch (err) {
      this.error = errorText(err);
    }
    this.emit();
  }

  /** Creates or reuses the cluster; progress lines arrive in `activity` as they happen. */
  /** A new cluster, or (add-ons only) the add-ons installed into the running one. */
  async up(request: ClusterUpRequest | Required<Pick<ClusterUpRequest, 'addons'>>): Promise<ClusterInfo> {
    this.activity = { action: 'profile' in request ? 'starting' : 'adding to', progress: [] };
    this.emit();
    try {
      const cluster = await this.client.up(request, (line) => {
        this.activity?.progress.push(line);
        this.emit();
      });
      await this.refreshClusters();
      this.liveJobs.wake();
      return cluster;
    } finally {
      this.activity = undefined;
      this.emit();
    }
  }

  async down(): Promise<void> {
    this.activity = { action: 'stopping', progress: [] };
    this.emit();
    try {
      await this.client.down();
      await this.refreshClusters();
    } finally {
      this.activity = undefined;
      this.emit();
    }
  }

  dispose(): void {
    this.stopped.abort();
    this.promoted.stop();
  }

  private emit(): void {
    this.changedSignal.emit();
  }
}
