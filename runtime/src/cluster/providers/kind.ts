// The kind CLI as a ClusterProvider. Only argument building and output parsing live here; the
// process itself goes through the exec seam, so tests pass a fake Runner.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkiffError } from '../../errors.js';
import { run, RunError, type RunOptions, type Runner } from '../../exec/run.js';
import { kindClusterConfigYaml } from '../../manifests/kind-config.js';
import { CONFIGURE_CONTAINERD_SCRIPT, INSTALL_TOOLKIT_SCRIPT, maskOtherGpusScript, visibleGpus, type ContainerMount } from '../../manifests/gpu-node.js';
import { CNI_CONFLIST_PATH, nodeAddresses, podNetworkPlan, type NodeAddress } from '../../manifests/pod-network.js';
import type { ClusterOptions } from '../../types.js';
import type { ClusterProvider } from '../provider.js';
import { defaultKubeconfigPath, KIND_VERSION } from '../../exec/tools.js';

export interface KindProviderOptions {
  /** The kind binary, or how to find it: looked up at its first use, so listing clusters needs no kind. */
  kindPath: string | (() => Promise<string>);
  runner?: Runner;
  /** Where kind writes the cluster's context; default: kind's own default ($KUBECONFIG or ~/.kube/config). */
  kubeconfigPath?: string;
}

/** Pulling the node image and booting nodes on a slow machine; kind has no timeout of its own. */
const CREATE_TIMEOUT_MS = 20 * 60_000;
const QUICK_TIMEOUT_MS = 2 * 60_000;

/** kind labels every node container with its cluster's name. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';

export class KindProvider implements ClusterProvider {
  readonly name = 'kind';
  readonly clusterLabel = KIND_CLUSTER_LABEL;
  private readonly kindPath: KindProviderOptions['kindPath'];
  private readonly runner: Runner;
  private readonly kubeconfigPath: string;

  constructor(opts: KindProviderOptions) {
    this.kindPath = opts.kindPath;
    this.runner = opts.runner ?? run;
    this.kubeconfigPath = opts.kubeconfigPath ?? defaultKubeconfigPath();
  }

  /** kind's context for a cluster ('skiff' -> 'kind-skiff'). */
  contextName(cluster: string): string {
    return `kind-${cluster}`;
  }

  async create(opts: ClusterOptions, onProgress?: (msg: string) => void): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-kind-'));
    try {
      const configPath = join(dir, 'kind-config.yaml');
      await writeFile(configPath, kindClusterConfigYaml(opts));
      await this.kind(createClusterArgs(opts, configPath, this.kubeconfigPath), {
        timeoutMs: CREATE_TIMEOUT_MS,
        onLine: progressReporter(onProgress),
      });
      onProgress?.('Configuring the pod network');
      await this.configurePodNetwork(opts.name);
      if (opts.profile === 'gpu') await this.prepareGpuNodes(opts.name, onProgress);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * `docker start` of every node, then the pod network again: its routes live in each node's network
   * namespace, which a restart empties (pods on different nodes could no longer reach each other,
   * DNS included), and a restarted node may come back with another address.
   */
  async start(name: string, onProgress?: (msg: string) => void): Promise<void> {
    await this.runner('docker', ['start', ...(await this.nodeContainers(name))], { timeoutMs: CREATE_TIMEOUT_MS });
    onProgress?.('Configuring the pod network');
    await this.configurePodNetwork(name);
  }

  /** Whether every node still routes to the other nodes' pods (cheap: one `ip route` per node, at once). */
  async intact(name: string): Promise<boolean> {
    const nodes = await this.nodeContainers(name);
    const routed = await Promise.all(
      nodes.map(async (node) => {
        const { stdout } = await this.runner('docker', ['exec', node, 'ip', 'route', 'show'], { timeoutMs: QUICK_TIMEOUT_MS });
        return stdout.split('\n').filter((line) => /^\d[\d.]*\/\d+ via /.test(line)).length;
      }),
    );
    return routed.every((count) => count >= nodes.length - 1);
  }

  /**
   * A kubeadm control plane is tied to the address it was made with (its API server advertises it,
   * etcd listens on it). Docker hands addresses out again when an engine restart starts the nodes,
   * and the control plane may get another one: that cluster never answers again.
   */
  async beyondRepair(name: string): Promise<string | undefined> {
    const [controlPlane] = (await this.nodeContainers(name)).filter(isControlPlane);
    if (!controlPlane) return undefined;
    const [now, manifest] = await Promise.all([
      this.nodeAddress(controlPlane),
      this.runner('docker', ['exec', controlPlane, 'cat', '/etc/kubernetes/manifests/kube-apiserver.yaml'], { timeoutMs: QUICK_TIMEOUT_MS }),
    ]).catch(() => [undefined, undefined]);
    const made = /--advertise-address=(\S+)/.exec(manifest?.stdout ?? '')?.[1];
    return now && made && now !== made
      ? `its control plane came back with another address (made with ${made}, now ${now}) after its containers restarted, and a kubeadm control plane cannot move`
      : undefined;
  }

  async delete(name: string): Promise<void> {
    await this.kind(['delete', 'cluster', '--name', name, '--kubeconfig', this.kubeconfigPath], { timeoutMs: QUICK_TIMEOUT_MS });
  }

  async list(): Promise<string[]> {
    return parseNames((await this.kind(['get', 'clusters'], { timeoutMs: QUICK_TIMEOUT_MS })).stdout);
  }

  async kubeconfig(name: string): Promise<string> {
    return (await this.kind(['get', 'kubeconfig', '--name', name], { timeoutMs: QUICK_TIMEOUT_MS })).stdout;
  }

  /**
   * kind taints the control plane of a cluster with workers, so no job runs there: leaving it out
   * saves importing (and unpacking) the image once more, a third of `skiff up` with two workers.
   */
  async loadImageArchive(name: string, archive: string, onProgress?: (msg: string) => void): Promise<void> {
    const nodes = await this.nodeContainers(name);
    const workers = nodes.filter((n) => !isControlPlane(n));
    const jobNodes = workers.length > 0 ? workers : nodes;
    await this.kind(['load', 'image-archive', archive, '--name', name, '--nodes', jobNodes.join(',')], { timeoutMs: CREATE_TIMEOUT_MS, onLine: progressReporter(onProgress) });
  }

  async nodeHasImage(node: string, image: string): Promise<boolean> {
    // kind's nodes are named after their containers; kind loads images into containerd's k8s.io namespace.
    const { stdout } = await this.runner('docker', ['exec', node, 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q', `name==${image}`], { timeoutMs: QUICK_TIMEOUT_MS });
    return stdout.split('\n').some((line) => line.trim() === image);
  }

  async nodeContainers(name: string): Promise<string[]> {
    return parseNames((await this.kind(['get', 'nodes', '--name', name], { timeoutMs: QUICK_TIMEOUT_MS })).stdout);
  }

  /**
   * nvkind's steps on every node the host gave GPUs: only its own GPUs visible, NVIDIA's container
   * toolkit installed (from NVIDIA's apt repository when the node image lacks it), and containerd
   * given the `nvidia` runtime. Nodes are done one after another: apt and containerd restarts on
   * all nodes at once would only compete.
   */
  private async prepareGpuNodes(name: string, onProgress?: (msg: string) => void): Promise<void> {
    for (const node of await this.nodeContainers(name)) {
      const inspected = await this.runner('docker', ['inspect', '--format', '{{json .Mounts}}', node], { timeoutMs: QUICK_TIMEOUT_MS });
      const visible = visibleGpus(JSON.parse(inspected.stdout || '[]') as ContainerMount[]);
      if (visible.length === 0) continue;
      onProgress?.(`Setting up the NVIDIA runtime on ${node} (GPUs ${visible.join(', ')})`);
      const inNode = (script: string, what: string, hint: string) =>
        this.runner('docker', ['exec', node, 'bash', '-c', script], { timeoutMs: CREATE_TIMEOUT_MS }).catch((err: unknown) => {
          throw new SkiffError('NO_GPU', `${what} on node ${node} failed: ${err instanceof Error ? err.message : String(err)}`, { hint, cause: err });
        });
      await inNode(maskOtherGpusScript(visible), 'hiding the GPUs of other nodes', 'is the NVIDIA driver loaded on this machine (`nvidia-smi`)?');
      await inNode(
        INSTALL_TOOLKIT_SCRIPT,
        "installing NVIDIA's container toolkit",
        'the node needs nvidia.github.io and Debian mirrors; check the network, or use a node image with nvidia-container-toolkit',
      );
      await inNode(CONFIGURE_CONTAINERD_SCRIPT, 'configuring containerd for the NVIDIA runtime', 'see `docker exec ' + node + ' journalctl -u containerd`');
    }
  }

  /** Writes each node's CNI config and the routes to the other nodes' pods (see pod-network.ts). */
  private async configurePodNetwork(name: string): Promise<void> {
    const [controlPlane] = (await this.nodeContainers(name)).filter(isControlPlane);
    const nodes = await this.waitForPodCIDRs(controlPlane);
    // The address each node has now (the API server's record lags behind a restarted node's).
    for (const node of nodes) node.ip = (await this.nodeAddress(node.name)) || node.ip;
    for (const plan of podNetworkPlan(nodes)) {
      await this.runner('docker', ['exec', '-i', plan.node, 'sh', '-c', `mkdir -p /etc/cni/net.d && cat > ${CNI_CONFLIST_PATH}`], {
        input: plan.conflist,
        timeoutMs: QUICK_TIMEOUT_MS,
      });
      for (const route of plan.routes) {
        await this.runner('docker', ['exec', plan.node, 'ip', 'route', 'replace', route.cidr, 'via', route.via], { timeoutMs: QUICK_TIMEOUT_MS });
      }
    }
  }

  /** The node container's address on its Docker network, as Docker gives it now. */
  private async nodeAddress(node: string): Promise<string | undefined> {
    const { stdout } = await this.runner('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', node], { timeoutMs: QUICK_TIMEOUT_MS });
    return stdout.trim().split(/\s+/)[0] || undefined;
  }

  /** The controller manager hands out pod ranges moments after each node registers. */
  private async waitForPodCIDRs(controlPlane: string): Promise<NodeAddress[]> {
    const deadline = Date.now() + CREATE_TIMEOUT_MS;
    for (;;) {
      // Right after a restart the API server may not answer yet: keep asking until the deadline.
      const listed = await this.runner('docker', ['exec', controlPlane, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', 'nodes', '-o', 'json'], {
        timeoutMs: QUICK_TIMEOUT_MS,
      }).catch(() => undefined);
      const nodes = listed && nodeAddresses(JSON.parse(listed.stdout));
      if (nodes) return nodes;
      if (Date.now() > deadline) throw new SkiffError('TIMEOUT', "the cluster's nodes got no pod address ranges in time");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  private async kind(args: string[], opts: RunOptions) {
    // A failed lookup is not remembered: the user may install kind and retry in the same process.
    const kindPath = typeof this.kindPath === 'string' ? this.kindPath : await this.kindPath();
    try {
      return await this.runner(kindPath, args, opts);
    } catch (err) {
      if (err instanceof RunError && err.notFound) {
        throw new SkiffError('NO_KIND', `kind not found at ${kindPath}`, {
          hint: `run \`skiff images build binaries\` or install kind ${KIND_VERSION}`,
          cause: err,
        });
      }
      throw err;
    }
  }
}

export function createClusterArgs(opts: ClusterOptions, configPath: string, kubeconfigPath: string): string[] {
  const args = ['create', 'cluster', '--name', opts.name, '--config', configPath];
  if (opts.nodeImage) args.push('--image', opts.nodeImage);
  // Skiff waits for Ready nodes itself, with progress and its own timeout.
  args.push('--wait', '0s', '--kubeconfig', kubeconfigPath);
  return args;
}

/**
 * One name per line (`kind get clusters`, `kind get nodes`). kind says "No kind clusters found."
 * on stderr, but older releases printed it on stdout, hence the filter.
 */
export function parseNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^No kind (clusters|nodes) found/.test(line));
}

// kind's closing advice on how to use kubectl; Skiff prints its own next steps.
const KIND_CHATTER = /^(You can now use your cluster|kubectl cluster-info|Thanks for using kind|Have a nice day|Have a question|Not sure what to do next|Delete the cluster)/;

/**
 * kind's status line without decoration, or undefined for lines not worth showing. Without a
 * terminal kind prints " • Step ..." when a step starts and " ✓ Step" when it ends.
 */
export function kindProgressMessage(line: string): string | undefined {
  const plain = line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').trim();
  if (!plain || plain.startsWith('✓') || KIND_CHATTER.test(plain)) return undefined;
  const failed = plain.startsWith('✗');
  const text = plain
    .replace(/^[•✗]\s*/, '')
    .replace(/[\p{Extended_Pictographic}\u{FE0F}]/gu, '')
    .replace(/\s*\.\.\.$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return undefined;
  return failed ? `failed: ${text}` : text;
}

function progressReporter(onProgress?: (msg: string) => void): RunOptions['onLine'] {
  if (!onProgress) return undefined;
  return (line) => {
    const message = kindProgressMessage(line);
    if (message) onProgress(message);
  };
}

/** kind names the control-plane node container `<cluster>-control-plane`. */
function isControlPlane(node: string): boolean {
  return node.endsWith('-control-plane');
}
