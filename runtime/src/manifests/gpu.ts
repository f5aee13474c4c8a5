// GPU support shaped after nvkind: the NVIDIA runtime inside each kind node plus the upstream
// device plugin, or (profile fake-gpu) Skiff's fake device plugin: nvidia.com/gpu with no devices.
import type { V1DaemonSet, V1ResourceRequirements, V1RuntimeClass, V1Toleration } from '@kubernetes/client-node';
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

/** NVIDIA's k8s-device-plugin, as in its static manifest, restricted to nodes that have GPUs. */
export function nvidiaDevicePluginDaemonSet(image: string = DEVICE_PLUGIN_IMAGE): V1DaemonSet {
  const selector = { name: 'nvidia-device-plugin-ds' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: DEVICE_PLUGIN_NAME, namespace: 'kube-system', labels: { [LABELS.managedBy]: MANAGED_BY } },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: selector },
        spec: {
          runtimeClassName: NVIDIA_RUNTIME_CLASS,
          nodeSelector: { [GPU_PRESENT_LABEL]: 'true' },
          tolerations: gpuTolerations(),
          priorityClassName: 'system-node-critical',
          containers: [
            {
              name: 'nvidia-device-plugin-ctr',
              image,
              imagePullPolicy: 'IfNotPresent',
              // Keep running (and advertise nothing) rather than crash-loop on a node without NVML.
              env: [{ name: 'FAIL_ON_INIT_ERROR', value: 'false' }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'device-plugin', mountPath: DEVICE_PLUGIN_DIR }],
            },
          ],
          volumes: [{ name: 'device-plugin', hostPath: { path: DEVICE_PLUGIN_DIR } }],
        },
      },
    },
  };
}

/** Skiff's fake GPU device plugin (runtime/images/fake-gpu-plugin), preloaded into the offline node image. */
export const FAKE_GPU_PLUGIN_IMAGE = 'skiff.local/fake-gpu-plugin:v1.34.1-1';
export const FAKE_GPU_PLUGIN_NAME = 'skiff-fake-gpu-plugin';
export const FAKE_GPU_PLUGIN_NAMESPACE = 'kube-system';

/**
 * fake-gpu: `gpusPerNode` nvidia.com/gpu on each node Skiff's kind config marked, advertised by a
 * real device plugin, so the kubelet registers, allocates and releases them as it would GPUs; only
 * the devices are missing. Changing the count rolls the plugin's pods.
 */
export function fakeGpuDevicePluginDaemonSet(gpusPerNode: number, image: string = FAKE_GPU_PLUGIN_IMAGE): V1DaemonSet {
  const selector = { [LABELS.managedBy]: MANAGED_BY, app: FAKE_GPU_PLUGIN_NAME };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: FAKE_GPU_PLUGIN_NAME, namespace: FAKE_GPU_PLUGIN_NAMESPACE, labels: selector },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: selector },
        spec: {
          nodeSelector: { [FAKE_GPU_LABEL]: 'true' },
          // A lone control plane carries the fake GPUs too, and GPU nodes may be tainted.
          tolerations: [...gpuTolerations(), { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          priorityClassName: 'system-node-critical',
          containers: [
            {
              name: 'plugin',
              image,
              imagePullPolicy: 'Never',
              command: ['/usr/local/bin/fake-gpu-plugin', '--gpus', String(gpusPerNode)],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '64Mi' } },
              volumeMounts: [{ name: 'device-plugin', mountPath: DEVICE_PLUGIN_DIR }],
            },
          ],
          volumes: [{ name: 'device-plugin', hostPath: { path: DEVICE_PLUGIN_DIR } }],
        },
      },
    },
  };
}

/** The count of fake GPUs a plugin DaemonSet advertises per node, from its command. */
export function fakeGpusOf(daemonSet: V1DaemonSet): number | undefined {
  const command = daemonSet.spec?.template.spec?.containers[0]?.command ?? [];
  const at = command.indexOf('--gpus');
  const count = at >= 0 ? Number.parseInt(command[at + 1] ?? '', 10) : NaN;
  return Number.isFinite(count) ? count : undefined;
}
