// GPU support shaped after nvkind: the NVIDIA runtime inside each kind node plus the upstream
// device plugin, or (profile fake-gpu) an advertised nvidia.com/gpu capacity with no devices.
import type { V1DaemonSet, V1ResourceRequirements, V1RuntimeClass, V1Toleration } from '@kubernetes/client-node';
import type { JobSpec } from '../spec/job-spec.js';
import { LABELS, MANAGED_BY } from './labels.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';
/** Node label that nvkind-style nodes carry and the device plugin selects on. */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';
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

/**
 * Body for PATCH /api/v1/nodes/<node>/status (merge or strategic merge) that advertises `count`
 * fake GPUs. Allocatable is set too so the scheduler sees them before the kubelet's next status
 * sync (the kubelet derives allocatable from capacity for resources no device plugin owns).
 */
export function fakeGpuCapacityPatch(count: number): { status: { capacity: Record<string, string>; allocatable: Record<string, string> } } {
  const value = String(count);
  return { status: { capacity: { [GPU_RESOURCE]: value }, allocatable: { [GPU_RESOURCE]: value } } };
}
