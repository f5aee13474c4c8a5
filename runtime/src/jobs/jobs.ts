// List, inspect, cancel and wait for jobs. Everything is read back from the cluster (labels and the
// spec annotation), never from local state, so a second terminal or an editor sees the same jobs.
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import type { JobPhase, JobStatus } from '../types.js';
import { SkiffError } from '../errors.js';
import { listWorkloads, queuedReason, type Workload } from './queue.js';
import { DEFAULT_NAMESPACE } from '../spec/job-spec.js';
import { jobSelector, managedSelector } from '../manifests/labels.js';
import { contextPhrase, deleteIfPresent, deleteOptionsFor, kubeClients, type KubeClients } from '../k8s/client.js';
import { ChangeWatch, type WatchTarget } from '../k8s/watch.js';
import { sleep } from '../k8s/streams.js';
import { outageNotices, throughOutages } from '../k8s/outage.js';
import { explainFailure, explainKeptFailure, explainPending, firstKeptFailure, gpusOf, primaryFailedPod, rankOf } from './reasons.js';
import { ANNOTATIONS } from '../manifests/labels.js';
import { runLogsDir } from '../workspace/layout.js';
import { keptTail, readKeptPods, type KeptPod } from '../workspace/kept-logs.js';
import { jobDescriptionOf, jobStatusOf, ownedPods, phaseOf, podsByJob, type JobDescription, type JobObjects } from './status.js';
import { claimsFor, withClaimedGpus } from './dra-gpus.js';
import {
  INFERENCE_SERVICE,
  PYTORCH_JOB,
  deploymentViewOfInferenceService,
  isMadeByOperator,
  listOperatorObjects,
  jobViewOfPyTorchJob,
  operatorPath,
  type InferenceService,
  type OperatorKind,
  type PyTorchJob,
} from './operator-kinds.js';

export type { JobDescription, JobEvent, PodDescription } from './status.js';

const TAIL_LINES = 10;
/** Longest single watch; the loop re-reads and watches again, which also covers silent drops. */
const MAX_WATCH_MS = 60_000;
/** How long a job-list watch lets a burst of pod events settle before it re-reads. */
const WATCH_SETTLE_MS = 200;

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every status read while waiting (e.g. to print why a job is still Pending). */
  onStatus?: (status: JobStatus) => void;
  /** Told when the API server goes away while waiting, and when it is back (see outageNotices). */
  onNotice?: (message: string) => void;
}

export function jobNotFound(name: string, namespace: string): SkiffError {
  return new SkiffError('JOB_NOT_FOUND', `no job named '${name}' in namespace '${namespace}'`, { hint: 'see `skiff jobs`' });
}

/** A job's objects plus the list resourceVersions a watch can start from (operator kinds only where served). */
export interface Snapshot {
  objects: JobObjects;
  versions: Versions;
}

interface Versions {
  jobs?: string;
  deployments?: string;
  pods?: string;
  pytorchJobs?: string;
  inferenceServices?: string;
}

export class Jobs {
  readonly namespace: string;
  private readonly k: KubeClients;
  private readonly changes: ChangeWatch;

  /** `where`: the cluster as notices name it ("cluster 'skiff'"); default: the kubeconfig's context. */
  constructor(
    kc: KubeConfig,
    namespace: string = DEFAULT_NAMESPACE,
    private readonly where = contextPhrase(kc),
  ) {
    this.namespace = namespace;
    this.k = kubeClients(kc);
    this.changes = new ChangeWatch(kc);
  }

  /** Every Skiff job in the namespace, newest first. */
  async list(): Promise<JobStatus[]> {
    return (await this.listWithVersions()).statuses;
  }

  /**
   * The whole job list now, and again after every change to a Skiff job, deployment or pod, until
   * the signal fires. Lists that did not change (a pod event that moves no status) are skipped.
   */
  async *watch(opts: { signal?: AbortSignal } = {}): AsyncGenerator<JobStatus[]> {
    let previous: string | undefined;
    while (!opts.signal?.aborted) {
      const { statuses, versions } = await throughOutages(() => this.listWithVersions(), { signal: opts.signal, answeredBefore: previous !== undefined });
      const key = JSON.stringify(statuses);
      if (key !== previous) {
        previous = key;
        yield statuses;
      }
      const outcome = await this.changes.nextPaced(this.watchTargets(managedSelector(), versions), { signal: opts.signal, maxWaitMs: MAX_WATCH_MS });
      if (outcome === 'aborted') return;
      // Pods change in bursts (scheduled, pulled, started): one re-read covers a burst.
      if (outcome === 'changed') await sleep(WATCH_SETTLE_MS, opts.signal);
    }
  }

  private async listWithVersions(): Promise<{ statuses: JobStatus[]; versions: Snapshot['versions'] }> {
    const { owners, pods, versions } = await readOwners(this.k, this.namespace, managedSelector());
    const grouped = podsByJob(pods);
    const all = owners.map((o) => ({ ...o, pods: ownedPods(o, grouped.get(o.owner.metadata?.name ?? '') ?? []) }) as JobObjects);
    const context = this.reasonContext();
    const statuses = await Promise.all(all.map(async (o) => jobStatusOf(o, await this.reasonFor(o, context))));
    statuses.sort((a, b) => ((b.createdAt ?? '') < (a.createdAt ?? '') ? -1 : (b.createdAt ?? '') > (a.createdAt ?? '') ? 1 : 0));
    return { statuses, versions };
  }

  async get(name: string): Promise<JobStatus> {
    const snapshot = await this.snapshot(name);
    if (!snapshot) throw jobNotFound(name, this.namespace);
    return this.statusOf(snapshot.objects);
  }

  /** Status plus per-pod details, recent events and (for Pending/Failed) the plain-words reason. */
  async describe(name: string): Promise<JobDescription> {
    const snapshot = await this.snapshot(name);
    if (!snapshot) throw jobNotFound(name, this.namespace);
    const context = this.reasonContext();
    const [events, reason, kept, claims] = await Promise.all([
      this.k.core.listNamespacedEvent({ namespace: this.namespace }),
      this.reasonFor(snapshot.objects, context),
      context.kept(snapshot.objects),
      claimsFor(this.k, this.namespace, snapshot.objects.pods),
    ]);
    return withClaimedGpus(jobDescriptionOf(snapshot.objects, events.items, reason, kept), snapshot.objects.pods, claims);
  }

  /**
   * Deletes the job's objects, and only objects that carry Skiff's labels for this job: a Service,
   * ConfigMap or Secret that merely shares its name (kube-dns, a user's own) is never touched. Nothing is
   * deleted when no job of that name exists. The run folder with its outputs stays.
   */
  async cancel(name: string): Promise<void> {
    const namespace = this.namespace;
    const labelSelector = `${jobSelector(name)},${managedSelector()}`;
    const server = this.k.kc.getCurrentCluster()?.server ?? '';
    const [jobs, deployments, services, configMaps, secrets, pytorchJobs, inferenceServices] = await Promise.all([
      this.k.batch.listNamespacedJob({ namespace, labelSelector }),
      this.k.apps.listNamespacedDeployment({ namespace, labelSelector }),
      this.k.core.listNamespacedService({ namespace, labelSelector }),
      this.k.core.listNamespacedConfigMap({ namespace, labelSelector }),
      this.k.core.listNamespacedSecret({ namespace, labelSelector }),
      listOperatorObjects<PyTorchJob>(this.k.custom, PYTORCH_JOB, namespace, labelSelector, server),
      listOperatorObjects<InferenceService>(this.k.custom, INFERENCE_SERVICE, namespace, labelSelector, server),
    ]);
    const named = <T extends { metadata?: { name?: string } }>(items: T[] | undefined) => (items ?? []).filter((o) => o.metadata?.name === name);
    const owners = [...named(jobs.items), ...named(deployments.items), ...named(pytorchJobs?.items), ...named(inferenceServices?.items)];
    if (owners.length === 0) throw jobNotFound(name, namespace);
    const propagationPolicy = 'Background';
    // An object replaced since it was listed (a resubmit) is not the one to delete.
    const body = (o: KubernetesObject) => deleteOptionsFor(o, propagationPolicy);
    const operatorDelete = (kind: OperatorKind, o: KubernetesObject) =>
      this.k.custom.deleteNamespacedCustomObject({
        group: kind.group,
        version: kind.version,
        namespace,
        plural: kind.plural,
        name: o.metadata!.name!,
        propagationPolicy,
        body: body(o),
      });
    await Promise.all([
      ...named(jobs.items).map((o) => deleteIfPresent(this.k.batch.deleteNamespacedJob({ name, namespace, propagationPolicy, body: body(o) }))),
      ...named(deployments.items).map((o) => deleteIfPresent(this.k.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy, body: body(o) }))),
      ...named(pytorchJobs?.items).map((o) => deleteIfPresent(operatorDelete(PYTORCH_JOB, o))),
      ...named(inferenceServices?.items).map((o) => deleteIfPresent(operatorDelete(INFERENCE_SERVICE, o))),
      ...services.items.map((o) => deleteIfPresent(this.k.core.deleteNamespacedService({ name: o.metadata!.name!, namespace, body: body(o) }))),
      ...configMaps.items.map((o) => deleteIfPresent(this.k.core.deleteNamespacedConfigMap({ name: o.metadata!.name!, namespace, body: body(o) }))),
      ...secrets.items.map((o) => deleteIfPresent(this.k.core.deleteNamespacedSecret({ name: o.metadata!.name!, namespace, body: body(o) }))),
    ]);
  }

  /**
   * Resolves with the first status whose phase is in `phases`. Waits on watches of the job's objects
   * and pods; each change (or dropped watch) triggers one fresh read, so nothing is missed. A job
   * deleted while waiting counts as Cancelled.
   */
  async waitFor(name: string, phases: JobPhase[], opts: WaitOptions = {}): Promise<JobStatus> {
    const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
    const onOutage = opts.onNotice && outageNotices(this.where, opts.onNotice);
    let last: JobStatus | undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      // A follower rides out an API server that restarts under it (see throughOutages).
      const snapshot = await throughOutages(() => this.snapshot(name), { signal: opts.signal, answeredBefore: last !== undefined, onOutage });
      if (!snapshot) {
        if (!last) throw jobNotFound(name, this.namespace);
        const cancelled: JobStatus = { ...last, phase: 'Cancelled', reason: 'the job was deleted' };
        opts.onStatus?.(cancelled);
        if (phases.includes('Cancelled')) return cancelled;
        throw new SkiffError('JOB_NOT_FOUND', `job '${name}' was deleted while waiting for it`, { hint: 'see `skiff jobs`' });
      }
      last = await throughOutages(() => this.statusOf(snapshot.objects), { signal: opts.signal, answeredBefore: true, onOutage });
      opts.onStatus?.(last);
      if (phases.includes(last.phase)) return last;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new SkiffError('TIMEOUT', `job '${name}' is still ${last.phase} after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`, {
          hint: last.reason ?? `see \`skiff describe ${name}\``,
        });
      }
      await this.changes.nextPaced(this.watchTargets(jobSelector(name), snapshot.versions), { signal: opts.signal, maxWaitMs: Math.min(remaining, MAX_WATCH_MS) });
      opts.signal?.throwIfAborted();
    }
  }

  private watchTargets(labelSelector: string, versions: Snapshot['versions']): WatchTarget[] {
    const ns = encodeURIComponent(this.namespace);
    return [
      { path: `/apis/batch/v1/namespaces/${ns}/jobs`, labelSelector, resourceVersion: versions.jobs },
      { path: `/apis/apps/v1/namespaces/${ns}/deployments`, labelSelector, resourceVersion: versions.deployments },
      { path: `/api/v1/namespaces/${ns}/pods`, labelSelector, resourceVersion: versions.pods },
      // Operator kinds only where the cluster serves them (their list answered).
      ...(versions.pytorchJobs !== undefined ? [{ path: operatorPath(PYTORCH_JOB, this.namespace), labelSelector, resourceVersion: versions.pytorchJobs }] : []),
      ...(versions.inferenceServices !== undefined ? [{ path: operatorPath(INFERENCE_SERVICE, this.namespace), labelSelector, resourceVersion: versions.inferenceServices }] : []),
    ];
  }

  private snapshot(name: string): Promise<Snapshot | undefined> {
    return readJobObjects(this.k, this.namespace, name);
  }

  private statusOf(objects: JobObjects): Promise<JobStatus> {
    return this.reasonFor(objects, this.reasonContext()).then((reason) => jobStatusOf(objects, reason));
  }

  /**
   * Node capacity and every pod's requests, read at most once per call and only when a pod is
   * unschedulable; Kueue's Workloads likewise, only when a job is queued.
   */
  private reasonContext(): ReasonContext {
    let cluster: Promise<{ nodes: V1Node[]; pods: V1Pod[] }> | undefined;
    let kept: Promise<KeptPod[]> | undefined;
    let workloads: Promise<Workload[]> | undefined;
    return {
      kept: (objects) => (kept ??= keptPodsOf(objects)),
      workloads: () => (workloads ??= listWorkloads(this.k.kc)),
      cluster: () =>
        (cluster ??= Promise.all([this.k.core.listNode(), this.k.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })]).then(
          ([nodes, pods]) => ({ nodes: nodes.items, pods: pods.items }),
        )),
      tail: (pod) => this.tailLog(pod),
    };
  }

  /** One plain sentence for Pending and Failed jobs (see reasons.ts); undefined otherwise. */
  private async reasonFor(objects: JobObjects, context: ReasonContext): Promise<string | undefined> {
    const phase = phaseOf(objects);
    const multi = objects.pods.length > 1;
    const prefix = (pod: V1Pod) => (multi ? `${objects.kind === 'training' ? 'rank' : 'replica'} ${rankOf(pod, objects.pods)}: ` : '');
    if (phase === 'Failed') {
      // What the pods kept on the host says which rank went first, even when its pod is deleted.
      const kept = objects.kind === 'training' ? await context.kept(objects) : [];
      const failedTails = new Map(await Promise.all(kept.filter((k) => k.ended && k.ended.exitCode !== 0).map(async (k) => [k, await keptTail(k.logFile, TAIL_LINES)] as const)));
      const first = firstKeptFailure(kept, objects.pods, (k) => failedTails.get(k) ?? []);
      if (first) {
        const live = objects.pods.find((p) => p.metadata?.uid === first.pod.uid);
        const fromCluster = live && first.how === 'exited' ? explainFailure(live, await context.tail(live)) : undefined;
        if (live && fromCluster) return prefix(live) + fromCluster;
        const ranks = Math.max(kept.length, (objects.kind === 'training' ? objects.owner.spec?.completions : undefined) ?? 1);
        const tail = failedTails.get(first.pod) ?? (await keptTail(first.pod.logFile, TAIL_LINES));
        const gpus = objects.kind === 'training' ? gpusOf(objects.owner.spec?.template.spec) : 0;
        return (ranks > 1 ? `rank ${first.pod.rank ?? 0}: ` : '') + explainKeptFailure(first, tail, gpus);
      }
      const pod = primaryFailedPod(objects.pods);
      if (!pod) return ownerFailureMessage(objects);
      const reason = explainFailure(pod, await context.tail(pod));
      return reason ? prefix(pod) + reason : ownerFailureMessage(objects);
    }
    if (phase === 'Queued' && objects.kind === 'training') return queuedReason(objects.owner, await context.workloads());
    if (phase === 'Pending') {
      const pending = objects.pods.filter((p) => (p.status?.phase ?? 'Pending') === 'Pending' && !p.metadata?.deletionTimestamp);
      for (const pod of pending.sort((a, b) => rankOf(a, objects.pods) - rankOf(b, objects.pods))) {
        const unschedulable = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False');
        const { nodes, pods } = unschedulable ? await context.cluster() : { nodes: [], pods: [] };
        const reason = explainPending(pod, nodes, pods);
        if (reason) return prefix(pod) + reason;
      }
    }
    return undefined;
  }

  /** The last lines the pod printed; the crashed instance's for a container that restarted. */
  private async tailLog(pod: V1Pod): Promise<string[]> {
    const status = pod.status?.containerStatuses?.[0];
    const previous = !status?.state?.terminated && status?.lastState?.terminated !== undefined;
    try {
      const text = await this.k.core.readNamespacedPodLog({
        name: pod.metadata?.name ?? '',
        namespace: this.namespace,
        container: pod.spec?.containers?.[0]?.name,
        tailLines: TAIL_LINES,
        previous,
      });
      return String(text ?? '').split('\n');
    } catch {
      return []; // the kubelet may already have removed them; the exit code still explains a lot
    }
  }
}

interface ReasonContext {
  cluster(): Promise<{ nodes: V1Node[]; pods: V1Pod[] }>;
  /** Kueue's Workloads, for the place and reason of queued jobs. */
  workloads(): Promise<Workload[]>;
  /** What the job's pods kept on the host (none for jobs outside a run folder). */
  kept(objects: JobObjects): Promise<KeptPod[]>;
  tail(pod: V1Pod): Promise<string[]>;
}

type Owner = Pick<JobObjects, 'kind' | 'owner'>;

function keptPodsOf(objects: JobObjects): Promise<KeptPod[]> {
  const workDir = objects.owner.metadata?.annotations?.[ANNOTATIONS.workDir];
  return workDir ? readKeptPods(runLogsDir(workDir)) : Promise.resolve([]);
}

/**
 * Every job owner the selector matches, as Job and Deployment views: Jobs, Deployments, and the
 * PyTorchJobs and InferenceServices of clusters that serve them (whose own Deployments are left
 * out: the job is the InferenceService). Plus the matching pods and the lists' versions.
 */
async function readOwners(k: KubeClients, namespace: string, labelSelector: string): Promise<{ owners: Owner[]; pods: V1Pod[]; versions: Versions }> {
  const server = k.kc.getCurrentCluster()?.server ?? '';
  const [jobs, deployments, pods, pytorchJobs, inferenceServices] = await Promise.all([
    k.batch.listNamespacedJob({ namespace, labelSelector }),
    k.apps.listNamespacedDeployment({ namespace, labelSelector }),
    k.core.listNamespacedPod({ namespace, labelSelector }),
    listOperatorObjects<PyTorchJob>(k.custom, PYTORCH_JOB, namespace, labelSelector, server),
    listOperatorObjects<InferenceService>(k.custom, INFERENCE_SERVICE, namespace, labelSelector, server),
  ]);
  const owners: Owner[] = [
    ...jobs.items.filter((j) => !isMadeByOperator(j)).map((owner): Owner => ({ kind: 'training', owner })),
    ...(pytorchJobs?.items ?? []).map((j): Owner => ({ kind: 'training', owner: jobViewOfPyTorchJob(j) })),
    ...deployments.items.filter((d) => !isMadeByOperator(d)).map((owner): Owner => ({ kind: 'serving', owner })),
    ...(inferenceServices?.items ?? []).map((s): Owner => ({ kind: 'serving', owner: deploymentViewOfInferenceService(s) })),
  ];
  const versions: Versions = {
    jobs: jobs.metadata?.resourceVersion,
    deployments: deployments.metadata?.resourceVersion,
    pods: pods.metadata?.resourceVersion,
    pytorchJobs: pytorchJobs?.resourceVersion,
    inferenceServices: inferenceServices?.resourceVersion,
  };
  return { owners, pods: pods.items, versions };
}

/** The job's owner and pods, or undefined when nothing of that name is a job. */
export async function readJobObjects(k: KubeClients, namespace: string, name: string): Promise<Snapshot | undefined> {
  const { owners, pods, versions } = await readOwners(k, namespace, jobSelector(name));
  const owner = newest(owners.filter((o) => o.owner.metadata?.name === name));
  if (!owner) return undefined;
  return { objects: { ...owner, pods: ownedPods(owner, pods) } as JobObjects, versions };
}

/** A resubmit under the other kind leaves both for a moment: the newest is the job. */
function newest(owners: Owner[]): Owner | undefined {
  const t = (o: Owner) => new Date(o.owner.metadata?.creationTimestamp ?? 0).getTime();
  return owners.reduce<Owner | undefined>((best, o) => (!best || t(o) > t(best) ? o : best), undefined);
}

/** When no pod is left to explain it, the controller's own condition message. */
function ownerFailureMessage(objects: JobObjects): string | undefined {
  const conditions: { type: string; status: string; message?: string; reason?: string }[] = objects.owner.status?.conditions ?? [];
  const failed =
    conditions.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True') ?? conditions.find((c) => c.type === 'Progressing' && c.status === 'False');
  return failed ? failed.message || failed.reason : undefined;
}
