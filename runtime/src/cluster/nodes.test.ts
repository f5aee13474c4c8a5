import type { V1DaemonSet, V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../errors.js';
import type { ClusterApi } from './kube-api.js';
import { clusterInfoFromNodes, jobNodesWithout, nodeInfo, runFakeGpuPlugin, waitForFakeGpus, waitForNodesReady } from './nodes.js';
import { fakeGpuDevicePluginDaemonSet } from '../manifests/gpu.js';

function node(name: string, opts: { controlPlane?: boolean; ready?: boolean; labels?: Record<string, string>; gpus?: number } = {}): V1Node {
  const labels: Record<string, string> = { ...opts.labels };
  if (opts.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  return {
    metadata: { name, labels },
    status: {
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      allocatable: opts.gpus === undefined ? { cpu: '8' } : { cpu: '8', 'nvidia.com/gpu': String(opts.gpus) },
    },
  };
}

function fakeApi(listings: V1Node[][], plugin?: V1DaemonSet): ClusterApi & { applied: V1DaemonSet[]; labelled: [string, object][] } {
  const applied: V1DaemonSet[] = [];
  const labelled: [string, object][] = [];
  let i = 0;
  return {
    applied,
    labelled,
    labelNode: async (name, labels) => void labelled.push([name, labels]),
    ensureConfigMap: async () => {},
    ready: async () => true,
    listNodes: async () => {
      const result = listings[Math.min(i++, listings.length - 1)];
      if (!result) throw new Error('connection refused');
      return result;
    },
    readDaemonSet: async () => plugin,
    applyDaemonSet: async (obj) => void applied.push(obj),
    ensureNamespace: async () => {},
    ensureRuntimeClass: async () => {},
    ensureDaemonSet: async () => {},
    apply: async () => {},
    delete: async () => {},
    listDraDevices: async () => new Map(),
  };
}

describe('jobNodesWithout', () => {
  const holding = (n: V1Node, ...images: string[]): V1Node => ({
    ...n,
    status: { ...n.status, images: images.map((name) => ({ names: [`docker.io/library/import@sha256:${name.length}`, name] })) },
  });
  const image = 'skiff.local/job-python:trixie-2';

  it('names the workers whose kubelet does not list the image; the control plane runs no jobs', () => {
    const nodes = [holding(node('cp', { controlPlane: true })), holding(node('w1'), image), holding(node('w2'), 'skiff.local/job-python:bookworm-2'), node('w3')];
    expect(jobNodesWithout(nodes, image)).toEqual(['w2', 'w3']);
  });

  it('looks at a lone control plane, which runs the jobs', () => {
    expect(jobNodesWithout([node('cp', { controlPlane: true })], image)).toEqual(['cp']);
    expect(jobNodesWithout([holding(node('cp', { controlPlane: true }), image)], image)).toEqual([]);
  });
});

describe('nodeInfo and clusterInfoFromNodes', () => {
  it('reads role, readiness, allocatable GPUs and the profile label', () => {
    expect(nodeInfo(node('w', { ready: false, gpus: 2 }))).toEqual({ name: 'w', role: 'worker', ready: false, gpus: 2 });
    const info = clusterInfoFromNodes({ name: 'skiff', context: 'kind-skiff' }, [
      node('skiff-worker2', { labels: { 'skiff.dev/profile': 'fake-gpu' }, gpus: 1 }),
      node('skiff-control-plane', { controlPlane: true, labels: { 'skiff.dev/profile': 'fake-gpu' } }),
      node('skiff-worker', { labels: { 'skiff.dev/profile': 'fake-gpu' }, gpus: 1 }),
    ]);
    expect(info).toEqual({
      name: 'skiff',
      context: 'kind-skiff',
      profile: 'fake-gpu',
      nodes: [
        { name: 'skiff-control-plane', role: 'control-plane', ready: true, gpus: 0 },
        { name: 'skiff-worker', role: 'worker', ready: true, gpus: 1 },
        { name: 'skiff-worker2', role: 'worker', ready: true, gpus: 1 },
      ],
    });
  });

  it('calls a cluster without Skiff labels cpu', () => {
    expect(clusterInfoFromNodes({ name: 'x', context: 'kind-x' }, [node('x-control-plane', { controlPlane: true })]).profile).toBe('cpu');
  });
});

describe('waitForNodesReady', () => {
  const opts = { timeoutMs: 1000, intervalMs: 1 };

  it('waits through connection errors, missing and NotReady nodes', async () => {
    const progress: string[] = [];
    const api = fakeApi([
      undefined as unknown as V1Node[],
      [node('cp', { controlPlane: true })],
      [node('cp', { controlPlane: true }), node('w', { ready: false })],
      [node('cp', { controlPlane: true }), node('w')],
    ]);
    const nodes = await waitForNodesReady(api, { name: 'skiff', context: 'kind-skiff' }, 2, { ...opts, onProgress: (m) => progress.push(m) });
    expect(nodes.map((n) => n.metadata?.name)).toEqual(['cp', 'w']);
    expect(progress).toEqual(['waiting for nodes to be Ready (0/2)', 'waiting for nodes to be Ready (1/2)']);
  });

  it('gives up with a TIMEOUT error', async () => {
    const api = fakeApi([[node('cp', { ready: false })]]);
    const err = await waitForNodesReady(api, { name: 'skiff', context: 'kind-skiff' }, 1, { timeoutMs: 20, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkiffError);
    expect((err as SkiffError).code).toBe('TIMEOUT');
    expect((err as SkiffError).message).toContain('(0/1 Ready)');
  });
});

describe('fake GPUs', () => {
  const marked = { 'skiff.dev/fake-gpu': 'true' };
  const cluster = { name: 'skiff', context: 'kind-skiff' };

  it('start the plugin with what is asked, keep what it runs with for the rest, and label the nodes with the sharing', async () => {
    const nodes = [node('cp', { controlPlane: true }), node('w1', { labels: marked }), node('w2', { labels: { ...marked, 'nvidia.com/gpu.replicas': '2' } })];
    const fresh = fakeApi([]);
    expect(await runFakeGpuPlugin(fresh, nodes, { gpusPerNode: 2 }, { gpusPerNode: 1, sharing: 1 })).toEqual({ gpus: { gpusPerNode: 2, sharing: 1 }, changed: true });
    expect(fresh.applied.map((ds) => ds.spec?.template.spec?.containers[0]?.command)).toEqual([['/usr/local/bin/fake-gpu-plugin', '--gpus', '2']]);
    // w2 carried a sharing label from before: it goes.
    expect(fresh.labelled).toEqual([['w2', { 'nvidia.com/gpu.replicas': null }]]);
    const running = fakeApi([], fakeGpuDevicePluginDaemonSet({ gpusPerNode: 4, sharing: 2 }));
    expect(await runFakeGpuPlugin(running, nodes, {}, { gpusPerNode: 1, sharing: 1 })).toEqual({ gpus: { gpusPerNode: 4, sharing: 2 }, changed: false });
    expect(running.labelled).toEqual([['w1', { 'nvidia.com/gpu.replicas': '2' }]]);
    expect(running.applied).toEqual([]);
    expect(await runFakeGpuPlugin(running, nodes, { sharing: 3 }, { gpusPerNode: 1, sharing: 1 })).toEqual({ gpus: { gpusPerNode: 4, sharing: 3 }, changed: true });
    expect(running.applied[0].spec?.template.spec?.containers[0]?.command).toEqual(['/usr/local/bin/fake-gpu-plugin', '--gpus', '4', '--replicas', '3']);
  });

  it('count each shared GPU once in a node reading', () => {
    expect(nodeInfo(node('w', { labels: { 'nvidia.com/gpu.replicas': '2' }, gpus: 4 }))).toEqual({ name: 'w', role: 'worker', ready: true, gpus: 2, gpuSharing: 2 });
  });

  it('wait until every marked node lists the GPUs, and name the nodes that never do', async () => {
    const before = [node('cp', { controlPlane: true }), node('w1', { labels: marked }), node('w2', { labels: marked, gpus: 2 })];
    const after = [node('cp', { controlPlane: true }), node('w1', { labels: marked, gpus: 2 }), node('w2', { labels: marked, gpus: 2 })];
    expect(await waitForFakeGpus(fakeApi([before, before, after]), cluster, { gpusPerNode: 2, sharing: 1 }, { timeoutMs: 5_000, intervalMs: 1 })).toBe(after);
    // Shared 2 ways, each GPU is listed twice.
    expect(await waitForFakeGpus(fakeApi([after]), cluster, { gpusPerNode: 1, sharing: 2 }, { timeoutMs: 5_000, intervalMs: 1 })).toBe(after);
    const err = await waitForFakeGpus(fakeApi([before]), cluster, { gpusPerNode: 2, sharing: 1 }, { timeoutMs: 5, intervalMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkiffError);
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('to w1 within'),
      hint: expect.stringContaining('kubectl --context kind-skiff -n kube-system logs ds/skiff-fake-gpu-plugin'),
    });
  });
});
