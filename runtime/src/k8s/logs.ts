// Job logs from the cluster: client-node's Log (timestamps on, for exact resume) per pod, pods found
// by the job label. The merge, resume and end-of-stream rules live in log-merge.ts.
import { PassThrough, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LogLine } from '../types.js';
import { jobNotFound, readJobObjects } from '../jobs/jobs.js';
import { jobPhase, rankOf } from '../jobs/reasons.js';
import { kubeClients, orUndefined, type KubeClients } from './client.js';
import { jobLogLines, type JobPodSource, type LogStreamOptions, type PodLogSource, type PodRef, type PodRunState } from './log-merge.js';

export type { PodRef } from './log-merge.js';

/** Lines of every pod of a job, each tagged with its rank (see jobLogLines for when it ends). */
export function streamJobLogs(kc: KubeConfig, namespace: string, job: string, opts: LogStreamOptions): AsyncIterable<LogLine> {
  return jobLogLines(new KubeJobPods(kc, namespace, job), new KubePodLogs(kc, namespace), opts);
}

/** A job's pods from the cluster; finished once the Job has ended or the job was deleted. */
export class KubeJobPods implements JobPodSource {
  private readonly k: KubeClients;
  private seen = false;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly job: string,
  ) {
    this.k = kubeClients(kc);
  }

  async list(): Promise<{ pods: PodRef[]; finished: boolean }> {
    const snapshot = await readJobObjects(this.k, this.namespace, this.job);
    if (!snapshot) {
      if (!this.seen) throw jobNotFound(this.job, this.namespace);
      return { pods: [], finished: true };
    }
    this.seen = true;
    const { objects } = snapshot;
    const finished =
      objects.kind === 'training'
        ? ['Succeeded', 'Failed', 'Cancelled'].includes(jobPhase(objects.owner, objects.pods))
        : objects.owner.metadata?.deletionTimestamp !== undefined;
    return { pods: objects.pods.map((p) => podRef(p, objects.pods)), finished };
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

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.log = new Log(kc);
    this.k = kubeClients(kc);
  }

  async state(pod: PodRef): Promise<PodRunState> {
    const current = await orUndefined(this.k.core.readNamespacedPod({ name: pod.name, namespace: this.namespace }));
    // A pod with the same name but another uid is a replacement, not ours.
    return podRunState(current?.metadata?.uid === pod.uid || !current?.metadata?.uid ? current : undefined);
  }

  async *lines(pod: PodRef, opts: { follow: boolean; sinceTime?: string; signal: AbortSignal }): AsyncGenerator<string> {
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
      });
      if (opts.signal.aborted) return;
      yield* createInterface({ input: sink, crlfDelay: Infinity });
    } finally {
      opts.signal.removeEventListener('abort', endSink);
      request?.abort();
      sink.destroy();
    }
  }
}
