// Reading and preparing a cluster's nodes through the Kubernetes API.
import type { V1Node } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { fakeGpuCapacityPatch, GPU_RESOURCE } from '../manifests/gpu.js';
import { FAKE_GPU_LABEL, PROFILE_LABEL } from '../manifests/kind-config.js';
import { CLUSTER_PROFILES, type ClusterInfo, type ClusterProfile, type NodeInfo } from '../types.js';
import type { ClusterApi } from './kube-api.js';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
const PROFILES: readonly ClusterProfile[] = CLUSTER_PROFILES;

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function nodeInfo(node: V1Node): NodeInfo {
  const labels = node.metadata?.labels ?? {};
  const gpus = Number.parseInt(node.status?.allocatable?.[GPU_RESOURCE] ?? '0', 10);
  return {
    name: node.metadata?.name ?? '',
    role: CONTROL_PLANE_LABEL in labels ? 'control-plane' : 'worker',
    ready: isNodeReady(node),
    gpus: Number.isFinite(gpus) ? gpus : 0,
  };
}

/** The profile the cluster was created with, from the label Skiff's kind config puts on every node. */
export function profileOf(nodes: V1Node[]): ClusterProfile {
  for (const node of nodes) {
    const profile = node.metadata?.labels?.[PROFILE_LABEL];
    if (PROFILES.includes(profile as ClusterProfile)) return profile as ClusterProfile;
  }
  return 'cpu';
}

/** A cluster's name and the kube context its tool wrote for it. */
export interface NamedCluster {
  name: string;
  context: string;
}

export function clusterInfoFromNodes({ name, context }: NamedCluster, nodes: V1Node[]): ClusterInfo {
  const infos = nodes.map(nodeInfo).sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'control-plane' ? -1 : 1));
  return { name, context, profile: profileOf(nodes), nodes: infos };
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  onProgress?: (msg: string) => void;
}

/** Polls until `expected` nodes are registered and all of them are Ready. */
export async function waitForNodesReady(api: ClusterApi, cluster: NamedCluster, expected: number, opts: WaitOptions): Promise<V1Node[]> {
  const deadline = Date.now() + opts.timeoutMs;
  let reported = '';
  for (;;) {
    // Right after creation the API server may still refuse connections: keep polling.
    const nodes = await api.listNodes().catch(() => [] as V1Node[]);
    const ready = nodes.filter(isNodeReady).length;
    if (nodes.length >= expected && ready === nodes.length) return nodes;
    const message = `waiting for nodes to be Ready (${ready}/${expected})`;
    if (message !== reported) opts.onProgress?.(message);
    reported = message;
    if (Date.now() >= deadline) {
      throw new SkiffError('TIMEOUT', `nodes of cluster '${cluster.name}' not Ready after ${Math.round(opts.timeoutMs / 1000)}s (${ready}/${expected} Ready)`, {
        hint: `look at \`kubectl --context ${cluster.context} describe nodes\``,
      });
    }
    await sleep(opts.intervalMs);
  }
}

/** Nodes that Skiff's kind config marked to carry fake GPUs (workers, or a lone control plane). */
export function fakeGpuNodes(nodes: V1Node[]): V1Node[] {
  return nodes.filter((node) => node.metadata?.labels?.[FAKE_GPU_LABEL] === 'true');
}

/**
 * Advertises `gpusPerNode` nvidia.com/gpu on the fake-GPU nodes: on every one whose count differs,
 * or with `onlyWhereMissing` on those showing none (a kubelet restart drops capacity that no device
 * plugin owns). Returns the nodes it patched.
 */
export async function advertiseFakeGpus(api: ClusterApi, nodes: V1Node[], gpusPerNode: number, opts: { onlyWhereMissing?: boolean } = {}): Promise<string[]> {
  if (gpusPerNode <= 0) return [];
  const stale = (gpus: number) => (opts.onlyWhereMissing ? gpus === 0 : gpus !== gpusPerNode);
  const names = fakeGpuNodes(nodes)
    .filter((node) => stale(nodeInfo(node).gpus))
    .map((node) => node.metadata?.name ?? '')
    .filter(Boolean);
  for (const name of names) await api.mergePatchNodeStatus(name, fakeGpuCapacityPatch(gpusPerNode));
  return names;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
