import { describe, expect, it } from 'vitest';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { devicesByNode, DRA_DRIVER_IMAGE, DRA_GPU_CLASS, draGpuDriverObjects, draGpusPerNode, gpuClaimFor, sharedGpuCount, withGpuClaim } from './dra.js';
import { trainingJob } from './training.js';

describe("fake GPUs as DRA devices: Kubernetes' test driver", () => {
  const objects = draGpuDriverObjects(2);
  const daemonSet = objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
  const pod = daemonSet.spec!.template.spec!;

  it('runs on the fake-GPU nodes with its devices per node, the kubelet folders it serves in, and its own permissions', () => {
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'DeviceClass']);
    expect(pod.nodeSelector).toEqual({ 'skiff.dev/fake-gpu': 'true' });
    expect(pod.containers[0]).toMatchObject({
      image: DRA_DRIVER_IMAGE,
      imagePullPolicy: 'Never',
      args: ['kubelet-plugin', '--node-name=$(NODE_NAME)', '--num-devices=2', '--drivername=gpu.skiff.dev'],
    });
    // The socket's own folder is mounted: the driver makes only the one above it.
    expect(pod.containers[0].volumeMounts!.map((m) => m.mountPath)).toEqual(['/var/lib/kubelet/plugins_registry', '/var/lib/kubelet/plugins/gpu.skiff.dev', '/var/run/cdi']);
    expect(pod.serviceAccountName).toBe(objects[0].metadata!.name);
    expect(draGpusPerNode(daemonSet)).toBe(2);
    expect(draGpusPerNode({ spec: { template: { spec: { containers: [{ name: 'x', args: [] }] } } } })).toBeUndefined();
  });

  it("counts the devices it published for each node from the cluster's ResourceSlices, no other driver's", () => {
    const slices = [
      { spec: { driver: 'gpu.skiff.dev', nodeName: 'w1', devices: [{}, {}] } },
      { spec: { driver: 'gpu.skiff.dev', nodeName: 'w2', devices: [{}] } },
      { spec: { driver: 'gpu.skiff.dev', nodeName: 'w2', devices: [{}] } },
      { spec: { driver: 'other.example.com', nodeName: 'w1', devices: [{}] } },
      { spec: { driver: 'gpu.skiff.dev' } },
    ];
    expect(devicesByNode(slices, 'gpu.skiff.dev')).toEqual(
      new Map([
        ['w1', 2],
        ['w2', 2],
      ]),
    );
  });

  it('names its devices by a DeviceClass, whose setting reaches each container that gets one', () => {
    expect(objects.at(-1)).toMatchObject({
      apiVersion: 'resource.k8s.io/v1',
      metadata: { name: DRA_GPU_CLASS },
      spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.skiff.dev"' } }], config: [{ opaque: { driver: 'gpu.skiff.dev', parameters: { kind: 'fake-gpu' } } }] },
    });
  });
});

describe("a job's GPU claim", () => {
  const files = [{ path: 'train.py', content: Buffer.from('') }];

  it('gives each rank a claim of its own for its GPUs (a template), in place of the nvidia.com/gpu limit', () => {
    const spec = parseTrainingSpec({ name: 'ddp', script: 'train.py', workers: 2, gpusPerWorker: 2, resources: { memory: '1Gi' } });
    const claim = gpuClaimFor(spec);
    expect(claim).toMatchObject({
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'ddp-gpu', labels: { 'skiff.dev/job': 'ddp' } },
      spec: { spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: DRA_GPU_CLASS, allocationMode: 'ExactCount', count: 2 } }] } } },
    });
    const job = withGpuClaim(trainingJob(spec, files, []), claim);
    const pod = job.spec!.template.spec!;
    expect(pod.resourceClaims).toEqual([{ name: 'gpu', resourceClaimTemplateName: 'ddp-gpu' }]);
    expect(pod.containers[0].resources).toEqual({ requests: { memory: '1Gi' }, limits: { memory: '1Gi' }, claims: [{ name: 'gpu' }] });
    // Whole GPUs: the ranks still spread over the nodes.
    expect(pod.topologySpreadConstraints).toHaveLength(1);
  });

  it('gives ranks that ask a share one claim they all name, with enough GPUs for every share, on one node', () => {
    const spec = parseTrainingSpec({ name: 'half', script: 'train.py', workers: 3, gpuShare: 0.5 });
    expect(sharedGpuCount(spec)).toBe(2);
    const claim = gpuClaimFor(spec);
    expect(claim).toMatchObject({ kind: 'ResourceClaim', metadata: { name: 'half-gpu' }, spec: { devices: { requests: [{ exactly: { count: 2 } }] } } });
    const pod = withGpuClaim(trainingJob(spec, files, []), claim).spec!.template.spec!;
    expect(pod.resourceClaims).toEqual([{ name: 'gpu', resourceClaimName: 'half-gpu' }]);
    expect(pod.containers[0].resources).toEqual({ claims: [{ name: 'gpu' }] });
    // A claim's devices are on one node, so its ranks are too: no spreading.
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(sharedGpuCount(parseServingSpec({ script: 'app.py', replicas: 4, gpuShare: 0.25 }))).toBe(1);
  });
});
