import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../errors.js';
import type { ClusterApi } from './kube-api.js';
import { advertiseFakeGpus, clusterInfoFromNodes, nodeInfo, waitForNodesReady } from './nodes.js';

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

function fakeApi(listings: V1Node[][]): ClusterApi & { patches: [string, object][] } {
  const patches: [string, object][] = [];
  let i = 0;
  return {
    patches,
    ready: async () => true,
    listNodes: async () => {
      const result = listings[Math.min(i++, listings.length - 1)];
      if (!result) throw new Error('connection refused');
      return result;
    },
    mergePatchNodeStatus: async (name, patch) => {
      patches.push([name, patch]);
    },
    ensureNamespace: async () => {},
    ensureRuntimeClass: async () => {},
    ensureDaemonSet: async () => {},
  };
}

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

describe('advertiseFakeGpus', () => {
  const marked = { 'skiff.dev/fake-gpu': 'true' };

  it('patches the marked nodes whose count differs', async () => {
    const api = fakeApi([]);
    const nodes = [node('cp', { controlPlane: true }), node('w1', { labels: marked }), node('w2', { labels: marked, gpus: 2 })];
    expect(await advertiseFakeGpus(api, nodes, 2)).toEqual(['w1']);
    expect(api.patches).toEqual([['w1', { status: { capacity: { 'nvidia.com/gpu': '2' }, allocatable: { 'nvidia.com/gpu': '2' } } }]]);
  });

  it('only fills in missing GPUs when asked to', async () => {
    const api = fakeApi([]);
    const nodes = [node('w1', { labels: marked, gpus: 4 }), node('w2', { labels: marked, gpus: 0 })];
    expect(await advertiseFakeGpus(api, nodes, 1, { onlyWhereMissing: true })).toEqual(['w2']);
    expect(await advertiseFakeGpus(api, nodes, 0)).toEqual([]);
  });
});
