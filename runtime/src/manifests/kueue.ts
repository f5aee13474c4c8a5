// Kueue's queues on a local cluster (`skiff up --with kueue`), and what makes a training job wait
// in them: one ClusterQueue that holds the worker nodes' capacity, a LocalQueue per namespace, and
// the queue label on the job, created suspended. Kueue admits a job's ranks all at once or not at
// all (its Workload covers every pod of the Indexed Job), so five jobs that each need every GPU wait
// Queued, in order, instead of starting some ranks and holding GPUs Pending.
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Job } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { DRA_GPU_CLASS } from './dra.js';
import { LABELS, MANAGED_BY } from './labels.js';

export const KUEUE_VERSION = 'v0.17.0';
export const KUEUE_IMAGE = `skiff.local/kueue:${KUEUE_VERSION}`;
/** Bumped when runtime/images/build-kueue.sh renders the manifests differently (versions.env). */
export const KUEUE_RECIPE = 1;
export const KUEUE_NAMESPACE = 'kueue-system';
export const KUEUE_CONTROLLER = 'kueue-controller-manager';
export const KUEUE_API = 'kueue.x-k8s.io/v1beta2';
/** Kueue's label naming the LocalQueue a job goes through. */
export const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** Skiff's ClusterQueue, and the LocalQueue of that name in each namespace jobs run in. */
export const QUEUE_NAME = 'skiff';
const FLAVOR = 'skiff-nodes';

/** What the queue may hand out at once: the worker nodes' allocatable CPU, memory and GPUs. */
export interface QueueQuota {
  cpu: string;
  memory: string;
  gpus: number;
}

export type KueueObject = KubernetesObject & { spec?: Record<string, unknown> };

const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { [LABELS.managedBy]: MANAGED_BY } });

const KUEUE_CONFIG = 'kueue-manager-config';
const KUEUE_CONFIG_KEY = 'controller_manager_config.yaml';

/**
 * Kueue's own manifests, made to count GPUs claimed through DRA (`skiff up --dra`) as nvidia.com/gpu:
 * its DRA support (alpha, behind a feature gate) maps Skiff's DeviceClass to that resource, so the
 * queue's one GPU quota holds jobs whichever way the cluster hands GPUs out. It counts claims made
 * from a template (whole GPUs per rank); a claim that ranks share is not counted.
 */
export function withDraGpuCounting(objects: KubernetesObject[]): KubernetesObject[] {
  return objects.map((obj) => {
    if (obj.kind === 'ConfigMap' && obj.metadata?.name === KUEUE_CONFIG) {
      const map = obj as V1ConfigMap;
      const config = (parse(map.data?.[KUEUE_CONFIG_KEY] ?? '') ?? {}) as Record<string, unknown>;
      const resources = { ...(config.resources as object), deviceClassMappings: [{ name: 'nvidia.com/gpu', deviceClassNames: [DRA_GPU_CLASS] }] };
      return { ...map, data: { ...map.data, [KUEUE_CONFIG_KEY]: stringify({ ...config, resources }) } } as KubernetesObject;
    }
    if (obj.kind === 'Deployment' && obj.metadata?.name === KUEUE_CONTROLLER) {
      const deployment = structuredClone(obj) as V1Deployment;
      const manager = deployment.spec!.template.spec!.containers[0];
      manager.args = [...(manager.args ?? []), '--feature-gates=DynamicResourceAllocation=true'];
      return deployment as KubernetesObject;
    }
    return obj;
  });
}

/** The flavor (every node alike) and the ClusterQueue, first come first served (StrictFIFO). */
export function clusterQueue(quota: QueueQuota): KueueObject[] {
  return [
    { apiVersion: KUEUE_API, kind: 'ResourceFlavor', metadata: meta(FLAVOR), spec: {} },
    {
      apiVersion: KUEUE_API,
      kind: 'ClusterQueue',
      metadata: meta(QUEUE_NAME),
      spec: {
        namespaceSelector: {},
        // Jobs run in the order they came: a big job at the head is not overtaken by small ones.
        queueingStrategy: 'StrictFIFO',
        resourceGroups: [
          {
            coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'],
            flavors: [
              {
                name: FLAVOR,
                resources: [
                  { name: 'cpu', nominalQuota: quota.cpu },
                  { name: 'memory', nominalQuota: quota.memory },
                  { name: 'nvidia.com/gpu', nominalQuota: String(quota.gpus) },
                ],
              },
            ],
          },
        ],
      },
    },
  ];
}

/** The quota a ClusterQueue of Skiff's holds (clusterQueue read back), or undefined when it is not shaped so. */
export function quotaOf(queue: KueueObject): QueueQuota | undefined {
  const groups = queue.spec?.resourceGroups as { flavors?: { name: string; resources?: { name: string; nominalQuota?: unknown }[] }[] }[] | undefined;
  const resources = groups?.[0]?.flavors?.find((f) => f.name === FLAVOR)?.resources ?? [];
  const quota = (name: string) => resources.find((r) => r.name === name)?.nominalQuota;
  const [cpu, memory, gpus] = [quota('cpu'), quota('memory'), quota('nvidia.com/gpu')];
  if (cpu === undefined || memory === undefined || gpus === undefined) return undefined;
  return { cpu: String(cpu), memory: String(memory), gpus: Number(gpus) };
}

export function localQueue(namespace: string): KueueObject {
  return { apiVersion: KUEUE_API, kind: 'LocalQueue', metadata: meta(QUEUE_NAME, namespace), spec: { clusterQueue: QUEUE_NAME } };
}

/** The job as it goes through the queue: labelled, and created suspended until Kueue admits it. */
export function queuedJob(job: V1Job, queue: string = QUEUE_NAME): V1Job {
  return {
    ...job,
    metadata: { ...job.metadata, labels: { ...job.metadata?.labels, [QUEUE_LABEL]: queue } },
    spec: { ...job.spec!, suspend: true },
  };
}
