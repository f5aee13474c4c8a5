// Job logs from the cluster: client-node's Log (timestamps on, for exact resume) per pod, pods found
// by the job label. The merge, resume and end-of-stream rules live in log-merge.ts.
import { PassThrough, type Readable } from 'node:stream';
import { Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LogLine } from '../types.js';
import { jobNotFound, readJobObjects } from '../jobs/jobs.js';
import { jobPhase, rankOf } from '../jobs/reasons.js';
import { GPU_RESOURCE } from '../manifests/gpu.js';
import { jobSelector } from '../manifests/labels.js';
import { SkiffError } from '../errors.js';
import { apiStatusOf, kubeClients, orUndefined, withPooledConnections, type KubeClients } from './client.js';
import { ChangeWatch } from './watch.js';
import { newlineSeparated } from './lines.js';
import { jobLogLines, type JobPodSource, type LogStreamOptions, type PodLogSource, type PodRef, type PodRunState } from './log-merge.js';

export type { PodRef } from './log-merge.js';

/** Lines of every pod of a job, each tagged with its rank (see jobLogLines for when it ends). */
export function streamJobLogs(kc: KubeConfig, namespace: string, job: string, opts: LogStreamOptions): AsyncIterable<LogLine> {
  return jobLogLines(new KubeJobPods(kc, namespace, job), new KubePodLogs(kc, namespace), opts);
}

/** A job's pods from the cluster; finished once the Job has ended or the job was deleted. */
export class KubeJobPods implements JobPodSource {
  private readonly k: KubeClients;
  private readonly changes: ChangeWatch;
  private seen = false;
  private versions: { jobs?: string; pods?: string } = {};

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly job: string,
  ) {
    this.k = kubeClients(kc);
    this.changes = new ChangeWatch(kc);
  }

  async list(): Promise<{ pods: PodRef[]; finished: boolean }> {
    const snapshot = await readJobObjects(this.k, this.namespace, this.job);
    if (!snapshot) {
      if (!this.seen) throw jobNotFound(this.job, this.namespace);
      return { pods: [], finished: true };
    }
    this.seen = true;
    this.versions = snapshot.versions;
    const { objects } = snapshot;
    const finished =
      objects.kind === 'training'
        ? ['Succeeded', 'Failed', 'Cancelled'].includes(jobPhase(objects.owner, objects.pods))
        : objects.owner.metadata?.deletionTimestamp !== undefined;
    return { pods: objects.pods.map((p) => podRef(p, objects.pods)), finished };
  }

  /** A watch on the job's Job and pods from the last list: new pods show at once, not at the next poll. */
  async changed(opts: { signal: AbortSignal; maxWaitMs: number }): Promise<void> {
    const ns = encodeURIComponent(this.namespace);
    const labelSelector = jobSelector(this.job);
    await this.changes.nextPaced(
      [
        { path: `/apis/batch/v1/namespaces/${ns}/jobs`, labelSelector, resourceVersion: this.versions.jobs },
        { path: `/api/v1/namespaces/${ns}/pods`, labelSelector, resourceVersion: this.versions.pods },
      ],
      opts,
    );
  }
}

export function podRef(pod: V1Pod, siblings: V1Pod[]): PodRef {
  const ref: PodRef = {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? pod.metadata?.name ?? '',
    rank: rankOf(pod, siblings),
    container: pod.spec?.containers?.[0]?.name ?? '',
  };
  if (pod.spec?.nodeName) ref.node = pod.spec.nodeName;
  const gpus = Number(pod.spec?.containers?.[0]?.resources?.limits?.[GPU_RESOURCE] ?? 0);
  if (gpus > 0) ref.gpus = gpus;
  return ref;
}

export function podRunState(pod: V1Pod | undefined): PodRunState {
  if (!pod) return 'gone';
  switch (pod.status?.phase) {
    case 'Running':
      return 'running';
    case 'Succeeded':
    case 'Failed':
      return 'terminated';
    default:
      return 'waiting';
  }
}

/** Per-pod log streams through the API server. */
export class KubePodLogs implements PodLogSource {
  private readonly log: Log;
  private readonly k: KubeClients;
  private readonly changes: ChangeWatch;
  /** resourceVersion of each pod as state() last read it, for changed() to watch from. */
  private readonly versions = new Map<string, string | undefined>();
  /** Restart count of each pod's container as state() last read it. */
  private readonly restartCounts = new Map<string, number>();

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.log = new Log(withPooledConnections(kc));
    this.k = kubeClients(kc);
    this.changes = new ChangeWatch(kc);
  }

  async state(pod: PodRef): Promise<PodRunState> {
    const current = await orUndefined(this.k.core.readNamespacedPod({ name: pod.name, namespace: this.namespace }));
    this.versions.set(pod.uid, current?.metadata?.resourceVersion);
    const container = current?.status?.containerStatuses?.find((c) => c.name === pod.container);
    this.restartCounts.set(pod.uid, container?.restartCount ?? 0);
    // A pod with the same name but another uid is a replacement, not ours.
    return podRunState(current?.metadata?.uid === pod.uid || !current?.metadata?.uid ? current : undefined);
  }

  restarts(pod: PodRef): number {
    return this.restartCounts.get(pod.uid) ?? 0;
  }

  /** A watch on this one pod from the version state() read: it starts, the stream opens at once. */
  async changed(pod: PodRef, opts: { signal: AbortSignal; maxWaitMs: number }): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    await this.changes.nextPaced([{ path, fieldSelector: `metadata.name=${pod.name}`, resourceVersion: this.versions.get(pod.uid) }], opts);
  }

  async *lines(pod: PodRef, opts: { follow: boolean; sinceTime?: string; previous?: boolean; signal: AbortSignal }): AsyncGenerator<string> {
    // Log pipes the response body into `sink` but never tells it about errors or aborts, so the
    // source's close (normal or not) and our own abort both end the sink: the reader then stops.
    const sink = new PassThrough();
    const endSink = () => {
      if (!sink.writableEnded) sink.end();
    };
    sink.on('pipe', (source: Readable) => {
      source.once('error', endSink);
      source.once('close', endSink);
    });
    opts.signal.addEventListener('abort', endSink, { once: true });
    let request: AbortController | undefined;
    try {
      request = await this.log.log(this.namespace, pod.name, pod.container, sink, {
        follow: opts.follow,
        timestamps: true,
        sinceTime: opts.sinceTime,
        previous: opts.previous,
      }).catch((err: unknown) => {
        const status = apiStatusOf(err);
        // Not allowed stays not allowed: say so, instead of a silent empty log (or endless retries).
        if (status === 401 || status === 403) {
          throw new SkiffError('FORBIDDEN', `the cluster refused to show the logs of pod ${pod.name} (HTTP ${status})`, {
            hint: `the kubeconfig's user needs 'get' on pods/log in namespace '${this.namespace}'`,
            cause: err,
          });
        }
        throw err;
      });
      if (opts.signal.aborted) return;
      yield* newlineSeparated(sink);
    } finally {
      opts.signal.removeEventListener('abort', endSink);
      request?.abort();
      sink.destroy();
    }
  }
}
