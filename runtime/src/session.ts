// One object for "this cluster, this namespace": what the CLI commands and the API server call, so
// both stay thin. Every call resolves the cluster's kubeconfig afresh, since `skiff up` in another
// terminal may recreate the cluster (new port, new certificates) at any time.
import type { ClusterInfo, JobPhase, JobStatus, LogLine, MetricsSample } from './types.js';
import { Clusters, DEFAULT_CLUSTER, type UpRequest, type UpResult } from './cluster/cluster.js';
import { DEFAULT_NAMESPACE, type JobSpec } from './spec/job-spec.js';
import { Jobs, type JobDescription, type WaitOptions } from './jobs/jobs.js';
import { packagesText, renderLocalJob, renderRemoteJob, submitJob, type CodeSource, type SubmitOptions as JobSubmitOptions } from './jobs/submit.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { SkiffError } from './errors.js';
import { dataDir } from './workspace/layout.js';
import { copyRun, jobRuns, jobsWithRuns, latestRun, removeRun, type Run } from './workspace/runs.js';
import { callService, type CallOptions, type CallResult } from './jobs/call.js';
import { forwardJob, type Forward, type ForwardOptions } from './jobs/forward.js';
import { findMlflow, jobMlflowRuns, mlflowMissing, MLFLOW_UI_PORT } from './addons/mlflow.js';
import { ADDONS_NAMESPACE, MLFLOW_NAME } from './manifests/mlflow-env.js';
import path from 'node:path';
import { streamJobLogs } from './jobs/job-logs.js';
import { streamJobMetrics } from './jobs/job-metrics.js';
import { explainKubeError, kubeConfigForContext, targetPhrase, type KubeTarget } from './k8s/client.js';
import { KubeConfig } from '@kubernetes/client-node';
import { applyPromotion, planPromotion, type PromotionPlan } from './promote/promote.js';
import { listTargetProfiles, loadTargetProfile, targetFiles } from './promote/target.js';
import Docker from 'dockerode';
import type { CellEvent, NotebookSessionInfo } from './types.js';
import { NotebookSessions, type SessionRank } from './sessions/sessions.js';
import { cellForSession, notebookSessionCode, notebookSessionSpec, type NotebookSessionRequest } from './sessions/notebook.js';
import { livePackageSet } from './sessions/live-packages.js';
import { callbackStream } from './k8s/streams.js';

export interface SessionOptions {
  clusters?: Clusters;
  clusterName?: string;
  namespace?: string;
  /** A kubeconfig context to use instead of the kind cluster (e.g. where a job was promoted). */
  context?: string;
}

export type { CodeSource };

/** `--from` and progress lines; the session itself knows whether the cluster is local. */
export type SubmitOptions = Omit<JobSubmitOptions, 'local'>;

export interface LogOptions {
  follow: boolean;
  sinceTime?: string;
  signal?: AbortSignal;
  namespace?: string;
  /** Told when the API server goes away mid-stream, and when it is back. */
  onNotice?: (message: string) => void;
}

export interface MetricOptions {
  follow: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
  namespace?: string;
}

export class SkiffSession {
  readonly clusters: Clusters;
  /** The local cluster's name (its default when the session talks to another context). */
  readonly clusterName: string;
  readonly namespace: string;
  readonly context?: string;
  /** What the session talks to, in messages: "cluster 'skiff'", or "context 'prod'" for a promoted job's. */
  readonly where: string;
  private readonly target: KubeTarget;
  /** Notebook sessions this object has run cells on, with their ranks (see runCell). */
  /** Sessions attached to, with the client their ranks' links were made by (its pooled connections). */
  private readonly attached = new Map<string, { info: NotebookSessionInfo; ranks: SessionRank[]; sessions: NotebookSessions }>();

  constructor(opts: SessionOptions = {}) {
    this.clusters = opts.clusters ?? new Clusters();
    this.clusterName = opts.clusterName ?? DEFAULT_CLUSTER;
    this.namespace = opts.namespace ?? DEFAULT_NAMESPACE;
    this.context = opts.context;
    this.target = opts.context ? { context: opts.context } : { cluster: this.clusterName };
    this.where = targetPhrase(this.target);
  }

  async kubeConfig(): Promise<KubeConfig> {
    return this.context ? kubeConfigForContext(this.context) : this.clusters.kubeConfig(this.clusterName);
  }

  listClusters(): Promise<ClusterInfo[]> {
    return this.clusters.list();
  }

  clusterStatus(name = this.clusterName): Promise<ClusterInfo> {
    return this.clusters.status(name);
  }

  up(request: UpRequest = {}, onProgress?: (msg: string) => void): Promise<UpResult> {
    return this.clusters.up({ ...request, name: request.name ?? this.clusterName }, onProgress);
  }

  down(name = this.clusterName): Promise<boolean> {
    return this.clusters.down(name);
  }

  /** On the local cluster the job gets a run folder of its own; on another context its code goes in a ConfigMap. */
  async submit(spec: JobSpec, code: CodeSource, opts: SubmitOptions = {}): Promise<JobStatus> {
    const local = this.context ? undefined : { cluster: this.clusterName, shared: await this.clusters.sharedFolders(this.clusterName) };
    return this.withKube((kc) => submitJob(kc, spec, code, { ...opts, local }));
  }

  /** The objects submit would apply, touching nothing on the cluster (`--dry-run`). */
  async render(spec: JobSpec, code: CodeSource, opts: SubmitOptions = {}): Promise<KubernetesObject[]> {
    if (this.context) return renderRemoteJob(spec, code, opts);
    return renderLocalJob(spec, code, { cluster: this.clusterName, shared: await this.clusters.sharedFolders(this.clusterName) }, opts);
  }

  /** The newest run folder of a job on the local cluster (kept after the job and its pods are gone). */
  async outputs(job: string, namespace?: string): Promise<Run> {
    return latestRun(await this.localDataDir(), this.clusterName, namespace ?? this.namespace, job);
  }

  /** Every run of a job, oldest first (a clear error when it has none). */
  async outputRuns(job: string, namespace?: string): Promise<Run[]> {
    return jobRuns(await this.localDataDir(), this.clusterName, namespace ?? this.namespace, job);
  }

  /** Every run of every job with outputs in the namespace. */
  async listOutputs(namespace?: string): Promise<{ job: string; runs: Run[] }[]> {
    return jobsWithRuns(await this.localDataDir(), this.clusterName, namespace ?? this.namespace);
  }

  /** Copies the newest run folder of a job to `to`. */
  async copyOutputs(job: string, to: string, namespace?: string): Promise<Run> {
    const run = await this.outputs(job, namespace);
    await copyRun(run, to);
    return run;
  }

  /** Deletes every run folder of a job; refused while the job still exists (it may be writing). */
  async removeOutputs(job: string, namespace?: string): Promise<Run[]> {
    const ns = namespace ?? this.namespace;
    const existing = await this.getJob(job, ns).catch((err: unknown) => {
      if (err instanceof SkiffError && err.code === 'JOB_NOT_FOUND') return undefined;
      throw err;
    });
    if (existing) {
      throw new SkiffError('BAD_INPUT', `job '${job}' still exists (${existing.phase}); its outputs stay while it does`, { hint: `run \`skiff cancel ${job}\` first` });
    }
    const runs = await this.outputRuns(job, ns);
    for (const run of runs) await removeRun(run.dir);
    return runs;
  }

  /** The host folder the local cluster keeps jobs' files in; where it would be when the cluster is gone. */
  private async localDataDir(): Promise<string> {
    if (this.context) throw new SkiffError('BAD_INPUT', `outputs are kept for jobs on a local cluster, not on context '${this.context}'`);
    try {
      return (await this.clusters.sharedFolders(this.clusterName)).data;
    } catch (err) {
      if (err instanceof SkiffError && (err.code === 'NO_CLUSTER' || err.code === 'CLUSTER_GONE' || err.code === 'NO_DOCKER')) return dataDir();
      throw err;
    }
  }

  listJobs(namespace?: string): Promise<JobStatus[]> {
    return this.withJobs(namespace, (jobs) => jobs.list());
  }

  getJob(name: string, namespace?: string): Promise<JobStatus> {
    return this.withJobs(namespace, (jobs) => jobs.get(name));
  }

  /** The job list now and after every change; see Jobs.watch. */
  async *watchJobs(opts: { signal?: AbortSignal; namespace?: string } = {}): AsyncGenerator<JobStatus[]> {
    const kc = await this.kubeConfig();
    yield* this.explained(new Jobs(kc, opts.namespace ?? this.namespace).watch({ signal: opts.signal }));
  }

  /** On the local cluster, with its MLflow runs when it has the add-on. */
  async describeJob(name: string, namespace?: string): Promise<JobDescription> {
    const description = await this.withJobs(namespace, (jobs) => jobs.describe(name));
    if (this.context || !description.workDir) return description;
    const job = { cluster: this.clusterName, namespace: description.namespace, name, runId: path.basename(description.workDir) };
    const mlflow = await this.withKube((kc) => jobMlflowRuns(kc, job));
    return mlflow ? { ...description, mlflow } : description;
  }

  /** MLflow's UI on 127.0.0.1 (its default port unless given) until close() or the signal. */
  async mlflowUi(opts: ForwardOptions = {}): Promise<Forward> {
    if (this.context) throw new SkiffError('BAD_INPUT', `MLflow is an add-on of a local cluster, not of context '${this.context}'`);
    return this.withKube(async (kc) => {
      if (!(await findMlflow(kc))) throw mlflowMissing(this.clusterName);
      return forwardJob(kc, ADDONS_NAMESPACE, MLFLOW_NAME, { ...opts, port: opts.port ?? MLFLOW_UI_PORT });
    });
  }

  cancelJob(name: string, namespace?: string): Promise<void> {
    this.attached.delete(`${namespace ?? this.namespace}/${name}`);
    return this.withJobs(namespace, (jobs) => jobs.cancel(name));
  }

  waitForJob(name: string, phases: JobPhase[], opts: WaitOptions & { namespace?: string } = {}): Promise<JobStatus> {
    return this.withJobs(opts.namespace, (jobs) => jobs.waitFor(name, phases, opts));
  }

  call(name: string, opts: CallOptions & { namespace?: string } = {}): Promise<CallResult> {
    return this.withKube((kc) => callService(kc, opts.namespace ?? this.namespace, name, opts));
  }

  /** The serving job on a port of 127.0.0.1 until close() or the signal. */
  forward(name: string, opts: ForwardOptions & { namespace?: string } = {}): Promise<Forward> {
    return this.withKube((kc) => forwardJob(kc, opts.namespace ?? this.namespace, name, opts));
  }

  async *logs(name: string, opts: LogOptions): AsyncGenerator<LogLine> {
    const kc = await this.kubeConfig();
    yield* this.explained(streamJobLogs(kc, opts.namespace ?? this.namespace, name, { ...opts, where: this.where }));
  }

  async *metrics(name: string, opts: MetricOptions): AsyncGenerator<MetricsSample> {
    const kc = await this.kubeConfig();
    yield* this.explained(streamJobMetrics(kc, opts.namespace ?? this.namespace, name, { ...opts, ...(this.context ? {} : { cluster: this.clusterName }) }));
  }

  /**
   * Starts a notebook session (replacing one of that name: a restart) and waits until every rank
   * answers. Its packages are installed first, as for a job.
   */
  async startNotebookSession(
    req: Omit<NotebookSessionRequest, 'namespace'> & { namespace?: string },
    opts: SubmitOptions & { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<NotebookSessionInfo> {
    const spec = notebookSessionSpec({ ...req, namespace: req.namespace ?? this.namespace });
    this.attached.delete(`${spec.namespace}/${spec.name}`);
    await this.submit(spec, notebookSessionCode(req), opts);
    await this.withSessions(spec.namespace, (s) => s.waitReady(spec.name, opts));
    const info = await this.findNotebookSession(spec.name, spec.namespace);
    if (!info) throw new SkiffError('SESSION_LOST', `the notebook session '${spec.name}' went away as it started`, { hint: `see \`skiff describe ${spec.name}\`` });
    return info;
  }

  /** The session of that name, or undefined: how an editor reattaches after a reload. */
  findNotebookSession(name: string, namespace?: string): Promise<NotebookSessionInfo | undefined> {
    return this.withSessions(namespace, (s) => s.find(name));
  }

  /**
   * The running session and its ranks, looked up once and kept for its next cells (a warm cell
   * then makes no API call, and reads no kubeconfig, before it runs); a lost rank, a start or a
   * stop forgets them.
   */
  async attachNotebookSession(name: string, namespace: string = this.namespace): Promise<{ info: NotebookSessionInfo; ranks: SessionRank[] }> {
    const { info, ranks } = await this.attach(name, namespace);
    return { info, ranks };
  }

  private async attach(name: string, namespace: string): Promise<{ info: NotebookSessionInfo; ranks: SessionRank[]; sessions: NotebookSessions }> {
    const key = `${namespace}/${name}`;
    const known = this.attached.get(key);
    if (known) return known;
    const attached = await this.withSessions(namespace, async (sessions) => {
      const info = await sessions.find(name);
      if (!info) {
        throw new SkiffError('SESSION_LOST', `no notebook session '${name}' on ${this.where}`, { hint: 'start one by running a cell (or `skiff session start`)' });
      }
      return { info, ranks: await sessions.ranks(name), sessions };
    });
    this.attached.set(key, attached);
    return attached;
  }

  /**
   * Runs a cell on every rank of a running session (see attachNotebookSession); the events of all
   * ranks as they arrive. A `%pip install` of packages the session lacks installs them first, on
   * the host, and the ranks take them without a restart (live-packages.ts); its lines come from rank 0.
   */
  async *runCell(name: string, code: string, opts: { signal?: AbortSignal; namespace?: string } = {}): AsyncGenerator<CellEvent> {
    const namespace = opts.namespace ?? this.namespace;
    const attached = await this.attach(name, namespace);
    const cell = cellForSession(code, attached.info.packages);
    let paths: string[] | undefined;
    if (cell.missing.length > 0) {
      const say = (line: string): CellEvent => ({ type: 'stream', rank: 0, name: 'stderr', text: `skiff: ${line}\n` });
      yield say(`installing ${cell.missing.join(', ')} into the running session…`);
      const shared = this.context ? undefined : await this.clusters.sharedFolders(this.clusterName);
      // The install's lines as they come: a big package takes a while, and the cell shows why.
      let added: Awaited<ReturnType<typeof livePackageSet>> | undefined;
      const install = (emit: (line: string) => void) => livePackageSet(attached.info, cell.missing, shared, emit).then((a) => void (added = a));
      for await (const line of callbackStream(install)) yield say(line);
      // The stream ends once the install has settled, and throws if it failed: `added` is set here.
      const { resolved, rankPath } = added!;
      yield say(packagesText(resolved));
      // Its next cells, and whoever attaches next, know the ranks have them.
      attached.info.packages = resolved.requirements;
      await attached.sessions.recordPackages(name, resolved.requirements);
      paths = [rankPath];
    }
    for await (const event of this.explained(attached.sessions.run(name, { code: cell.code, paths }, opts.signal, attached.ranks))) {
      if (event.type === 'lost') this.attached.delete(`${namespace}/${name}`);
      yield event;
    }
  }

  /** Shuts a session down: its pods go, and its Python state with them (its run folder stays). */
  async stopNotebookSession(name: string, namespace: string = this.namespace): Promise<void> {
    this.attached.delete(`${namespace}/${name}`);
    await this.cancelJob(name, namespace);
  }

  /** KeyboardInterrupt on every rank; ranks that ignore it for `graceMs` are killed. */
  interruptNotebookSession(name: string, opts: { graceMs?: number; namespace?: string } = {}): Promise<{ interrupted: number[]; killed: number[] }> {
    return this.withSessions(opts.namespace, (s) => s.interrupt(name, opts.graceMs));
  }

  /** Where jobs can be promoted to: the kubeconfig's contexts but the session's own, and the target profiles on file. */
  promotionTargets(cwd: string = process.cwd()): { contexts: string[]; profiles: { name: string; file: string }[] } {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const own = this.context ?? this.clusters.provider.contextName(this.clusterName);
    const contexts = kc
      .getContexts()
      .map((c) => c.name)
      .filter((name) => name !== own);
    return { contexts, profiles: listTargetProfiles(targetFiles(cwd)) };
  }

  /** The plan for promoting a job: a dry run on the target, nothing applied. Profile defaults to the context's name. */
  async planPromotion(job: string, opts: { to: string; profile?: string; cwd?: string }): Promise<PromotionPlan> {
    const { profile } = loadTargetProfile(opts.profile ?? opts.to, targetFiles(opts.cwd));
    return planPromotion({ job, local: await this.kubeConfig(), localNamespace: this.namespace, toContext: opts.to, profile });
  }

  /** Builds, pushes and applies a plan (confirmed by the user). */
  applyPromotion(plan: PromotionPlan, onProgress?: (line: string) => void): Promise<unknown> {
    return applyPromotion(plan, { docker: new Docker(), onProgress });
  }

  private async withKube<T>(fn: (kc: KubeConfig) => Promise<T>): Promise<T> {
    const kc = await this.kubeConfig();
    try {
      return await fn(kc);
    } catch (err) {
      throw explainKubeError(err, this.target);
    }
  }

  private withSessions<T>(namespace: string | undefined, fn: (sessions: NotebookSessions) => Promise<T>): Promise<T> {
    return this.withKube((kc) => fn(new NotebookSessions(kc, namespace ?? this.namespace)));
  }

  private withJobs<T>(namespace: string | undefined, fn: (jobs: Jobs) => Promise<T>): Promise<T> {
    return this.withKube((kc) => fn(new Jobs(kc, namespace ?? this.namespace, this.where)));
  }

  private async *explained<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* stream;
    } catch (err) {
      throw explainKubeError(err, this.target);
    }
  }
}
