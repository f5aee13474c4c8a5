// GPUs on a cluster that hands them out through DRA (`skiff up --profile fake-gpu --dra`): whether
// the cluster does (Skiff's DeviceClass is there), how many devices each node has, and whether a
// job's ask can ever be met, so it is refused in words at submit rather than left Pending.
import { PatchStrategy, setHeaderOptions, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.js';
import { devicesByNode, DRA_GPU_CLASS, DRA_GPU_DRIVER, ranksOf, RESOURCE_API, sharedGpuCount, type DraObject, type ResourceSlice } from '../manifests/dra.js';
import { FIELD_MANAGER, orUndefined, type KubeClients } from '../k8s/client.js';
import type { JobDescription } from './status.js';

const [GROUP, VERSION] = RESOURCE_API.split('/');

/** Each node's DRA GPUs (devices Skiff's driver published), or undefined where GPUs are not DRA's. */
export async function draGpusByNode(k: KubeClients): Promise<Map<string, number> | undefined> {
  // A cluster without resource.k8s.io/v1 (before Kubernetes 1.34) answers 404 as well.
  const deviceClass = await orUndefined(k.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'deviceclasses', name: DRA_GPU_CLASS }));
  if (!deviceClass) return undefined;
  const slices = (await k.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'resourceslices' })) as { items: ResourceSlice[] };
  return devicesByNode(slices.items, DRA_GPU_DRIVER);
}

/**
 * Why a job's GPUs can never be claimed on these nodes, or undefined. A share is one claim that all
 * ranks name, and a claim's devices are on one node, so that node must hold every rank's share. A
 * job asking more whole GPUs per rank than a node has is left to wait Pending, with its reason, as
 * on a device plugin's GPUs.
 */
export function draGpuProblem(spec: JobSpec, byNode: Map<string, number>, where: string): SkiffError | undefined {
  const most = Math.max(0, ...byNode.values());
  if (most === 0) {
    return new SkiffError('NO_GPU', `this job asks for GPUs but ${where} has no DRA GPUs published (its driver's ResourceSlices list none)`, {
      hint: 'run `skiff up` to bring the DRA driver back, or drop --gpus-per-worker',
    });
  }
  if (spec.gpuShare === undefined) return undefined;
  const needed = sharedGpuCount(spec);
  if (needed <= most) return undefined;
  return new SkiffError(
    'BAD_INPUT',
    `this job's ${ranksOf(spec)} ranks × ${spec.gpuShare} of a GPU share one DRA claim of ${needed} GPUs, whose devices are all on one node, and no node of ${where} has more than ${most}`,
    { hint: `run fewer ranks (${Math.floor((most + 1e-9) / spec.gpuShare)} fit at --gpu-share ${spec.gpuShare}), or ask whole GPUs with --gpus-per-worker 1` },
  );
}

/**
 * Applies the job's claim or claim template as it is written: client-node's typed serializer takes
 * resource.k8s.io/v1's ResourceClaim for core v1's container claim of the same name and sends an
 * empty object, so it goes through the untyped custom-objects client.
 */
export async function applyGpuClaim(k: KubeClients, claim: DraObject): Promise<void> {
  const plural = claim.kind === 'ResourceClaim' ? 'resourceclaims' : 'resourceclaimtemplates';
  const { name, namespace } = claim.metadata as { name: string; namespace: string };
  await k.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural, name, body: claim, fieldManager: FIELD_MANAGER, force: true },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
}

/** The claim (or template) belongs to the job's owner, so deleting the job deletes it too. */
export function ownedBy<T extends KubernetesObject>(obj: T, owner: KubernetesObject): T {
  const reference = {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    // A foreground delete of the job (a resubmit) waits for it, so the new claim never meets the old.
    blockOwnerDeletion: true,
  };
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [reference] } };
}

/** A ResourceClaim as describe reads it: the devices its allocation holds. */
export interface AllocatedClaim {
  metadata?: { name?: string };
  status?: { allocation?: { devices?: { results?: { driver?: string; pool?: string; device?: string }[] } } };
}

/** The claims a pod's containers use: each template's claim (named in the pod's status once made), or a shared claim by name. */
export function podClaimNames(pod: V1Pod): string[] {
  const generated = (pod.status?.resourceClaimStatuses ?? []).map((c) => c.resourceClaimName);
  const named = (pod.spec?.resourceClaims ?? []).map((c) => c.resourceClaimName);
  return [...new Set([...generated, ...named].filter((name): name is string => Boolean(name)))];
}

/** The GPUs Skiff's DRA driver allocated to a pod's claims (device names, as its ResourceSlice lists them). */
export function claimedGpus(pod: V1Pod, claims: Map<string, AllocatedClaim>): string[] {
  return podClaimNames(pod).flatMap((name) =>
    (claims.get(name)?.status?.allocation?.devices?.results ?? []).filter((r) => r.driver === DRA_GPU_DRIVER && r.device).map((r) => r.device!),
  );
}

/** The namespace's ResourceClaims by name; none read when no pod names one (most jobs, every cluster without DRA). */
export async function claimsFor(k: KubeClients, namespace: string, pods: V1Pod[]): Promise<Map<string, AllocatedClaim>> {
  if (!pods.some((p) => (p.spec?.resourceClaims ?? []).length > 0)) return new Map();
  const listed = (await k.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'resourceclaims' })) as { items: AllocatedClaim[] };
  return new Map(listed.items.map((c) => [c.metadata?.name ?? '', c]));
}

/** The description with each rank's claimed GPUs beside it (while its pod holds them: a rank's own claim goes when it ends). */
export function withClaimedGpus(description: JobDescription, pods: V1Pod[], claims: Map<string, AllocatedClaim>): JobDescription {
  if (claims.size === 0) return description;
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
  return {
    ...description,
    pods: description.pods.map((d) => {
      const pod = byName.get(d.name);
      const gpus = pod ? claimedGpus(pod, claims) : [];
      return gpus.length > 0 ? { ...d, gpus } : d;
    }),
  };
}
