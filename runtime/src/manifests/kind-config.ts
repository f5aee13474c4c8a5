// The kind Cluster config for a Skiff cluster: one control plane plus N workers, labelled by profile.
import { stringify } from 'yaml';
import type { ClusterOptions } from '../types.js';
import { FAKE_GPU_LABEL, GPU_PRESENT_LABEL } from './gpu.js';
import { NODE_DATA_DIR, NODE_HOME_DIR } from '../workspace/layout.js';

export const PROFILE_LABEL = 'skiff.dev/profile';
export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/16';

/**
 * kind's own kubeadm template already sets conntrack.maxPerCore: 0 (nodes are containers and cannot
 * write the global nf_conntrack_max); we restate it and add the two timeouts kind skips only for
 * rootless providers, which nested or capability-restricted Docker hosts cannot write either.
 */
export const KUBE_PROXY_PATCH = `kind: KubeProxyConfiguration
apiVersion: kubeproxy.config.k8s.io/v1alpha1
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;

interface KindNode {
  role: 'control-plane' | 'worker';
  image?: string;
  labels: Record<string, string>;
  extraMounts?: KindMount[];
}

interface KindMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

export interface KindClusterConfig {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  name: string;
  networking: { podSubnet: string; serviceSubnet: string; disableDefaultCNI: boolean };
  kubeadmConfigPatches: string[];
  nodes: KindNode[];
}

/**
 * nvkind's trick: with the NVIDIA runtime as Docker's default, a /dev/null mounted at
 * /var/run/nvidia-container-devices/<device> makes it inject that GPU into the node container.
 * With GPUs per node set, the n-th job node gets its own consecutive GPU indices; otherwise all.
 */
export function gpuDeviceMounts(jobNodeIndex: number, gpusPerNode: number): { hostPath: string; containerPath: string }[] {
  const devices = gpusPerNode > 0 ? Array.from({ length: gpusPerNode }, (_, i) => String(jobNodeIndex * gpusPerNode + i)) : ['all'];
  return devices.map((d) => ({ hostPath: '/dev/null', containerPath: `/var/run/nvidia-container-devices/${d}` }));
}

/** What a node that runs jobs needs for the profile (GPU passthrough or the fake-GPU marker). */
function jobNode(role: KindNode['role'], opts: ClusterOptions, index: number): KindNode {
  const node: KindNode = { role, labels: { [PROFILE_LABEL]: opts.profile } };
  if (opts.profile === 'gpu') {
    node.extraMounts = gpuDeviceMounts(index, opts.gpusPerNode);
    node.labels[GPU_PRESENT_LABEL] = 'true';
  } else if (opts.profile === 'fake-gpu') {
    node.labels[FAKE_GPU_LABEL] = 'true';
  }
  return node;
}

/** The same host folders in every node, so a hostPath volume reaches the same files wherever a pod lands. */
export function sharedFolderMounts(shared: ClusterOptions['shared']): KindMount[] {
  if (!shared) return [];
  const mounts: KindMount[] = [{ hostPath: shared.data, containerPath: NODE_DATA_DIR }];
  if (shared.home) mounts.push({ hostPath: shared.home, containerPath: NODE_HOME_DIR, readOnly: true });
  return mounts;
}

export function kindClusterConfig(opts: ClusterOptions): KindClusterConfig {
  // Without workers the control plane is untainted and runs the jobs, so it gets the GPU setup.
  const controlPlane = opts.workers > 0 ? { role: 'control-plane' as const, labels: { [PROFILE_LABEL]: opts.profile } } : jobNode('control-plane', opts, 0);
  const nodes: KindNode[] = [controlPlane, ...Array.from({ length: opts.workers }, (_, i) => jobNode('worker', opts, i))];
  if (opts.nodeImage) for (const node of nodes) node.image = opts.nodeImage;
  const shared = sharedFolderMounts(opts.shared);
  if (shared.length > 0) for (const node of nodes) node.extraMounts = [...(node.extraMounts ?? []), ...shared];
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: opts.name,
    // Skiff wires the pod network itself (pod-network.ts): no CNI image to pull.
    networking: { podSubnet: POD_SUBNET, serviceSubnet: SERVICE_SUBNET, disableDefaultCNI: true },
    kubeadmConfigPatches: [KUBE_PROXY_PATCH],
    nodes,
  };
}

export function kindClusterConfigYaml(opts: ClusterOptions): string {
  return stringify(kindClusterConfig(opts));
}
