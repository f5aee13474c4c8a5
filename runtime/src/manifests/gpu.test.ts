import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import {
  FAKE_GPU_PLUGIN_IMAGE,
  FAKE_GPU_PLUGIN_NAME,
  fakeGpuDevicePluginDaemonSet,
  fakeGpusOf,
  gpuShareAffinity,
  nvidiaTimeSlicingConfigMap,
  sharingWaysFor,
  nvidiaDevicePluginDaemonSet,
  nvidiaRuntimeClass,
  withNvidiaRuntime,
} from './gpu.js';

describe('gpu', () => {
  it('defines the nvidia RuntimeClass', () => {
    expect(nvidiaRuntimeClass()).toMatchObject({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'nvidia' }, handler: 'nvidia' });
  });

  it('runs the device plugin on GPU nodes only', () => {
    const ds = nvidiaDevicePluginDaemonSet();
    const pod = ds.spec!.template.spec!;
    expect(ds.metadata?.namespace).toBe('kube-system');
    expect(ds.spec?.selector.matchLabels).toEqual(ds.spec?.template.metadata?.labels);
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.containers[0].image).toMatch(/^nvcr\.io\/nvidia\/k8s-device-plugin:v0\.17\./);
    expect(pod.volumes).toEqual([{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins' } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' }]);
    expect(nvidiaDevicePluginDaemonSet('local/plugin:dev').spec!.template.spec!.containers[0].image).toBe('local/plugin:dev');
  });

  it("runs Skiff's fake GPU device plugin on the marked nodes, from the node's own image, with the count in its command", () => {
    const ds = fakeGpuDevicePluginDaemonSet({ gpusPerNode: 3, sharing: 1 });
    const pod = ds.spec!.template.spec!;
    expect(ds.metadata).toMatchObject({ name: FAKE_GPU_PLUGIN_NAME, namespace: 'kube-system' });
    expect(pod.nodeSelector).toEqual({ 'skiff.dev/fake-gpu': 'true' });
    expect(pod.containers[0]).toMatchObject({ image: FAKE_GPU_PLUGIN_IMAGE, imagePullPolicy: 'Never', command: ['/usr/local/bin/fake-gpu-plugin', '--gpus', '3'] });
    // The kubelet's device-plugin folder, where the plugin serves and registers.
    expect(pod.volumes).toEqual([{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins' } }]);
    expect(pod.tolerations?.map((t) => t.key)).toEqual(['nvidia.com/gpu', 'node-role.kubernetes.io/control-plane']);
    expect(fakeGpusOf(ds)).toEqual({ gpusPerNode: 3, sharing: 1 });
    expect(fakeGpusOf(fakeGpuDevicePluginDaemonSet({ gpusPerNode: 1, sharing: 4 }))).toEqual({ gpusPerNode: 1, sharing: 4 });
    expect(fakeGpusOf(nvidiaDevicePluginDaemonSet())).toBeUndefined();
  });
});

describe('GPU sharing', () => {
  it("time-slices NVIDIA's plugin through its config file, only when asked", () => {
    const config = nvidiaTimeSlicingConfigMap(4);
    expect(parse(config.data!['config.yaml'])).toEqual({ version: 'v1', sharing: { timeSlicing: { resources: [{ name: 'nvidia.com/gpu', replicas: 4 }] } } });
    const shared = nvidiaDevicePluginDaemonSet(undefined, 4).spec!.template.spec!;
    expect(shared.containers[0].env).toContainEqual({ name: 'CONFIG_FILE', value: '/etc/nvidia-device-plugin/config.yaml' });
    expect(shared.volumes).toContainEqual({ name: 'config', configMap: { name: config.metadata!.name } });
    const plain = nvidiaDevicePluginDaemonSet().spec!.template.spec!;
    expect(plain.containers[0].env?.map((e) => e.name)).toEqual(['FAIL_ON_INIT_ERROR']);
    expect(plain.volumes).toHaveLength(1);
  });

  it('takes a share as a slice of a GPU shared 2 to 1/share ways, and pins the pods to such nodes', () => {
    expect(sharingWaysFor(0.5)).toEqual([2]);
    expect(sharingWaysFor(0.25)).toEqual([2, 3, 4]);
    expect(sharingWaysFor(1 / 3)).toEqual([2, 3]);
    const spec = parseTrainingSpec({ script: 't.py', workers: 2, gpuShare: '0.5' });
    expect(spec).toMatchObject({ gpusPerWorker: 1, gpuShare: 0.5 });
    expect(gpuShareAffinity(spec).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'nvidia.com/gpu.replicas', operator: 'In', values: ['2'] }] },
    ]);
    expect(gpuShareAffinity(parseTrainingSpec({ script: 't.py', gpusPerWorker: 1 }))).toEqual({});
  });

  it('refuses a share that time-slicing cannot give, or one beside whole GPUs', () => {
    expect(() => parseTrainingSpec({ script: 't.py', gpuShare: 0.75 })).toThrow(/gives each job at most half of it; ask 0.5 or less, or a whole GPU/);
    expect(() => parseServingSpec({ script: 's.py', gpuShare: 0 })).toThrow(/--gpu-share must be a share of one GPU above 0 and below 1/);
    expect(() => parseTrainingSpec({ script: 't.py', gpuShare: 'half' })).toThrow(/--gpu-share must be .* \(got 'half'\)/);
    expect(() => parseTrainingSpec({ script: 't.py', gpuShare: 0.5, gpusPerWorker: 2 })).toThrow(/--gpu-share is a share of one GPU: leave out --gpus/);
  });
});

describe('withNvidiaRuntime', () => {
  it("runs the owner's pods under the RuntimeClass the device plugin uses, keeping the rest of the pod", () => {
    const job: V1Job = { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker' }] } } } };
    expect(withNvidiaRuntime(job).spec!.template.spec).toEqual({ restartPolicy: 'Never', containers: [{ name: 'worker' }], runtimeClassName: nvidiaRuntimeClass().metadata!.name });
    expect(nvidiaDevicePluginDaemonSet().spec!.template.spec!.runtimeClassName).toBe(nvidiaRuntimeClass().handler);
  });
});
