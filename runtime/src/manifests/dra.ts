// Fake GPUs through Dynamic Resource Allocation (`skiff up --profile fake-gpu --dra`): Kubernetes'
// own DRA test driver (k8s.io/kubernetes test/e2e/dra/test-driver, preloaded in the node image)
// publishes each marked node's devices as a ResourceSlice; a DeviceClass names them; a job's ranks
// claim them. The scheduler allocates each claim, the driver prepares it on the pod's node and
// hands it to the container through CDI, and the claim is released when the pod ends: the path a
// real DRA GPU driver (NVIDIA's k8s-dra-driver-gpu) takes, without the GPU.
import type { KubernetesObject, V1Container, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { JobSpec } from '../spec/job-spec.js';
import { DEVICE_PLUGIN_NAMESPACE, FAKE_GPU_LABEL, GPU_RESOURCE, gpuTolerations } from './gpu.js';
import { LABELS, MANAGED_BY, supportObjectMeta } from './labels.js';

export const RESOURCE_API = 'resource.k8s.io/v1';
/** The driver's image, built offline and preloaded in Skiff's node image (versions.env DRA_DRIVER_IMAGE). */
export const DRA_DRIVER_IMAGE = 'skiff.local/dra-test-driver:v1.34.1-1';
/** The driver's name, and the DeviceClass that selects its devices: a job on a DRA cluster asks for this class. */
export const DRA_GPU_DRIVER = 'gpu.skiff.dev';
export const DRA_GPU_CLASS = DRA_GPU_DRIVER;
export const DRA_PLUGIN_NAME = 'skiff-dra-gpu-plugin';
/** The pod's name for its GPU claim (pod.spec.resourceClaims), which the container's resources.claims names. */
export const GPU_CLAIM = 'gpu';
/** The class's own setting, handed to every container that gets one of its devices (the driver's `admin_` env). */
const CLASS_PARAMETERS = { kind: 'fake-gpu' };

const PLUGINS_REGISTRY = '/var/lib/kubelet/plugins_registry';
// The driver makes the folder above its socket but not the socket's own: mount that folder itself.
const PLUGIN_SOCKET_DIR = `/var/lib/kubelet/plugins/${DRA_GPU_DRIVER}`;
const CDI_DIR = '/var/run/cdi';

/** A DRA object: typed loosely, as @kubernetes/client-node has no resource.k8s.io/v1 models yet. */
export type DraObject = KubernetesObject & { spec?: Record<string, unknown> };

const managed = { [LABELS.managedBy]: MANAGED_BY };

/**
 * The driver on every node Skiff's kind config marked for fake GPUs, `gpusPerNode` devices each, its
 * permissions (the driver's own example, deploy/example/plugin-permissions.yaml) and the DeviceClass.
 */
export function draGpuDriverObjects(gpusPerNode: number, image: string = DRA_DRIVER_IMAGE): KubernetesObject[] {
  const namespace = DEVICE_PLUGIN_NAMESPACE;
  const account = { name: DRA_PLUGIN_NAME, namespace, labels: managed };
  const selector = { ...managed, app: DRA_PLUGIN_NAME };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: account },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: DRA_PLUGIN_NAME, labels: managed },
      rules: [
        { apiGroups: ['resource.k8s.io'], resources: ['resourceclaims'], verbs: ['get'] },
        { apiGroups: ['resource.k8s.io'], resources: ['resourceclaims/status'], verbs: ['update'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
        { apiGroups: ['resource.k8s.io'], resources: ['resourceslices'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: DRA_PLUGIN_NAME, labels: managed },
      subjects: [{ kind: 'ServiceAccount', name: DRA_PLUGIN_NAME, namespace }],
      roleRef: { kind: 'ClusterRole', name: DRA_PLUGIN_NAME, apiGroup: 'rbac.authorization.k8s.io' },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: DRA_PLUGIN_NAME, namespace, labels: selector },
      spec: {
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            serviceAccountName: DRA_PLUGIN_NAME,
            priorityClassName: 'system-node-critical',
            nodeSelector: { [FAKE_GPU_LABEL]: 'true' },
            // A lone control plane carries the fake GPUs too, and GPU nodes may be tainted.
            tolerations: [...gpuTolerations(), { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [
              {
                name: 'plugin',
                image,
                imagePullPolicy: 'Never',
                args: ['kubelet-plugin', '--node-name=$(NODE_NAME)', `--num-devices=${gpusPerNode}`, `--drivername=${DRA_GPU_DRIVER}`],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                // It writes CDI specs and serves the kubelet's plugin sockets on the node.
                securityContext: { privileged: true },
                resources: { requests: { cpu: '5m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                volumeMounts: [
                  { name: 'registry', mountPath: PLUGINS_REGISTRY },
                  { name: 'socket', mountPath: PLUGIN_SOCKET_DIR },
                  { name: 'cdi', mountPath: CDI_DIR },
                ],
              },
            ],
            volumes: [
              { name: 'registry', hostPath: { path: PLUGINS_REGISTRY, type: 'DirectoryOrCreate' } },
              { name: 'socket', hostPath: { path: PLUGIN_SOCKET_DIR, type: 'DirectoryOrCreate' } },
              { name: 'cdi', hostPath: { path: CDI_DIR, type: 'DirectoryOrCreate' } },
            ],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: RESOURCE_API,
      kind: 'DeviceClass',
      metadata: { name: DRA_GPU_CLASS, labels: managed },
      spec: {
        selectors: [{ cel: { expression: `device.driver == "${DRA_GPU_DRIVER}"` } }],
        config: [{ opaque: { driver: DRA_GPU_DRIVER, parameters: CLASS_PARAMETERS } }],
      },
    } as DraObject,
  ];
}

/** How many devices of the class the driver could publish for `gpusPerNode`, from its DaemonSet's args (undefined: not the driver). */
export function draGpusPerNode(daemonSet: { spec?: { template: { spec?: V1PodSpec } } }): number | undefined {
  const args = daemonSet.spec?.template.spec?.containers[0]?.args ?? [];
  const flag = args.find((a) => a.startsWith('--num-devices='));
  const n = flag ? Number.parseInt(flag.slice('--num-devices='.length), 10) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * How a job's ranks get GPUs on a DRA cluster. Whole GPUs: a ResourceClaimTemplate, from which each
 * pod gets a claim of its own for `gpusPerWorker` devices. A share (`--gpu-share`): one
 * ResourceClaim that every rank names, so they share its devices, as DRA shares a claim between
 * pods; its devices are on one node, so all ranks run there.
 */
export function gpuClaimFor(spec: JobSpec): DraObject {
  const meta = supportObjectMeta(spec, gpuClaimName(spec));
  if (spec.gpuShare !== undefined) {
    return { apiVersion: RESOURCE_API, kind: 'ResourceClaim', metadata: meta, spec: { devices: { requests: [deviceRequest(sharedGpuCount(spec))] } } };
  }
  return {
    apiVersion: RESOURCE_API,
    kind: 'ResourceClaimTemplate',
    metadata: meta,
    spec: { metadata: { labels: meta.labels }, spec: { devices: { requests: [deviceRequest(spec.gpusPerWorker)] } } },
  };
}

/** The devices a shared claim holds: enough for every rank's share (two ranks at 0.5: one GPU). */
export function sharedGpuCount(spec: JobSpec): number {
  return Math.max(1, Math.ceil(ranksOf(spec) * (spec.gpuShare ?? 1) - 1e-9));
}

/** The job's ranks: a training job's workers, a serving job's replicas. */
export function ranksOf(spec: JobSpec): number {
  return spec.kind === 'training' ? spec.workers : spec.replicas;
}

/** A ResourceSlice as listed: the driver that published it, its node, its devices. */
export interface ResourceSlice {
  spec?: { driver?: string; nodeName?: string; devices?: unknown[] };
}

/** How many devices `driver` published for each node, from the cluster's ResourceSlices (pure). */
export function devicesByNode(slices: ResourceSlice[], driver: string): Map<string, number> {
  const byNode = new Map<string, number>();
  for (const { spec } of slices) {
    if (spec?.driver === driver && spec.nodeName) byNode.set(spec.nodeName, (byNode.get(spec.nodeName) ?? 0) + (spec.devices?.length ?? 0));
  }
  return byNode;
}

export function gpuClaimName(spec: Pick<JobSpec, 'name'>): string {
  return `${spec.name}-gpu`;
}

function deviceRequest(count: number) {
  return { name: GPU_CLAIM, exactly: { deviceClassName: DRA_GPU_CLASS, allocationMode: 'ExactCount', count } };
}

/**
 * The owner's pods take their GPUs from the job's claim instead of the device plugin's
 * nvidia.com/gpu. Ranks that share one claim share its node, so they are not spread across nodes.
 */
export function withGpuClaim<T extends { spec?: { template: V1PodTemplateSpec } }>(owner: T, claim: DraObject): T {
  const pod = owner.spec!.template.spec!;
  const shared = claim.kind === 'ResourceClaim';
  pod.resourceClaims = [{ name: GPU_CLAIM, ...(shared ? { resourceClaimName: claim.metadata!.name! } : { resourceClaimTemplateName: claim.metadata!.name! }) }];
  pod.containers = pod.containers.map((c, i) => (i === 0 ? claimingContainer(c) : c));
  if (shared) {
    delete pod.topologySpreadConstraints;
    // A share is the claim's here, not a time-slice: no node need carry the time-slicing label.
    delete pod.affinity;
  }
  return owner;
}

function claimingContainer(container: V1Container): V1Container {
  const { [GPU_RESOURCE]: _gpu, ...limits } = container.resources?.limits ?? {};
  const resources = { ...container.resources, claims: [{ name: GPU_CLAIM }] };
  if (Object.keys(limits).length > 0) resources.limits = limits;
  else delete resources.limits;
  return { ...container, resources };
}
