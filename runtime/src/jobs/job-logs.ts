// A job's logs from the cluster: its pods found by the job label (and, on a local cluster, the
// pods that kept their logs on the host after they left it), each read by k8s/logs.ts, merged by
// k8s/log-merge.ts.
import path from 'node:path';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { LogLine } from '../types.js';
import { jobNotFound, readJobObjects } from './jobs.js';
import { jobPhase, rankOf } from './reasons.js';
import { GPU_RESOURCE } from '../manifests/gpu.js';
import { ANNOTATIONS, jobSelector } from '../manifests/labels.js';
import { runLogsDir } from '../workspace/layout.js';
import { KEPT_LOG_SUFFIX, keptPodsGone, readKeptPods } from '../workspace/kept-logs.js';
import { contextPhrase, kubeClients, type KubeClients } from '../k8s/client.js';
import { ChangeWatch } from '../k8s/watch.js';
import { outageNotices, throughOutages, type OutageOptions } from '../k8s/outage.js';
import { KubePodLogs } from '../k8s/logs.js';
import { jobLogLines, type JobPodSource, type LogStreamOptions, type PodRef } from '../k8s/log-merge.js';

/** Lines of every pod of a job, each tagged with its rank (see jobLogLines for when it ends). */
export function streamJobLogs(kc: KubeConfig, namespace: string, job: string, opts: LogStreamOptions): AsyncIterable<LogLine> {
  const outage = { signal: opts.signal, onOutage: opts.onNotice && outageNotices(opts.where ?? contextPhrase(kc), opts.onNotice) };
  return jobLogLines(new KubeJobPods(kc, namespace, job, outage), new KubePodLogs(kc, namespace, outage), opts);
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
    /** How waits for an API server that went away end and are told (see throughOutages). */
    private readonly outage: Pick<OutageOptions, 'signal' | 'onOutage'> = {},
  ) {
    this.k = kubeClients(kc);
    this.changes = new ChangeWatch(kc);
  }

  async list(): Promise<{ pods: PodRef[]; finished: boolean }> {
    const snapshot = await throughOutages(() => readJobObjects(this.k, this.namespace, this.job), { ...this.outage, answeredBefore: this.seen });
    if (!snapshot) {
      if (!this.seen) throw jobNotFound(this.job, this.namespace);
      return { pods: [], finished: true };
    }
    this.seen = true;
    this.versions = snapshot.versions;
    const { objects } = snapshot;
    const finished =
      objects.kind === 'training' ? ['Succeeded', 'Failed', 'Cancelled'].includes(jobPhase(objects.owner, objects.pods)) : objects.owner.metadata?.deletionTimestamp !== undefined;
    const workDir = objects.owner.metadata?.annotations?.[ANNOTATIONS.workDir];
    const logsDir = workDir ? runLogsDir(workDir) : undefined;
    const pods = objects.pods.map((p) => podRef(p, objects.pods, logsDir));
    return { pods: logsDir ? [...pods, ...(await keptOnly(logsDir, pods))] : pods, finished };
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

/** Pods that kept their logs but are no longer in the cluster (deleted, or taken by the Job controller). */
async function keptOnly(logsDir: string, inCluster: PodRef[]): Promise<PodRef[]> {
  return keptPodsGone(
    await readKeptPods(logsDir),
    inCluster.flatMap((p) => [p.uid, p.name]),
  ).map((k) => ({ name: k.pod, uid: k.uid ?? k.pod, rank: k.rank ?? 0, container: '', ...(k.node ? { node: k.node } : {}), keptLog: k.logFile }));
}

/** Whether the pod runs under the launcher that keeps its output (a run-folder job's pods do; sessions do not). */
const keepsItsLog = (pod: V1Pod) => pod.spec?.containers?.[0]?.env?.some((e) => e.name === 'SKIFF_LOG_DIR') ?? false;

export function podRef(pod: V1Pod, siblings: V1Pod[], logsDir?: string): PodRef {
  const ref: PodRef = {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? pod.metadata?.name ?? '',
    rank: rankOf(pod, siblings),
    container: pod.spec?.containers?.[0]?.name ?? '',
  };
  if (pod.spec?.nodeName) ref.node = pod.spec.nodeName;
  const gpus = Number(pod.spec?.containers?.[0]?.resources?.limits?.[GPU_RESOURCE] ?? 0);
  if (gpus > 0) ref.gpus = gpus;
  if (logsDir && keepsItsLog(pod)) ref.keptLog = path.join(logsDir, ref.name + KEPT_LOG_SUFFIX);
  return ref;
}
