// GPU support shaped after nvkind: the NVIDIA runtime inside each kind node plus the upstream
// device plugin, or (profile fake-gpu) Skiff's fake device plugin: nvidia.com/gpu with no devices.
import type { V1Affinity, V1ConfigMap, V1Container, V1DaemonSet, V1Node, V1PodSpec, V1Volume, V1ResourceRequirements, V1RuntimeClass, V1Toleration } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { JobSpec } from '../spec/job-spec.js';
import { LABELS, MANAGED_BY } from './labels.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';
/** Node label that nvkind-style nodes carry and the device plugin selects on. */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';
/** Node label Skiff's kind config puts on the nodes that carry fake GPUs. */
export const FAKE_GPU_LABEL = 'skiff.dev/fake-gpu';
export const NVIDIA_RUNTIME_CLASS = 'nvidia';
export const DEVICE_PLUGIN_IMAGE = 'nvcr.io/nvidia/k8s-device-plugin:v0.17.1';
export const DEVICE_PLUGIN_NAME = 'nvidia-device-plugin-daemonset';
/** Where every device plugin's DaemonSet and config live (devicePluginDaemonSet). */
export const DEVICE_PLUGIN_NAMESPACE = 'kube-system';
const DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';

/** GPU nodes are often tainted nvidia.com/gpu:NoSchedule so only GPU workloads land there. */
export function gpuTolerations(): V1Toleration[] {
  return [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }];
}

/** Requests and limits from --cpu/--memory, plus the GPU limit (extended resources need no request). */
export function containerResources(spec: JobSpec): V1ResourceRequirements {
  const quantities: Record<string, string> = {};
  if (spec.resources.cpu) quantities.cpu = spec.resources.cpu;
  if (spec.resources.memory) quantities.memory = spec.resources.memory;
  const limits: Record<string, string> = { ...quantities };
  if (spec.gpusPerWorker > 0) limits[GPU_RESOURCE] = String(spec.gpusPerWorker);
  const resources: V1ResourceRequirements = {};
  if (Object.keys(quantities).length > 0) resources.requests = quantities;
  if (Object.keys(limits).length > 0) resources.limits = limits;
  return resources;
}

/**
 * How many ways a GPU may be shared for a job that asks `share` of one: at least 2 (else the job
 * would hold a whole GPU) and at most 1/share (else its slice would be smaller than asked).
 */
export function sharingWaysFor(share: number): number[] {
  const most = Math.min(Math.floor(1 / share + 1e-9), 16);
  return Array.from({ length: Math.max(0, most - 1) }, (_, i) => i + 2);
}

/** A job asking a share of a GPU lands only on nodes whose GPUs are time-sliced the ways it takes (their label). */
export function gpuShareAffinity(spec: JobSpec): { affinity?: V1Affinity } {
  if (spec.gpuShare === undefined) return {};
  const values = sharingWaysFor(spec.gpuShare).map(String);
  return {
    affinity: {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_SHARING_LABEL, operator: 'In', values }] }] } },
    },
  };
}

/** RuntimeClass for pods that must run under the NVIDIA container runtime (the device plugin). */
export function nvidiaRuntimeClass(): V1RuntimeClass {
  return {
    apiVersion: 'node.k8s.io/v1',
    kind: 'RuntimeClass',
    metadata: { name: NVIDIA_RUNTIME_CLASS, labels: { [LABELS.managedBy]: MANAGED_BY } },
    handler: NVIDIA_RUNTIME_CLASS,
  };
}

/**
 * The owner's pods under the NVIDIA runtime, as the gpu profile needs: the device plugin only
 * names the GPUs a container gets, and the NVIDIA runtime (RuntimeClass `nvidia`) is what puts
 * them, the driver and nvidia-smi into it. Fake GPUs have no such runtime, so submit sets this only
 * where the cluster has the RuntimeClass.
 */
export function withNvidiaRuntime<T extends { spec?: { template: { spec?: { runtimeClassName?: string } } } }>(owner: T): T {
  const template = owner.spec!.template;
  template.spec = { ...template.spec!, runtimeClassName: NVIDIA_RUNTIME_CLASS } as NonNullable<typeof template.spec>;
  return owner;
}

/**
 * Node label saying how many ways each of the node's GPUs is shared: the one NVIDIA's GPU feature
 * discovery sets under time-slicing, so a job reads real clusters and Skiff's local ones alike.
 */
export const GPU_SHARING_LABEL = 'nvidia.com/gpu.replicas';
export const DEVICE_PLUGIN_CONFIG = 'nvidia-device-plugin-config';

/** How many ways the node's GPUs are shared, from the label time-slicing puts on it (1: not shared). */
export function gpuSharingOf(node: V1Node): number {
  const ways = Number.parseInt(node.metadata?.labels?.[GPU_SHARING_LABEL] ?? '1', 10);
  return Number.isFinite(ways) && ways > 1 ? ways : 1;
}

/** The ways the nodes with GPUs share them, each once, fewest first (e.g. [1] where none is shared). */
export function gpuSharingWays(nodes: V1Node[]): number[] {
  const gpuNodes = nodes.filter((n) => Number.parseInt(n.status?.allocatable?.[GPU_RESOURCE] ?? '0', 10) > 0);
  return [...new Set(gpuNodes.map(gpuSharingOf))].sort((a, b) => a - b);
}

const DEVICE_PLUGIN_CONFIG_DIR = '/etc/nvidia-device-plugin';

/**
 * NVIDIA's device plugin config for time-slicing: each GPU offered `sharing` times under its own
 * name (nvidia.com/gpu), so that many containers run on it by turns, without memory isolation.
 */
export function nvidiaTimeSlicingConfigMap(sharing: number): V1ConfigMap {
  const config = { version: 'v1', sharing: { timeSlicing: { resources: [{ name: GPU_RESOURCE, replicas: sharing }] } } };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: DEVICE_PLUGIN_CONFIG, namespace: DEVICE_PLUGIN_NAMESPACE, labels: { [LABELS.managedBy]: MANAGED_BY } },
    data: { 'config.yaml': stringify(config) },
  };
}

/**
 * A device plugin's DaemonSet in kube-system: one pod per node that `pod.nodeSelector` picks, its
 * container given the kubelet's device-plugin folder, where a plugin serves and registers.
 */
function devicePluginDaemonSet(
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  pod: Pick<V1PodSpec, 'nodeSelector' | 'tolerations' | 'runtimeClassName'> & { container: V1Container; volumes?: V1Volume[] },
): V1DaemonSet {
  const { container, volumes = [], ...placement } = pod;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: DEVICE_PLUGIN_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: selector },
        spec: {
          ...placement,
          priorityClassName: 'system-node-critical',
          containers: [
            {
              ...container,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'device-plugin', mountPath: DEVICE_PLUGIN_DIR }, ...(container.volumeMounts ?? [])],
            },
          ],
          volumes: [{ name: 'device-plugin', hostPath: { path: DEVICE_PLUGIN_DIR } }, ...volumes],
        },
      },
    },
  };
}

/**
 * NVIDIA's k8s-device-plugin, as in its static manifest, restricted to nodes that have GPUs; with
 * `sharing` above 1 it reads the time-slicing config (nvidiaTimeSlicingConfigMap).
 */
export function nvidiaDevicePluginDaemonSet(image: string = DEVICE_PLUGIN_IMAGE, sharing = 1): V1DaemonSet {
  const shared = sharing > 1;
  return devicePluginDaemonSet(
    DEVICE_PLUGIN_NAME,
    { [LABELS.managedBy]: MANAGED_BY },
    { name: 'nvidia-device-plugin-ds' },
    {
      runtimeClassName: NVIDIA_RUNTIME_CLASS,
      nodeSelector: { [GPU_PRESENT_LABEL]: 'true' },
      tolerations: gpuTolerations(),
      container: {
        name: 'nvidia-device-plugin-ctr',
        image,
        imagePullPolicy: 'IfNotPresent',
        // Keep running (and advertise nothing) rather than crash-loop on a node without NVML.
        env: [{ name: 'FAIL_ON_INIT_ERROR', value: 'false' }, ...(shared ? [{ name: 'CONFIG_FILE', value: `${DEVICE_PLUGIN_CONFIG_DIR}/config.yaml` }] : [])],
        volumeMounts: shared ? [{ name: 'config', mountPath: DEVICE_PLUGIN_CONFIG_DIR, readOnly: true }] : [],
      },
      volumes: shared ? [{ name: 'config', configMap: { name: DEVICE_PLUGIN_CONFIG } }] : [],
    },
  );
}

/** Skiff's fake GPU device plugin (runtime/images/fake-gpu-plugin), preloaded into the offline node image. */
export const FAKE_GPU_PLUGIN_IMAGE = 'skiff.local/fake-gpu-plugin:v1.34.1-2';
export const FAKE_GPU_PLUGIN_NAME = 'skiff-fake-gpu-plugin';

/** How many GPUs a fake-gpu node has, and how many ways each is shared (1: not shared). */
export interface FakeGpus {
  gpusPerNode: number;
  sharing: number;
}

/**
 * fake-gpu: `gpusPerNode` nvidia.com/gpu on each node Skiff's kind config marked, advertised by a
 * real device plugin, so the kubelet registers, allocates and releases them as it would GPUs; only
 * the devices are missing. Each is offered `sharing` times, as time-slicing does. A change rolls the
 * plugin's pods.
 */
export function fakeGpuDevicePluginDaemonSet({ gpusPerNode, sharing }: FakeGpus, image: string = FAKE_GPU_PLUGIN_IMAGE): V1DaemonSet {
  const selector = { [LABELS.managedBy]: MANAGED_BY, app: FAKE_GPU_PLUGIN_NAME };
  return devicePluginDaemonSet(FAKE_GPU_PLUGIN_NAME, selector, selector, {
    nodeSelector: { [FAKE_GPU_LABEL]: 'true' },
    // A lone control plane carries the fake GPUs too, and GPU nodes may be tainted.
    tolerations: [...gpuTolerations(), { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    container: {
      name: 'plugin',
      image,
      imagePullPolicy: 'Never',
      command: ['/usr/local/bin/fake-gpu-plugin', '--gpus', String(gpusPerNode), ...(sharing > 1 ? ['--replicas', String(sharing)] : [])],
      env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    },
  });
}

/** What a fake GPU plugin DaemonSet advertises, from its command (undefined: not that plugin). */
export function fakeGpusOf(daemonSet: V1DaemonSet): FakeGpus | undefined {
  const command = daemonSet.spec?.template.spec?.containers[0]?.command ?? [];
  const flag = (name: string) => {
    const at = command.indexOf(name);
    return at >= 0 ? Number.parseInt(command[at + 1] ?? '', 10) : undefined;
  };
  const gpusPerNode = flag('--gpus');
  if (gpusPerNode === undefined || !Number.isFinite(gpusPerNode)) return undefined;
  return { gpusPerNode, sharing: flag('--replicas') ?? 1 };
}
