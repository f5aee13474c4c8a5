import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kindClusterConfig, kindClusterConfigYaml } from './kind-config.js';

describe('kindClusterConfig', () => {
  it('has a control plane and labelled workers', () => {
    const config = kindClusterConfig({ name: 'skiff', profile: 'cpu', workers: 2, gpusPerNode: 0 });
    expect(config).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' } });
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    for (const node of config.nodes) {
      expect(node.labels).toEqual({ 'skiff.dev/profile': 'cpu' });
      expect(node.extraMounts).toBeUndefined();
      expect(node.image).toBeUndefined();
    }
    expect(config.kubeadmConfigPatches).toHaveLength(1);
    expect(parse(config.kubeadmConfigPatches[0])).toMatchObject({ kind: 'KubeProxyConfiguration', conntrack: { maxPerCore: 0 } });
  });

  it('passes GPUs through to workers for the gpu profile', () => {
    const config = kindClusterConfig({ name: 'g', profile: 'gpu', workers: 1, gpusPerNode: 0, nodeImage: 'kindest/node:v1.34.1' });
    const [cp, worker] = config.nodes;
    expect(cp.extraMounts).toBeUndefined();
    expect(worker.extraMounts).toEqual([{ hostPath: '/dev/null', containerPath: '/var/run/nvidia-container-devices/all' }]);
    expect(worker.labels).toEqual({ 'skiff.dev/profile': 'gpu', 'nvidia.com/gpu.present': 'true' });
    expect(config.nodes.every((n) => n.image === 'kindest/node:v1.34.1')).toBe(true);
  });

  it('gives each GPU worker its own GPUs when GPUs per node is set, as nvkind does', () => {
    const config = kindClusterConfig({ name: 'g', profile: 'gpu', workers: 2, gpusPerNode: 2 });
    const devices = config.nodes.map((n) => n.extraMounts?.map((m) => m.containerPath.split('/').pop()));
    expect(devices).toEqual([undefined, ['0', '1'], ['2', '3']]);
    expect(config.nodes[1].extraMounts?.every((m) => m.hostPath === '/dev/null')).toBe(true);
  });

  it('marks fake-gpu workers, and the control plane when it is the only node', () => {
    const config = kindClusterConfig({ name: 'f', profile: 'fake-gpu', workers: 1, gpusPerNode: 2 });
    expect(config.nodes[0].labels).toEqual({ 'skiff.dev/profile': 'fake-gpu' });
    expect(config.nodes[1].labels).toEqual({ 'skiff.dev/profile': 'fake-gpu', 'skiff.dev/fake-gpu': 'true' });
    const single = kindClusterConfig({ name: 'f', profile: 'fake-gpu', workers: 0, gpusPerNode: 2 });
    expect(single.nodes).toHaveLength(1);
    expect(single.nodes[0].labels['skiff.dev/fake-gpu']).toBe('true');
  });

  it('renders YAML kind can read back', () => {
    const opts = { name: 'skiff', profile: 'gpu' as const, workers: 2, gpusPerNode: 1 };
    expect(parse(kindClusterConfigYaml(opts))).toEqual(JSON.parse(JSON.stringify(kindClusterConfig(opts))));
  });
});
