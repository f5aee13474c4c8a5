// Job status and descriptions from Kubernetes objects alone (labels, the spec annotation, pods),
// so any terminal or editor sees the same jobs. Pure: callers fetch; jobs.ts does the I/O.
import type { JobMlflow } from '../addons/mlflow.js';
import type { CoreV1Event, V1Deployment, V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobKind, JobPhase, JobPodStatus, JobStatus } from '../types.js';
import type { JobSpec } from '../spec/job-spec.js';
import { ANNOTATIONS, LABELS, specFromAnnotations } from '../manifests/labels.js';
import { jobPhase, rankOf, servingPhase } from './reasons.js';
import { keptPodsGone, type KeptPod } from '../workspace/kept-logs.js';

/** A job as Kubernetes holds it: its owner object (Job or Deployment) and its pods. */
export type JobObjects = { kind: 'training'; owner: V1Job; pods: V1Pod[] } | { kind: 'serving'; owner: V1Deployment; pods: V1Pod[] };

export interface PodDescription extends JobPodStatus {
  ready: boolean;
  restarts: number;
  image?: string;
  startedAt?: string;
  finishedAt?: string;
  /** The GPUs its DRA claims hold (a cluster that hands GPUs out through DRA), by device name. */
  gpus?: string[];
}

export interface JobEvent {
  time?: string;
  type: string;
  reason: string;
  /** "Kind/name" of the object the event is about. */
  object: string;
  message: string;
  count: number;
}

export interface JobDescription extends JobStatus {
  /** The validated spec the job was submitted with (absent for objects edited by hand). */
  spec?: JobSpec;
  pods: PodDescription[];
  /** Recent events about the job's objects, oldest first. */
  events: JobEvent[];
  /** Its MLflow experiment and the runs its latest run folder started, on a local cluster with MLflow. */
  mlflow?: JobMlflow;
}

/** ISO text for the Date or string client-node hands out for timestamps. */
export function isoTime(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  return typeof v === 'string' && v ? v : undefined;
}

/**
 * Pods that belong to this incarnation of the job. A resubmitted training job reuses the name, so
 * pods of the replaced Job (still terminating) are told apart by their owner's uid.
 */
export function ownedPods(objects: Pick<JobObjects, 'kind' | 'owner'>, pods: V1Pod[]): V1Pod[] {
  const uid = objects.owner.metadata?.uid;
  if (objects.kind !== 'training' || !uid) return pods;
  return pods.filter((p) => {
    const owners = p.metadata?.ownerReferences ?? [];
    return owners.length === 0 || owners.some((o) => o.uid === uid);
  });
}

export function phaseOf(objects: JobObjects): JobPhase {
  return objects.kind === 'training' ? jobPhase(objects.owner, objects.pods) : servingPhase(objects.owner, objects.pods);
}

export function specOf(objects: JobObjects): JobSpec | undefined {
  return specFromAnnotations(objects.owner.metadata?.annotations);
}

function mainContainerStatus(pod: V1Pod) {
  return pod.status?.containerStatuses?.[0];
}

/** Kubernetes' own short word for what a pod is doing, e.g. ContainerCreating, OOMKilled, Terminating. */
function podReason(pod: V1Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') return 'Terminating';
  const s = mainContainerStatus(pod);
  const reason = s?.state?.waiting?.reason ?? s?.state?.terminated?.reason ?? pod.status?.reason;
  if (reason) return reason;
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.reason;
}

function exitCodeOf(pod: V1Pod): number | undefined {
  const s = mainContainerStatus(pod);
  return s?.state?.terminated?.exitCode ?? s?.lastState?.terminated?.exitCode;
}

export function podStatus(pod: V1Pod, siblings: V1Pod[]): JobPodStatus {
  const status: JobPodStatus = { name: pod.metadata?.name ?? '', rank: rankOf(pod, siblings), phase: pod.status?.phase ?? 'Unknown' };
  if (pod.spec?.nodeName) status.node = pod.spec.nodeName;
  const exitCode = exitCodeOf(pod);
  if (exitCode !== undefined) status.exitCode = exitCode;
  const reason = podReason(pod);
  if (reason) status.reason = reason;
  return status;
}

export function podDescription(pod: V1Pod, siblings: V1Pod[]): PodDescription {
  const s = mainContainerStatus(pod);
  const description: PodDescription = { ...podStatus(pod, siblings), ready: s?.ready ?? false, restarts: s?.restartCount ?? 0 };
  const image = s?.image ?? pod.spec?.containers?.[0]?.image;
  if (image) description.image = image;
  const startedAt = isoTime(s?.state?.running?.startedAt ?? s?.state?.terminated?.startedAt);
  if (startedAt) description.startedAt = startedAt;
  const finishedAt = isoTime(s?.state?.terminated?.finishedAt);
  if (finishedAt) description.finishedAt = finishedAt;
  return description;
}

const byRankThenName = (a: JobPodStatus, b: JobPodStatus) => a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The status of one job; `reason` comes from the caller (it may need logs or node capacity). */
export function jobStatusOf(objects: JobObjects, reason?: string): JobStatus {
  const spec = specOf(objects);
  const kind: JobKind = objects.kind;
  const workers =
    objects.kind === 'training'
      ? ((spec?.kind === 'training' ? spec.workers : undefined) ?? objects.owner.spec?.completions ?? 1)
      : ((spec?.kind === 'serving' ? spec.replicas : undefined) ?? objects.owner.spec?.replicas ?? 1);
  const status: JobStatus = {
    name: objects.owner.metadata?.name ?? '',
    namespace: objects.owner.metadata?.namespace ?? '',
    kind,
    // Typed list items come without their kind; operator objects keep theirs.
    workload: objects.owner.kind ?? (kind === 'training' ? 'Job' : 'Deployment'),
    phase: phaseOf(objects),
    workers,
    script: spec?.script ?? '',
    pods: objects.pods.map((p) => podStatus(p, objects.pods)).sort(byRankThenName),
  };
  if (reason) status.reason = reason;
  const createdAt = isoTime(objects.owner.metadata?.creationTimestamp);
  if (createdAt) status.createdAt = createdAt;
  const workDir = objects.owner.metadata?.annotations?.[ANNOTATIONS.workDir];
  if (workDir) status.workDir = workDir;
  return status;
}

/**
 * A pod the cluster no longer has, as it recorded itself: phase "Deleted", and why it ended. Its
 * logs are still there (`skiff logs`).
 */
export function keptPodDescription(pod: KeptPod): PodDescription {
  const description: PodDescription = { name: pod.pod, rank: pod.rank ?? 0, phase: 'Deleted', ready: false, restarts: 0 };
  if (pod.node) description.node = pod.node;
  if (pod.ended) description.exitCode = pod.ended.exitCode;
  description.reason = pod.stoppedBy ? `${pod.stoppedBy.signal} from outside` : pod.ended ? (pod.ended.exitCode === 0 ? 'Completed' : 'Error') : 'Lost';
  if (pod.startedAt) description.startedAt = pod.startedAt;
  if (pod.ended) description.finishedAt = pod.ended.at;
  return description;
}

export function jobDescriptionOf(objects: JobObjects, events: CoreV1Event[], reason?: string, kept: KeptPod[] = []): JobDescription {
  const gone = keptPodsGone(
    kept,
    objects.pods.flatMap((p) => [p.metadata?.uid, p.metadata?.name]),
  );
  const description: JobDescription = {
    ...jobStatusOf(objects, reason),
    pods: [...objects.pods.map((p) => podDescription(p, objects.pods)), ...gone.map(keptPodDescription)].sort(byRankThenName),
    events: jobEvents(objects, events),
  };
  const spec = specOf(objects);
  if (spec) description.spec = spec;
  return description;
}

const MAX_EVENTS = 30;

/** Events about the owner, its pods, their ReplicaSets and the job's Service and ConfigMaps. */
export function jobEvents(objects: JobObjects, events: CoreV1Event[]): JobEvent[] {
  const name = objects.owner.metadata?.name ?? '';
  const names = new Set([name, `${name}-code`, `${name}-lib`]);
  for (const pod of objects.pods) {
    if (pod.metadata?.name) names.add(pod.metadata.name);
    for (const owner of pod.metadata?.ownerReferences ?? []) names.add(owner.name);
  }
  const podPrefix = `${name}-`; // pods already gone (replaced replicas) still explain what happened
  return events
    .filter((e) => {
      const n = e.involvedObject?.name ?? '';
      return names.has(n) || (e.involvedObject?.kind === 'Pod' && n.startsWith(podPrefix) && isPodOfJob(n, name, objects.kind));
    })
    .map((e) => {
      const event: JobEvent = {
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        object: `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
        message: (e.message ?? '').trim(),
        count: e.series?.count ?? e.count ?? 1,
      };
      const time = isoTime(e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp);
      if (time) event.time = time;
      return event;
    })
    .sort((a, b) => ((a.time ?? '') < (b.time ?? '') ? -1 : (a.time ?? '') > (b.time ?? '') ? 1 : 0))
    .slice(-MAX_EVENTS);
}

/** Pod names the controllers give: `<job>-<index>-<rand5>` (Indexed Job) or `<deploy>-<rshash>-<rand5>`. */
function isPodOfJob(podName: string, job: string, kind: JobKind): boolean {
  const rest = podName.slice(job.length + 1);
  return kind === 'training' ? /^\d+-[a-z0-9]{5}$/.test(rest) : /^[a-z0-9]{6,10}-[a-z0-9]{5}$/.test(rest);
}

/** Group pods by the job label (one list call serves every job). */
export function podsByJob(pods: V1Pod[]): Map<string, V1Pod[]> {
  const out = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const job = pod.metadata?.labels?.[LABELS.job];
    if (!job) continue;
    const list = out.get(job) ?? [];
    list.push(pod);
    out.set(job, list);
  }
  return out;
}
