import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import {
  FAKE_GPU_PLUGIN_IMAGE,
  FAKE_GPU_PLUGIN_NAME,
  fakeGpuDevicePluginDaemonSet,
  fakeGpusOf,
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
    const ds = fakeGpuDevicePluginDaemonSet(3);
    const pod = ds.spec!.template.spec!;
    expect(ds.metadata).toMatchObject({ name: FAKE_GPU_PLUGIN_NAME, namespace: 'kube-system' });
    expect(pod.nodeSelector).toEqual({ 'skiff.dev/fake-gpu': 'true' });
    expect(pod.containers[0]).toMatchObject({ image: FAKE_GPU_PLUGIN_IMAGE, imagePullPolicy: 'Never', command: ['/usr/local/bin/fake-gpu-plugin', '--gpus', '3'] });
    // The kubelet's device-plugin folder, where the plugin serves and registers.
    expect(pod.volumes).toEqual([{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins' } }]);
    expect(pod.tolerations?.map((t) => t.key)).toEqual(['nvidia.com/gpu', 'node-role.kubernetes.io/control-plane']);
    expect(fakeGpusOf(ds)).toBe(3);
    expect(fakeGpusOf(nvidiaDevicePluginDaemonSet())).toBeUndefined();
  });
});

describe('withNvidiaRuntime', () => {
  it("runs the owner's pods under the RuntimeClass the device plugin uses, keeping the rest of the pod", () => {
    const job: V1Job = { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker' }] } } } };
    expect(withNvidiaRuntime(job).spec!.template.spec).toEqual({ restartPolicy: 'Never', containers: [{ name: 'worker' }], runtimeClassName: nvidiaRuntimeClass().metadata!.name });
    expect(nvidiaDevicePluginDaemonSet().spec!.template.spec!.runtimeClassName).toBe(nvidiaRuntimeClass().handler);
  });
});
