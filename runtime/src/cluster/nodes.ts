// Reading and preparing a cluster's nodes through the Kubernetes API.
import type { V1Node } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { FAKE_GPU_LABEL, FAKE_GPU_PLUGIN_NAME, FAKE_GPU_PLUGIN_NAMESPACE, fakeGpuDevicePluginDaemonSet, fakeGpusOf, GPU_RESOURCE } from '../manifests/gpu.js';
import { PROFILE_LABEL } from '../manifests/kind-config.js';
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
 * fake-gpu: Skiff's device plugin on the marked nodes, advertising `gpusPerNode` each (or, with
 * `keepCount`, the count it already advertises). Returns the count, and whether the plugin was
 * created or changed.
 */
export async function runFakeGpuPlugin(api: ClusterApi, gpusPerNode: number, opts: { keepCount?: boolean } = {}): Promise<{ gpusPerNode: number; changed: boolean }> {
  const current = await api.readDaemonSet(FAKE_GPU_PLUGIN_NAMESPACE, FAKE_GPU_PLUGIN_NAME);
  const running = current && fakeGpusOf(current);
  const wanted = opts.keepCount && running !== undefined ? running : gpusPerNode;
  if (running === wanted) return { gpusPerNode: wanted, changed: false };
  await api.applyDaemonSet(fakeGpuDevicePluginDaemonSet(wanted));
  return { gpusPerNode: wanted, changed: true };
}

/**
 * Polls until every fake-GPU node's kubelet lists `gpusPerNode` allocatable nvidia.com/gpu: the
 * plugin's pods started, registered and reported their devices.
 */
export async function waitForFakeGpus(api: ClusterApi, cluster: NamedCluster, gpusPerNode: number, opts: WaitOptions): Promise<V1Node[]> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const nodes = await api.listNodes();
    const marked = fakeGpuNodes(nodes);
    const missing = marked.filter((node) => nodeInfo(node).gpus !== gpusPerNode).map((node) => node.metadata?.name ?? '');
    if (missing.length === 0) return nodes;
    if (Date.now() >= deadline) {
      throw new SkiffError(
        'TIMEOUT',
        `the fake GPU device plugin did not bring ${gpusPerNode} nvidia.com/gpu to ${missing.join(', ')} within ${Math.round(opts.timeoutMs / 1000)}s`,
        {
          hint: `look at \`kubectl --context ${cluster.context} -n ${FAKE_GPU_PLUGIN_NAMESPACE} logs ds/${FAKE_GPU_PLUGIN_NAME}\``,
        },
      );
    }
    await sleep(opts.intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
