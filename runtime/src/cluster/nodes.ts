// Reading and preparing a cluster's nodes through the Kubernetes API.
import type { V1DaemonSet, V1Node } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import {
  FAKE_GPU_LABEL,
  FAKE_GPU_PLUGIN_NAME,
  DEVICE_PLUGIN_NAMESPACE,
  fakeGpuDevicePluginDaemonSet,
  fakeGpusOf,
  GPU_RESOURCE,
  GPU_SHARING_LABEL,
  gpuSharingOf,
  type FakeGpus,
} from '../manifests/gpu.js';
import { PROFILE_LABEL } from '../manifests/kind-config.js';
import { DRA_GPU_DRIVER, DRA_PLUGIN_NAME, draGpuDriverObjects, draGpusPerNode } from '../manifests/dra.js';
import { CLUSTER_PROFILES, type ClusterInfo, type ClusterProfile, type NodeInfo } from '../types.js';
import type { ClusterApi } from './kube-api.js';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
const PROFILES: readonly ClusterProfile[] = CLUSTER_PROFILES;

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function nodeInfo(node: V1Node): NodeInfo {
  const labels = node.metadata?.labels ?? {};
  // Shared GPUs are listed once per share: count each GPU once.
  const sharing = gpuSharingOf(node);
  const devices = Number.parseInt(node.status?.allocatable?.[GPU_RESOURCE] ?? '0', 10);
  const info: NodeInfo = {
    name: node.metadata?.name ?? '',
    role: CONTROL_PLANE_LABEL in labels ? 'control-plane' : 'worker',
    ready: isNodeReady(node),
    gpus: Number.isFinite(devices) ? Math.floor(devices / sharing) : 0,
  };
  if (sharing > 1) info.gpuSharing = sharing;
  return info;
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

/**
 * The cluster as its nodes describe it. `draGpus` (a DRA cluster): each node's GPUs are the devices
 * the driver published for it, which the kubelet does not list as allocatable.
 */
export function clusterInfoFromNodes({ name, context }: NamedCluster, nodes: V1Node[], draGpus?: Map<string, number>): ClusterInfo {
  const infos = nodes
    .map((node) => (draGpus ? { ...nodeInfo(node), gpus: draGpus.get(node.metadata?.name ?? '') ?? 0 } : nodeInfo(node)))
    .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'control-plane' ? -1 : 1));
  return { name, context, profile: profileOf(nodes), nodes: infos, ...(draGpus ? { gpuDriver: 'dra' as const } : {}) };
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

/**
 * The nodes that run jobs (the workers, or a lone control plane) whose kubelet does not list
 * `image`: a cluster made before Skiff's job image changed version has only the old one.
 */
export function jobNodesWithout(nodes: V1Node[], image: string): string[] {
  const workers = nodes.filter((node) => !(CONTROL_PLANE_LABEL in (node.metadata?.labels ?? {})));
  const jobNodes = workers.length > 0 ? workers : nodes;
  return jobNodes.filter((node) => !node.status?.images?.some((listed) => listed.names?.includes(image))).map((node) => node.metadata?.name ?? '');
}

/** Nodes that Skiff's kind config marked to carry fake GPUs (workers, or a lone control plane). */
export function fakeGpuNodes(nodes: V1Node[]): V1Node[] {
  return nodes.filter((node) => node.metadata?.labels?.[FAKE_GPU_LABEL] === 'true');
}

/**
 * fake-gpu: Skiff's device plugin on the marked nodes, with what was asked; what was not asked
 * keeps what the plugin runs with, or else `fallback`. The marked nodes carry the sharing label, as
 * time-slicing's feature discovery would put it. Returns what the plugin advertises, and whether it
 * was created or changed.
 */
export async function runFakeGpuPlugin(api: ClusterApi, nodes: V1Node[], asked: Partial<FakeGpus>, fallback: FakeGpus): Promise<{ gpus: FakeGpus; changed: boolean }> {
  const current = await api.readDaemonSet(DEVICE_PLUGIN_NAMESPACE, FAKE_GPU_PLUGIN_NAME);
  const running = current && fakeGpusOf(current);
  const gpus: FakeGpus = {
    gpusPerNode: asked.gpusPerNode ?? running?.gpusPerNode ?? fallback.gpusPerNode,
    sharing: asked.sharing ?? running?.sharing ?? fallback.sharing,
  };
  await labelGpuSharing(api, fakeGpuNodes(nodes), gpus.sharing);
  if (running?.gpusPerNode === gpus.gpusPerNode && running.sharing === gpus.sharing) return { gpus, changed: false };
  await api.applyDaemonSet(fakeGpuDevicePluginDaemonSet(gpus));
  return { gpus, changed: true };
}

/**
 * fake-gpu with DRA: Kubernetes' DRA test driver on the marked nodes, `gpusPerNode` devices each, and
 * the DeviceClass jobs claim them by. Returns whether it was created or changed (its pods then roll).
 */
export async function runDraGpuDriver(api: ClusterApi, gpusPerNode: number): Promise<boolean> {
  const current = await readDraGpuDriver(api);
  if (current && draGpusPerNode(current) === gpusPerNode) return false;
  for (const obj of draGpuDriverObjects(gpusPerNode)) await api.apply(obj);
  return true;
}

/** Takes the DRA driver and its DeviceClass away (`skiff up --no-dra`): jobs no longer claim GPUs there. */
export async function removeDraGpuDriver(api: ClusterApi): Promise<void> {
  for (const obj of draGpuDriverObjects(1).reverse()) await api.delete(obj);
}

/** Takes Skiff's fake device plugin away (`skiff up --dra`), and the sharing label it went with, so no GPU is counted twice. */
export async function removeFakeGpuPlugin(api: ClusterApi, nodes: V1Node[]): Promise<void> {
  await api.delete({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: FAKE_GPU_PLUGIN_NAME, namespace: DEVICE_PLUGIN_NAMESPACE } });
  await labelGpuSharing(api, fakeGpuNodes(nodes), 1);
}

/** The DRA driver's DaemonSet, on a cluster whose fake GPUs are DRA devices (else undefined). */
export function readDraGpuDriver(api: ClusterApi): Promise<V1DaemonSet | undefined> {
  return api.readDaemonSet(DEVICE_PLUGIN_NAMESPACE, DRA_PLUGIN_NAME);
}

/** Polls until the driver has published `gpusPerNode` devices for every fake-GPU node; returns them by node. */
export async function waitForDraGpus(api: ClusterApi, cluster: NamedCluster, gpusPerNode: number, opts: WaitOptions): Promise<Map<string, number>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const [nodes, devices] = await Promise.all([api.listNodes(), api.listDraDevices(DRA_GPU_DRIVER)]);
    const missing = fakeGpuNodes(nodes)
      .map((node) => node.metadata?.name ?? '')
      .filter((name) => devices.get(name) !== gpusPerNode);
    if (missing.length === 0) return devices;
    if (Date.now() >= deadline) {
      throw new SkiffError('TIMEOUT', `the DRA driver did not publish ${gpusPerNode} device(s) for ${missing.join(', ')} within ${Math.round(opts.timeoutMs / 1000)}s`, {
        hint: `look at \`kubectl --context ${cluster.context} -n ${DEVICE_PLUGIN_NAMESPACE} logs ds/${DRA_PLUGIN_NAME}\``,
      });
    }
    await sleep(opts.intervalMs);
  }
}

/**
 * Labels GPU nodes with how many ways their GPUs are shared, as NVIDIA's feature discovery does
 * under time-slicing (no label: not shared); nodes already labelled so are left alone.
 */
export async function labelGpuSharing(api: ClusterApi, gpuNodes: V1Node[], sharing: number): Promise<void> {
  for (const node of gpuNodes) {
    if (gpuSharingOf(node) !== sharing) await api.labelNode(node.metadata?.name ?? '', { [GPU_SHARING_LABEL]: sharing > 1 ? String(sharing) : null });
  }
}

/**
 * Polls until every fake-GPU node's kubelet lists the plugin's devices (each GPU once per share):
 * the plugin's pods started, registered and reported them.
 */
export async function waitForFakeGpus(api: ClusterApi, cluster: NamedCluster, gpus: FakeGpus, opts: WaitOptions): Promise<V1Node[]> {
  const deadline = Date.now() + opts.timeoutMs;
  const devices = gpus.gpusPerNode * gpus.sharing;
  for (;;) {
    const nodes = await api.listNodes();
    const missing = fakeGpuNodes(nodes)
      .filter((node) => node.status?.allocatable?.[GPU_RESOURCE] !== String(devices))
      .map((node) => node.metadata?.name ?? '');
    if (missing.length === 0) return nodes;
    if (Date.now() >= deadline) {
      throw new SkiffError('TIMEOUT', `the fake GPU device plugin did not bring ${devices} nvidia.com/gpu to ${missing.join(', ')} within ${Math.round(opts.timeoutMs / 1000)}s`, {
        hint: `look at \`kubectl --context ${cluster.context} -n ${DEVICE_PLUGIN_NAMESPACE} logs ds/${FAKE_GPU_PLUGIN_NAME}\``,
      });
    }
    await sleep(opts.intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
