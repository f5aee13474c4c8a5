// GPUs on a cluster that hands them out through DRA (`skiff up --profile fake-gpu --dra`): whether
// the cluster does (Skiff's DeviceClass is there), how many devices each node has, and whether a
// job's ask can ever be met, so it is refused in words at submit rather than left Pending.
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.js';
import { devicesByNode, DRA_GPU_CLASS, DRA_GPU_DRIVER, ranksOf, RESOURCE_API, sharedGpuCount, type DraObject, type ResourceSlice } from '../manifests/dra.js';
import { FIELD_MANAGER, orUndefined, type KubeClients } from '../k8s/client.js';

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
