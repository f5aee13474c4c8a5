// Jobs that an operator on the cluster runs for Skiff: Kubeflow Trainer's PyTorchJob (training) and
// KServe's InferenceService (serving). Promotion chooses these forms when the target serves their
// APIs. Here they are read back as the Job- and Deployment-shaped views the status code already
// understands, so `skiff --context … jobs/logs/describe` and the editors show them like any job.
import type { CustomObjectsApi, KubeConfig, KubernetesObject, V1Deployment, V1Job, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { apiStatusOf, kubeRequest } from '../k8s/client.js';

export interface OperatorKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const PYTORCH_JOB: OperatorKind = { group: 'kubeflow.org', version: 'v1', plural: 'pytorchjobs', kind: 'PyTorchJob' };
/** Kueue's queues, as discovery lists them on a promotion target. */
export const LOCAL_QUEUE: OperatorKind = { group: 'kueue.x-k8s.io', version: 'v1beta2', plural: 'localqueues', kind: 'LocalQueue' };
export const INFERENCE_SERVICE: OperatorKind = { group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices', kind: 'InferenceService' };

export const apiVersionOf = (k: OperatorKind) => `${k.group}/${k.version}`;

/** Labels Kubeflow's training operator puts on the pods it creates. */
export const KUBEFLOW_REPLICA_TYPE = 'training.kubeflow.org/replica-type';
export const KUBEFLOW_REPLICA_INDEX = 'training.kubeflow.org/replica-index';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PyTorchJob extends KubernetesObject {
  spec?: {
    runPolicy?: { backoffLimit?: number; cleanPodPolicy?: string; suspend?: boolean };
    pytorchReplicaSpecs?: Record<string, { replicas?: number; restartPolicy?: string; template?: V1PodTemplateSpec }>;
  };
  status?: { conditions?: Condition[]; replicaStatuses?: Record<string, { active?: number; succeeded?: number; failed?: number }> };
}

export interface InferenceService extends KubernetesObject {
  spec?: { predictor?: { minReplicas?: number; maxReplicas?: number } & Record<string, unknown> };
  status?: { conditions?: Condition[]; url?: string };
}

/**
 * The objects of one operator kind in a namespace, or undefined when the cluster does not serve
 * that API. `server` (the API server's URL) keys a short memory of "not served": every job read
 * lists these kinds, and on a cluster without the operator each list is a wasted 404. An operator
 * installed meanwhile shows within NOT_SERVED_MEMORY_MS.
 */
export async function listOperatorObjects<T extends KubernetesObject>(
  custom: CustomObjectsApi,
  kind: OperatorKind,
  namespace: string,
  labelSelector: string,
  server: string,
  now = Date.now(),
): Promise<{ items: T[]; resourceVersion?: string } | undefined> {
  const memoryKey = `${server} ${apiVersionOf(kind)}/${kind.plural}`;
  if ((notServedUntil.get(memoryKey) ?? 0) > now) return undefined;
  try {
    const list = (await custom.listNamespacedCustomObject({ group: kind.group, version: kind.version, namespace, plural: kind.plural, labelSelector })) as {
      items?: T[];
      metadata?: { resourceVersion?: string };
    };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
  } catch (err) {
    // Not served here, or not visible to this user: either way there are no such jobs to show.
    const status = apiStatusOf(err);
    if (status === 404) notServedUntil.set(memoryKey, now + NOT_SERVED_MEMORY_MS);
    if (status === 404 || status === 403) return undefined;
    throw err;
  }
}

export const NOT_SERVED_MEMORY_MS = 30_000;
const notServedUntil = new Map<string, number>();

/**
 * Whether the cluster serves the kind, from API discovery (open to every authenticated user, so a
 * user with few rights still gets an answer). Network errors propagate: the cluster is unreachable.
 */
export async function servesKind(kc: KubeConfig, kind: OperatorKind): Promise<boolean> {
  const res = await kubeRequest(kc, { path: `/apis/${kind.group}/${kind.version}`, headers: { Accept: 'application/json' }, timeoutMs: 15_000 });
  if (res.status !== 200) return false;
  const resources = (JSON.parse(res.body.toString('utf8')) as { resources?: { name: string }[] }).resources ?? [];
  return resources.some((r) => r.name === kind.plural);
}

const TRAINING_CONDITIONS: Record<string, string> = { Succeeded: 'Complete', Failed: 'Failed' };

/** A PyTorchJob as the Job view: one completion per replica, the operator's verdict as conditions. */
export function jobViewOfPyTorchJob(job: PyTorchJob): V1Job {
  const replicas = Object.values(job.spec?.pytorchReplicaSpecs ?? {});
  const statuses = Object.values(job.status?.replicaStatuses ?? {});
  const sum = (key: 'succeeded' | 'failed') => statuses.reduce((n, s) => n + (s[key] ?? 0), 0);
  const conditions = (job.status?.conditions ?? []).filter((c) => TRAINING_CONDITIONS[c.type]).map((c) => ({ ...c, type: TRAINING_CONDITIONS[c.type] }));
  return {
    apiVersion: job.apiVersion,
    kind: job.kind,
    metadata: job.metadata as V1ObjectMeta,
    spec: {
      completions: replicas.reduce((n, r) => n + (r.replicas ?? 1), 0),
      backoffLimit: job.spec?.runPolicy?.backoffLimit,
      template: replicas[0]?.template ?? {},
    },
    status: { conditions, succeeded: sum('succeeded'), failed: sum('failed') },
  };
}

/** An InferenceService as the Deployment view: its replicas, ready when KServe says so. */
export function deploymentViewOfInferenceService(isvc: InferenceService): V1Deployment {
  const replicas = isvc.spec?.predictor?.minReplicas ?? 1;
  const ready = isvc.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    apiVersion: isvc.apiVersion,
    kind: isvc.kind,
    metadata: isvc.metadata as V1ObjectMeta,
    spec: { replicas, selector: {}, template: {} },
    status: { readyReplicas: ready ? replicas : 0, conditions: [] },
  };
}

/** True for the Deployment KServe made for an InferenceService: the job is the InferenceService. */
export function isMadeByOperator(obj: KubernetesObject): boolean {
  return obj.metadata?.ownerReferences?.some((o) => o.kind === INFERENCE_SERVICE.kind || o.kind === PYTORCH_JOB.kind) ?? false;
}

/** The Service KServe makes in front of an InferenceService's predictor in raw mode. */
export function predictorServiceName(job: string): string {
  return `${job}-predictor`;
}

/** The plural path of a kind, for watches. */
export function operatorPath(kind: OperatorKind, namespace: string): string {
  return `/apis/${kind.group}/${kind.version}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
}
