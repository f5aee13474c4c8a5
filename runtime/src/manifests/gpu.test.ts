import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import { fakeGpuCapacityPatch, nvidiaDevicePluginDaemonSet, nvidiaRuntimeClass, withNvidiaRuntime } from './gpu.js';

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

  it('advertises fake GPUs through node status', () => {
    expect(fakeGpuCapacityPatch(2)).toMatchObject({ status: { capacity: { 'nvidia.com/gpu': '2' } } });
  });
});

describe('withNvidiaRuntime', () => {
  it("runs the owner's pods under the RuntimeClass the device plugin uses, keeping the rest of the pod", () => {
    const job: V1Job = { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker' }] } } } };
    expect(withNvidiaRuntime(job).spec!.template.spec).toEqual({ restartPolicy: 'Never', containers: [{ name: 'worker' }], runtimeClassName: nvidiaRuntimeClass().metadata!.name });
    expect(nvidiaDevicePluginDaemonSet().spec!.template.spec!.runtimeClassName).toBe(nvidiaRuntimeClass().handler);
  });
});
