// A local job's objects remapped for a target cluster: the code baked into the image instead of
// mounted from ConfigMaps, the target's namespace, GPU resource name, node selectors, tolerations,
// runtime class and service type. Pure, so the diff a user reviews is exactly what gets applied.
import { QUEUE_LABEL } from '../manifests/kueue.js';
import type { KubernetesObject, V1Container, V1Deployment, V1Job, V1Namespace, V1PodSpec, V1ResourceRequirements, V1Service } from '@kubernetes/client-node';
import type { JobSpec } from '../spec/job-spec.js';
import { GPU_RESOURCE } from '../manifests/gpu.js';
import { ANNOTATIONS, LABELS, MANAGED_BY, specAnnotation } from '../manifests/labels.js';
import { VOLUMES } from '../manifests/code-bundle.js';
import type { RenderedJob } from '../jobs/submit.js';
import type { TargetProfile } from './target.js';
import { inferenceServiceOf, pytorchJobOf, type WorkloadForm } from './forms.js';

export const PROMOTED_FROM = 'skiff.dev/promoted-from';
export const SCRATCH_MOUNT = '/skiff/scratch';
const SCRATCH_VOLUME = 'scratch';

export interface PromotionSource {
  /** The local context and job, recorded on every promoted object. */
  context: string;
  namespace: string;
  name: string;
}

/**
 * The target's objects, in apply order: Namespace, the --env Secret (when the job has --env),
 * Service, then the Job or Deployment; in an operator's form, Namespace, Secret, then the PyTorchJob
 * or InferenceService (the operator makes the Services).
 */
export function promotedObjects(
  rendered: RenderedJob,
  spec: JobSpec,
  target: TargetProfile,
  image: string,
  source: PromotionSource,
  form: WorkloadForm = 'kubernetes',
): KubernetesObject[] {
  const promotedSpec: JobSpec = { ...spec, image, namespace: target.namespace };
  const annotations = { [PROMOTED_FROM]: `${source.context}/${source.namespace}/${source.name}`, [ANNOTATIONS.spec]: specAnnotation(promotedSpec) };
  const namespace: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target.namespace, labels: { [LABELS.managedBy]: MANAGED_BY } } };

  const service = structuredClone(rendered.service) as V1Service;
  retarget(service, target.namespace, annotations);
  if (spec.kind === 'serving') service.spec = { ...service.spec, type: target.serviceType };

  const owner = structuredClone(rendered.owner) as V1Job | V1Deployment;
  retarget(owner, target.namespace, annotations);
  // Through the target's queue: labelled for Kueue, and held suspended until it admits every rank.
  const queue = spec.kind === 'training' ? target.queue : undefined;
  if (queue) owner.metadata!.labels = { ...owner.metadata?.labels, [QUEUE_LABEL]: queue };
  const template = owner.spec!.template;
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [PROMOTED_FROM]: annotations[PROMOTED_FROM] } };
  template.spec = podSpecForTarget(template.spec!, target, image);
  // The --env values go to the target in their own Secret, as locally; the pods name them only.
  const secrets: KubernetesObject[] = [];
  if (rendered.envSecret) {
    const secret = structuredClone(rendered.envSecret);
    retarget(secret, target.namespace, { [PROMOTED_FROM]: annotations[PROMOTED_FROM] });
    secrets.push(secret);
  }
  if (form === 'kubeflow' && spec.kind === 'training') {
    const pytorchJob = pytorchJobOf(owner as V1Job, spec);
    if (queue) pytorchJob.spec!.runPolicy = { ...pytorchJob.spec!.runPolicy, suspend: true };
    return [namespace, ...secrets, pytorchJob];
  }
  if (queue) (owner as V1Job).spec!.suspend = true;
  if (form === 'kserve' && spec.kind === 'serving') return [namespace, ...secrets, inferenceServiceOf(owner as V1Deployment, spec)];
  return [namespace, ...secrets, service, owner];
}

function retarget(obj: KubernetesObject, namespace: string, annotations: Record<string, string>): void {
  obj.metadata = { ...obj.metadata, namespace, annotations: { ...obj.metadata?.annotations, ...annotations } };
}

/** The code and Skiff's helper are in the image at the paths they were mounted at: drop those volumes. */
function podSpecForTarget(pod: V1PodSpec, target: TargetProfile, image: string): V1PodSpec {
  const mounted = new Set<string>([VOLUMES.code, VOLUMES.lib]);
  const containers = pod.containers.map((c) => withScratch(containerForTarget(c, target, image, mounted), target));
  const volumes = pod.volumes?.filter((v) => !mounted.has(v.name)) ?? [];
  if (target.storageClass) {
    // A generic ephemeral volume: claimed with the pod, deleted with it, of the target's storage class.
    volumes.push({
      name: SCRATCH_VOLUME,
      ephemeral: {
        volumeClaimTemplate: {
          metadata: { labels: { [LABELS.managedBy]: MANAGED_BY } },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: target.storageClass, resources: { requests: { storage: target.scratchSize } } },
        },
      },
    });
  }
  const out: V1PodSpec = {
    ...pod,
    containers,
    volumes,
    nodeSelector: { ...pod.nodeSelector, ...target.nodeSelector },
    tolerations: [...(pod.tolerations ?? []), ...target.tolerations],
  };
  if (pod.initContainers) out.initContainers = pod.initContainers.map((c) => containerForTarget(c, target, image, mounted));
  if (target.runtimeClassName) out.runtimeClassName = target.runtimeClassName;
  if (target.imagePullSecrets.length > 0) out.imagePullSecrets = target.imagePullSecrets.map((name) => ({ name }));
  if (Object.keys(out.nodeSelector!).length === 0) delete out.nodeSelector;
  if (out.tolerations!.length === 0) delete out.tolerations;
  return out;
}

function withScratch(c: V1Container, target: TargetProfile): V1Container {
  if (!target.storageClass) return c;
  return {
    ...c,
    volumeMounts: [...(c.volumeMounts ?? []), { name: SCRATCH_VOLUME, mountPath: SCRATCH_MOUNT }],
    env: [...(c.env ?? []), { name: 'SKIFF_SCRATCH', value: SCRATCH_MOUNT }],
  };
}

function containerForTarget(c: V1Container, target: TargetProfile, image: string, dropped: Set<string>): V1Container {
  return {
    ...c,
    image,
    // The tag is the code's hash: a new tag for new code, so the cached image is always right.
    imagePullPolicy: 'IfNotPresent',
    volumeMounts: c.volumeMounts?.filter((m) => !dropped.has(m.name)),
    resources: renameGpuResource(c.resources, target.gpuResource),
  };
}

function renameGpuResource(resources: V1ResourceRequirements | undefined, to: string): V1ResourceRequirements | undefined {
  if (!resources || to === GPU_RESOURCE) return resources;
  const rename = (list?: Record<string, string>) => (list ? Object.fromEntries(Object.entries(list).map(([k, v]) => [k === GPU_RESOURCE ? to : k, v])) : list);
  return { ...resources, limits: rename(resources.limits), requests: rename(resources.requests) };
}

/** The image's name in the target registry: the job's name, tagged with its code's hash. */
export function promotedImageRef(registry: string, jobName: string, codeHash: string): string {
  return `${registry}/skiff-${jobName}:${codeHash.slice(0, 12)}`;
}
