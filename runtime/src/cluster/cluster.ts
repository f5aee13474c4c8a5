// The cluster facade the CLI and editors use. `up` is kind's create flow in small ordered steps:
// check the machine, reuse a healthy cluster, pick a node image, create, wait for Ready nodes,
// add the profile's GPU pieces, create Skiff's namespace, load the job image.
import { KubeConfig, type V1Node } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { SkiffError } from '../errors.js';
import { withTimeout } from '../exec/run.js';
import {
  DEVICE_PLUGIN_IMAGE,
  DEVICE_PLUGIN_NAMESPACE,
  FAKE_GPU_PLUGIN_IMAGE,
  FAKE_GPU_PLUGIN_NAME,
  fakeGpusOf,
  GPU_PRESENT_LABEL,
  nvidiaDevicePluginDaemonSet,
  nvidiaRuntimeClass,
  nvidiaTimeSlicingConfigMap,
  type FakeGpus,
} from '../manifests/gpu.js';
import { cachedImageArchive } from '../images/archive.js';
import { buildImages, JOB_IMAGE } from '../images/images.js';
import { addonsFrom, installAddons } from '../addons/addons.js';
import { sizeQueue } from '../addons/kueue.js';
import { CLUSTER_PROFILES, clusterGpuSharing, type AddonName, type ClusterInfo, type ClusterOptions, type ClusterProfile } from '../types.js';
import { clusterApi, type ClusterApi } from './kube-api.js';
import { chooseNodeImage, pullImage, type NodeImageDeps } from './node-image.js';
import {
  clusterInfoFromNodes,
  jobNodesWithout,
  labelGpuSharing,
  profileOf,
  readDraGpuDriver,
  removeDraGpuDriver,
  removeFakeGpuPlugin,
  runDraGpuDriver,
  runFakeGpuPlugin,
  sleep,
  waitForDraGpus,
  waitForFakeGpus,
  waitForNodesReady,
  type NamedCluster,
  type WaitOptions,
} from './nodes.js';
import { DRA_DRIVER_IMAGE, DRA_GPU_DRIVER, draGpusPerNode } from '../manifests/dra.js';
import { assertReady, DOCKER_HINT, dockerEndpoint, preflight, type GpuDemand, type PreflightReport } from './preflight.js';
import type { ClusterProvider } from './provider.js';
import { KindProvider } from './providers/kind.js';
import { defaultKubeconfigPath, findKind, KIND_VERSION, OFFLINE_NODE_IMAGE } from '../exec/tools.js';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { NODE_DATA_DIR, NODE_HOME_DIR, dataDir, type SharedFolders } from '../workspace/layout.js';

export const DEFAULT_CLUSTER = 'skiff';
/** Where Skiff's jobs run. */
export const SKIFF_NAMESPACE = 'skiff';

/** Node containers on one machine: more would only starve each other. */
export const MAX_WORKER_NODES = 16;
export const MAX_GPUS_PER_NODE = 16;
/** Time-slicing past a few ways leaves each share too little of the GPU to be worth a job. */
export const MAX_GPU_SHARING = 8;

export const DEFAULT_OPTIONS = { profile: 'cpu', workers: 2, gpusPerNode: 1, gpuSharing: 1 } as const satisfies Omit<ClusterOptions, 'name'>;

const READYZ_TIMEOUT_MS = 2_000;
/** A Docker engine that takes longer than this to list containers is stuck (as preflight's `info`). */
const DOCKER_CALL_TIMEOUT_MS = 30_000;

/** How long a cluster whose API server does not answer gets before `up` recreates it. */
const UNRESPONSIVE_GRACE_MS = 30_000;
const NODES_READY_TIMEOUT_MS = 5 * 60_000;
const POLL_INTERVAL_MS = 1_000;
/** The plugin's pod starts from a preloaded image: seconds, unless a node is starved. */
const FAKE_GPUS_TIMEOUT_MS = 2 * 60_000;

export interface UpResult {
  cluster: ClusterInfo;
  reused: boolean;
  seconds: number;
  /** The add-ons installed (or brought up to date) by this call, when it was asked for some. */
  addons?: AddonName[];
}

export type UpRequest = Partial<ClusterOptions> & {
  name?: string;
  /** Delete a cluster that exists but is unhealthy and make it anew; without it, up says what is wrong and deletes nothing. */
  recreate?: boolean;
  /** Add-ons to install, into a new cluster or a running one (`--with mlflow`). */
  addons?: readonly string[];
};

export interface ClustersDeps {
  provider?: ClusterProvider;
  docker?: Docker;
  /** The kubeconfig kind writes contexts into; default $KUBECONFIG's first file or ~/.kube/config. */
  kubeconfigPath?: string;
  // Seams for tests.
  api?: (kc: KubeConfig) => ClusterApi;
  preflight?: (profile: ClusterProfile) => Promise<PreflightReport>;
  sizeQueue?: typeof sizeQueue;
  buildImages?: typeof buildImages;
  pullImage?: NodeImageDeps['pullImage'];
  /** The host folder shared into the nodes for jobs' files (default: dataDir()). */
  dataDir?: string;
  /** Where image archives for the nodes are kept (default: image-archives/ in the cache). */
  archiveDir?: string;
  pollIntervalMs?: number;
  nodesReadyTimeoutMs?: number;
  /** How long the fake GPU device plugin may take to bring its GPUs to the nodes (default FAKE_GPUS_TIMEOUT_MS). */
  fakeGpusTimeoutMs?: number;
  unresponsiveGraceMs?: number;
  /** How long a quick Docker API call (listing containers) may take (default DOCKER_CALL_TIMEOUT_MS). */
  dockerCallTimeoutMs?: number;
}

type Progress = (msg: string) => void;

/** What a cluster's containers and API server say about it. */
type Health =
  | { state: 'absent' }
  | { state: 'unhealthy'; problem: string; hopeless?: boolean }
  | { state: 'healthy'; api: ClusterApi }
  | { state: 'stopped'; containers: Docker.ContainerInfo[] };

export class Clusters {
  private readonly docker: Docker;
  private readonly kubeconfigPath: string;
  private readonly deps: ClustersDeps;
  /** The cluster tool: everything the tool names its own way (contexts, container labels) is asked of it. */
  readonly provider: ClusterProvider;

  constructor(deps: ClustersDeps = {}) {
    this.deps = deps;
    this.docker = deps.docker ?? new Docker();
    this.kubeconfigPath = deps.kubeconfigPath ?? defaultKubeconfigPath();
    this.provider = deps.provider ?? new KindProvider({ kindPath: findKindOrFail, kubeconfigPath: this.kubeconfigPath });
  }

  /** Creates or reuses the cluster, then installs the add-ons asked for (each checked before anything starts). */
  async up(request: UpRequest = {}, onProgress: Progress = () => {}): Promise<UpResult> {
    const addons = addonsFrom(request.addons ?? []);
    const result = await this.upCluster(request, onProgress);
    const name = result.cluster.name;
    const started = performance.now();
    // The nodes' GPUs may have changed (--gpu-sharing, --gpus-per-node): a queue holds what they have now.
    if (!addons.includes('kueue')) await (this.deps.sizeQueue ?? sizeQueue)(await this.kubeConfig(name), onProgress);
    if (addons.length === 0) return result;
    const [kc, shared] = await Promise.all([this.kubeConfig(name), this.sharedFolders(name)]);
    await installAddons(kc, addons, { cluster: name, shared, image: JOB_IMAGE, onProgress, loadImage: (image) => this.loadImage(name, image, onProgress) });
    return { ...result, seconds: result.seconds + secondsSince(started), addons };
  }

  private async upCluster(request: UpRequest, onProgress: Progress): Promise<UpResult> {
    const started = performance.now();
    const opts = clusterOptions(request);
    await this.checkMachine(opts.profile, { jobNodes: Math.max(opts.workers, 1), gpusPerNode: opts.gpusPerNode });
    const provider = this.provider;
    let health = await this.health(opts.name, provider, onProgress);
    if (health.state === 'stopped') {
      // After a Docker engine restart, or a node container stopped by hand: start it again, as
      // `docker start` would, and give the API server its usual grace; the cluster keeps its jobs.
      const names = health.containers.map(containerName);
      onProgress(`starting the stopped node containers of cluster '${opts.name}' (${names.join(', ')})`);
      await provider.start(opts.name, onProgress);
      health = await this.health(opts.name, provider, onProgress);
      if (health.state === 'stopped') health = { state: 'unhealthy', problem: `its node containers stopped again after a start (${names.join(', ')})` };
    }
    if (health.state === 'healthy') {
      // Docker restarts node containers on its own after an engine restart: they run, but without
      // what Skiff laid on them.
      if (!(await provider.intact(opts.name))) {
        onProgress(`the nodes of cluster '${opts.name}' restarted and lost their pod network; setting it up again`);
        await provider.start(opts.name, onProgress);
      }
      const cluster = await this.reuse(opts, request, health.api, onProgress);
      return { cluster, reused: true, seconds: secondsSince(started) };
    }
    if (health.state === 'unhealthy') {
      // Deleting takes its running jobs and sessions with it, and a loaded laptop can make a healthy
      // API server slow: that is the user's call, not ours.
      if (!request.recreate) {
        throw new SkiffError('UNREACHABLE', `cluster '${opts.name}' exists but ${health.problem}; nothing was deleted`, {
          hint: `${health.hopeless ? '' : 'if this machine is busy, wait and run `skiff up` again; '}to delete the cluster and make it anew (its jobs and sessions go, outputs stay on this machine): \`skiff up --recreate${opts.name === DEFAULT_CLUSTER ? '' : ` --name ${opts.name}`}\``,
        });
      }
      onProgress(`cluster '${opts.name}' exists but ${health.problem}; recreating it`);
      await provider.delete(opts.name);
    }
    const cluster = await this.create(provider, { ...opts, shared: await this.foldersToShare() }, onProgress);
    return { cluster, reused: false, seconds: secondsSince(started) };
  }

  /**
   * The host folders a local cluster shares with its nodes, read from its node containers' mounts
   * (so the answer holds whatever $SKIFF_DATA_DIR said when the cluster was made). CLUSTER_OUTDATED
   * for a cluster made before Skiff shared folders: its jobs would have nowhere to write.
   */
  async sharedFolders(name: string): Promise<SharedFolders> {
    const containers = await this.listNodeContainers(name);
    if (containers.length === 0) throw this.missing(name);
    const mounts = containers[0].Mounts ?? [];
    const data = mounts.find((m) => m.Destination === NODE_DATA_DIR)?.Source;
    if (!data) {
      throw new SkiffError('CLUSTER_OUTDATED', `cluster '${name}' was made by an older Skiff and has no folder for jobs' files (working directories, outputs, packages)`, {
        hint: `recreate it: \`skiff down --name ${name} && skiff up --name ${name}\` (its jobs are deleted with it)`,
      });
    }
    const home = mounts.find((m) => m.Destination === NODE_HOME_DIR)?.Source;
    return home ? { data, home } : { data };
  }

  private async foldersToShare(): Promise<SharedFolders> {
    const data = this.deps.dataDir ?? dataDir();
    await mkdir(data, { recursive: true });
    const home = homedir();
    return home && home !== '/' ? { data, home } : { data };
  }

  /** Deletes the cluster (and a context it left behind); false when there was no such cluster. */
  async down(name: string): Promise<boolean> {
    const existed = (await this.listNodeContainers(name)).length > 0;
    // kind also removes a context whose containers are already gone.
    await this.provider.delete(name);
    return existed;
  }

  async list(): Promise<ClusterInfo[]> {
    const label = this.provider.clusterLabel;
    const containers = await this.dockerCall(() => this.docker.listContainers({ all: true, filters: { label: [label] } }));
    const names = [...new Set(containers.map((c) => c.Labels[label]).filter(Boolean))].sort();
    return Promise.all(
      names.map((name) =>
        // A cluster that does not answer is still listed, without nodes.
        this.status(name).catch((): ClusterInfo => ({ name, context: this.provider.contextName(name), profile: 'cpu', nodes: [] })),
      ),
    );
  }

  async status(name: string): Promise<ClusterInfo> {
    const api = this.apiFor(await this.kubeConfig(name));
    let nodes: V1Node[];
    try {
      nodes = await api.listNodes();
    } catch (err) {
      throw new SkiffError('UNREACHABLE', `cluster '${name}' does not answer: ${err instanceof Error ? err.message : String(err)}`, {
        hint: 'run `skiff up` to repair it',
        cause: err,
      });
    }
    const dra = profileOf(nodes) === 'fake-gpu' && (await readDraGpuDriver(api));
    return clusterInfoFromNodes(this.named(name), nodes, dra ? await api.listDraDevices(DRA_GPU_DRIVER) : undefined);
  }

  /** A KubeConfig whose current context is the cluster's; throws when the cluster does not exist. */
  async kubeConfig(name: string): Promise<KubeConfig> {
    if ((await this.nodeContainers(name)).length === 0) throw this.missing(name);
    return this.loadKubeConfig(name);
  }

  async loadImage(name: string, image: string, onProgress?: Progress): Promise<void> {
    if ((await this.nodeContainers(name)).length === 0) throw this.missing(name);
    const archive = await this.imageArchive(image, onProgress);
    if (!archive) throw new SkiffError('IMAGE_MISSING', `image ${image} is not in the local Docker engine`, { hint: 'run `skiff images build`' });
    await this.provider.loadImageArchive(name, archive, onProgress);
  }

  // --- steps of up ---

  private async checkMachine(profile: ClusterProfile, demand: GpuDemand): Promise<void> {
    const report = await (this.deps.preflight ?? ((p: ClusterProfile) => preflight(p, { docker: this.docker })))(profile);
    assertReady(report, profile, demand);
  }

  /**
   * Cheap on purpose (one Docker API call, one /readyz): `skiff up` on a running cluster should
   * answer in well under a second.
   */
  private async health(name: string, provider: ClusterProvider, onProgress: Progress): Promise<Health> {
    const containers = await this.listNodeContainers(name);
    if (containers.length === 0) return { state: 'absent' };
    const stopped = containers.filter((c) => c.State !== 'running');
    if (stopped.length > 0) return { state: 'stopped', containers: stopped };
    let api: ClusterApi;
    try {
      api = this.apiFor(await this.loadKubeConfig(name));
    } catch (err) {
      return { state: 'unhealthy', problem: `its kubeconfig cannot be read (${err instanceof Error ? err.message : String(err)})` };
    }
    if (await api.ready(READYZ_TIMEOUT_MS)) return { state: 'healthy', api };
    const hopeless = await provider.beyondRepair(name);
    if (hopeless) return { state: 'unhealthy', problem: hopeless, hopeless: true };
    // A busy machine can make the API server slow: give it a while before recreating anything.
    onProgress(`waiting for the API server of cluster '${name}'`);
    const deadline = Date.now() + (this.deps.unresponsiveGraceMs ?? UNRESPONSIVE_GRACE_MS);
    while (Date.now() < deadline) {
      await sleep(this.deps.pollIntervalMs ?? POLL_INTERVAL_MS);
      if (await api.ready(READYZ_TIMEOUT_MS)) return { state: 'healthy', api };
    }
    return { state: 'unhealthy', problem: 'its API server does not answer' };
  }

  private async reuse(opts: ClusterOptions, request: UpRequest, api: ClusterApi, onProgress: Progress): Promise<ClusterInfo> {
    let nodes = await api.listNodes();
    await this.bringJobImage(opts.name, nodes, onProgress);
    const fakeGpu = profileOf(nodes) === 'fake-gpu';
    const driver = fakeGpu ? await readDraGpuDriver(api) : undefined;
    // fake-gpu changes how it hands out its GPUs in place: --dra to DRA devices, --no-dra back to the device plugin.
    const dra = fakeGpu && (request.dra ?? driver !== undefined);
    let cluster = clusterInfoFromNodes(this.named(opts.name), nodes, dra ? new Map() : undefined);
    for (const difference of differences(cluster, request)) {
      onProgress(`warning: cluster '${opts.name}' ${difference}; reusing it as it is (run \`skiff down\` first to change it)`);
    }
    if (dra) {
      const plugin = driver ? undefined : await api.readDaemonSet(DEVICE_PLUGIN_NAMESPACE, FAKE_GPU_PLUGIN_NAME);
      // As with the device plugin: what is asked for replaces what runs, and the devices must be published.
      const gpusPerNode = request.gpusPerNode ?? (driver && draGpusPerNode(driver)) ?? (plugin && fakeGpusOf(plugin)?.gpusPerNode) ?? DEFAULT_OPTIONS.gpusPerNode;
      if (!driver) {
        onProgress("fake GPUs: from Skiff's device plugin to DRA devices, which jobs claim");
        await removeFakeGpuPlugin(api, nodes);
      }
      if (await runDraGpuDriver(api, gpusPerNode)) onProgress(`fake GPUs: ${gpusPerNode} per node, as DRA devices`);
      const devices = await waitForDraGpus(api, this.named(opts.name), gpusPerNode, this.fakeGpuWait(onProgress));
      cluster = clusterInfoFromNodes(this.named(opts.name), await api.listNodes(), devices);
    } else if (fakeGpu) {
      if (driver) {
        onProgress("fake GPUs: from DRA devices back to Skiff's device plugin");
        await removeDraGpuDriver(api);
      }
      // What is asked for replaces the plugin's; the rest stays as the cluster has it. Either way
      // the kubelets must list the GPUs (after a node restart the plugin registers anew).
      const asked = { gpusPerNode: request.gpusPerNode, sharing: request.gpuSharing };
      const fallback = { gpusPerNode: (driver && draGpusPerNode(driver)) ?? DEFAULT_OPTIONS.gpusPerNode, sharing: DEFAULT_OPTIONS.gpuSharing };
      const plugin = await runFakeGpuPlugin(api, nodes, asked, fallback);
      if (plugin.changed) onProgress(`fake GPUs: ${fakeGpusText(plugin.gpus)}, from Skiff's device plugin`);
      nodes = await waitForFakeGpus(api, this.named(opts.name), plugin.gpus, this.fakeGpuWait(onProgress));
      cluster = clusterInfoFromNodes(this.named(opts.name), nodes);
    }
    // Someone may have deleted it; one GET when it is there.
    await api.ensureNamespace(SKIFF_NAMESPACE);
    return cluster;
  }

  /** Like `kind create cluster`, a cluster that fails to come up is deleted rather than left half made. */
  private async create(provider: ClusterProvider, opts: ClusterOptions, onProgress: Progress): Promise<ClusterInfo> {
    if (opts.profile === 'cpu' && (opts.gpuSharing ?? 1) > 1) {
      throw new SkiffError('BAD_INPUT', `--gpu-sharing shares GPUs, and a new cluster '${opts.name}' would have the cpu profile, without any`, {
        hint: 'add --profile fake-gpu (or gpu on an NVIDIA machine)',
      });
    }
    const nodeImage = await chooseNodeImage(opts.nodeImage, { docker: this.docker, buildImages: this.deps.buildImages, pullImage: this.deps.pullImage }, onProgress);
    onProgress(`creating cluster '${opts.name}' (profile ${opts.profile}, ${opts.workers} workers, ${nodeImage})`);
    // One step at a time: saving or importing 1.3 GB beside a booting node (or two clusters coming up
    // at once) starves its kubelet and containerd until the node misses its Ready deadline. The
    // archive is made before kind starts, and only when the job image is a new version.
    const jobArchive = await this.jobImageArchive(onProgress);
    // Before anything is made: a gpu cluster whose device plugin cannot be had would schedule no GPU job.
    const fakeGpuImage = opts.dra ? DRA_DRIVER_IMAGE : FAKE_GPU_PLUGIN_IMAGE;
    const pluginArchive =
      opts.profile === 'gpu' ? await this.devicePluginArchive(onProgress) : opts.profile === 'fake-gpu' ? await this.fakeGpuPluginArchive(nodeImage, fakeGpuImage) : undefined;
    await provider.create({ ...opts, nodeImage }, onProgress);
    try {
      const api = this.apiFor(await this.loadKubeConfig(opts.name));
      await waitForNodesReady(api, this.named(opts.name), opts.workers + 1, {
        timeoutMs: this.deps.nodesReadyTimeoutMs ?? NODES_READY_TIMEOUT_MS,
        intervalMs: this.deps.pollIntervalMs ?? POLL_INTERVAL_MS,
        onProgress,
      });
      if (pluginArchive) {
        onProgress(`loading ${opts.profile === 'gpu' ? DEVICE_PLUGIN_IMAGE : fakeGpuImage} onto the nodes`);
        await provider.loadImageArchive(opts.name, pluginArchive, onProgress);
      }
      const draGpus = await addProfileExtras(api, this.named(opts.name), opts, this.fakeGpuWait(onProgress), onProgress);
      await api.ensureNamespace(SKIFF_NAMESPACE);
      if (jobArchive) {
        onProgress(`loading ${JOB_IMAGE} onto the nodes`);
        await provider.loadImageArchive(opts.name, jobArchive, onProgress);
      }
      return clusterInfoFromNodes(this.named(opts.name), await api.listNodes(), draGpus);
    } catch (err) {
      onProgress(`deleting cluster '${opts.name}', which did not come up`);
      await provider.delete(opts.name).catch(() => {});
      throw err;
    }
  }

  /**
   * A cluster made by an older Skiff has an older job image: without this every job would wait
   * in ImagePullBackOff for an image nothing can pull. The kubelets' lists cost nothing to read;
   * a node they do not show it on is asked itself, as they lag a load that has just happened.
   */
  private async bringJobImage(name: string, nodes: V1Node[], onProgress: Progress): Promise<void> {
    const unlisted = jobNodesWithout(nodes, JOB_IMAGE);
    const held = await Promise.all(unlisted.map((node) => this.provider.nodeHasImage(node, JOB_IMAGE)));
    const lacking = unlisted.filter((_, i) => !held[i]);
    if (lacking.length === 0) return;
    const archive = await this.jobImageArchive(onProgress);
    if (!archive) return;
    onProgress(`loading ${JOB_IMAGE} onto the nodes (${lacking.join(', ')} have an older one)`);
    await this.provider.loadImageArchive(name, archive, onProgress);
  }

  /** The job image's archive, or undefined (with a word why) when the image is not built. */
  private async jobImageArchive(onProgress: Progress): Promise<string | undefined> {
    const archive = await this.imageArchive(JOB_IMAGE, onProgress);
    if (!archive) onProgress(`${JOB_IMAGE} is not built yet; \`skiff images build job\` builds it`);
    return archive;
  }

  /**
   * NVIDIA's device plugin image, from this machine's Docker engine or pulled by it, as an archive
   * for the nodes: they need not reach nvcr.io themselves, and a machine that cannot either is told
   * so before a cluster is made.
   */
  private async devicePluginArchive(onProgress: Progress): Promise<string> {
    let archive = await this.imageArchive(DEVICE_PLUGIN_IMAGE, onProgress);
    if (!archive) {
      onProgress(`pulling ${DEVICE_PLUGIN_IMAGE}`);
      try {
        await (this.deps.pullImage ?? pullImage)(this.docker, DEVICE_PLUGIN_IMAGE, onProgress);
      } catch (err) {
        throw new SkiffError(
          'NO_GPU',
          `the gpu profile needs NVIDIA's device plugin image ${DEVICE_PLUGIN_IMAGE}, and it is not in Docker and cannot be pulled (${(err instanceof Error ? err.message : String(err)).trim()}); nothing was created`,
          {
            hint: `on a machine that reaches nvcr.io: \`docker pull ${DEVICE_PLUGIN_IMAGE} && docker save ${DEVICE_PLUGIN_IMAGE} -o device-plugin.tar\`; here: \`docker load -i device-plugin.tar\`, then \`skiff up --profile gpu\` again`,
            cause: err,
          },
        );
      }
      archive = await this.imageArchive(DEVICE_PLUGIN_IMAGE, onProgress);
    }
    if (!archive) throw new SkiffError('NO_GPU', `${DEVICE_PLUGIN_IMAGE} was pulled but Docker does not list it`, { hint: 'run `skiff up --profile gpu` again' });
    return archive;
  }

  /**
   * Skiff's offline node image carries the fake GPU device plugin's image; any other node image is
   * given it from this machine's Docker engine, where `skiff images build node` leaves it.
   */
  private async fakeGpuPluginArchive(nodeImage: string, image: string): Promise<string | undefined> {
    if (nodeImage === OFFLINE_NODE_IMAGE) return undefined;
    const archive = await this.imageArchive(image);
    if (archive) return archive;
    throw new SkiffError(
      'IMAGE_MISSING',
      `the fake-gpu profile needs its ${image === FAKE_GPU_PLUGIN_IMAGE ? 'device plugin' : 'DRA driver'} image ${image}, which ${nodeImage} lacks and Docker does not have; nothing was created`,
      {
        hint: '`skiff images build node` builds it (with the node image that carries it)',
      },
    );
  }

  private imageArchive(image: string, onProgress?: Progress): Promise<string | undefined> {
    return cachedImageArchive(this.docker, image, { onProgress, dir: this.deps.archiveDir });
  }

  // --- plumbing ---

  private fakeGpuWait(onProgress: Progress): WaitOptions {
    return { timeoutMs: this.deps.fakeGpusTimeoutMs ?? FAKE_GPUS_TIMEOUT_MS, intervalMs: this.deps.pollIntervalMs ?? POLL_INTERVAL_MS, onProgress };
  }

  private named(name: string): NamedCluster {
    return { name, context: this.provider.contextName(name) };
  }

  private apiFor(kc: KubeConfig): ClusterApi {
    return (this.deps.api ?? clusterApi)(kc);
  }

  private async listNodeContainers(name: string): Promise<Docker.ContainerInfo[]> {
    return this.dockerCall(() => this.docker.listContainers({ all: true, filters: { label: [`${this.provider.clusterLabel}=${name}`] } }));
  }

  /** Engine failures as NO_DOCKER, with the same words as preflight; an engine that hangs, too. */
  private async dockerCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.deps.dockerCallTimeoutMs ?? DOCKER_CALL_TIMEOUT_MS, 'no answer');
    } catch (err) {
      throw new SkiffError('NO_DOCKER', `Docker engine not reachable at ${dockerEndpoint()}: ${err instanceof Error ? err.message : String(err)}`, {
        hint: DOCKER_HINT,
        cause: err,
      });
    }
  }

  private async nodeContainers(name: string): Promise<string[]> {
    return (await this.listNodeContainers(name)).map(containerName);
  }

  /** The context from the kubeconfig file, else (e.g. another $KUBECONFIG) straight from kind. */
  private async loadKubeConfig(name: string): Promise<KubeConfig> {
    const context = this.provider.contextName(name);
    const fromFile = this.kubeconfigFromFile();
    if (fromFile?.getContextObject(context)) {
      fromFile.setCurrentContext(context);
      return fromFile;
    }
    const kc = new KubeConfig();
    kc.loadFromString(await this.provider.kubeconfig(name));
    kc.setCurrentContext(context);
    return kc;
  }

  private kubeconfigFromFile(): KubeConfig | undefined {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(this.kubeconfigPath);
      return kc;
    } catch {
      return undefined;
    }
  }

  /** NO_CLUSTER, or CLUSTER_GONE when its context outlived its containers. */
  private missing(name: string): SkiffError {
    if (this.kubeconfigFromFile()?.getContextObject(this.provider.contextName(name))) {
      return new SkiffError('CLUSTER_GONE', `cluster '${name}' no longer exists (its Docker containers are gone)`, {
        hint: 'run `skiff up` to create it again',
      });
    }
    return new SkiffError('NO_CLUSTER', `no cluster named '${name}'`, { hint: 'run `skiff up`' });
  }
}

/** The request with Skiff's defaults, validated. */
export function clusterOptions(request: UpRequest): ClusterOptions {
  const opts: ClusterOptions = {
    name: request.name ?? DEFAULT_CLUSTER,
    profile: request.profile ?? DEFAULT_OPTIONS.profile,
    workers: request.workers ?? DEFAULT_OPTIONS.workers,
    // Real GPUs: unless asked to split them, every node gets all of them (0), as nvkind's default.
    gpusPerNode: request.gpusPerNode ?? (request.profile === 'gpu' ? 0 : DEFAULT_OPTIONS.gpusPerNode),
  };
  const gpuSharing = request.gpuSharing ?? DEFAULT_OPTIONS.gpuSharing;
  if (gpuSharing !== DEFAULT_OPTIONS.gpuSharing) opts.gpuSharing = gpuSharing;
  if (request.nodeImage) opts.nodeImage = request.nodeImage;
  if (request.dra) opts.dra = true;
  // kind's own rule for cluster names (they become container and context names).
  if (!/^[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?$/.test(opts.name)) {
    throw new SkiffError('BAD_INPUT', `invalid cluster name '${opts.name}'`, { hint: 'use lowercase letters, digits, "-" and "." (at most 50 characters)' });
  }
  if (!(CLUSTER_PROFILES as readonly string[]).includes(opts.profile)) {
    throw new SkiffError('BAD_INPUT', `unknown profile '${opts.profile}'`, { hint: `use ${CLUSTER_PROFILES.join(', ')}` });
  }
  if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > MAX_WORKER_NODES) {
    throw new SkiffError('BAD_INPUT', `workers must be a whole number from 0 to ${MAX_WORKER_NODES}, not ${opts.workers}`, {
      hint: 'each worker node is a container on this machine',
    });
  }
  if (!Number.isInteger(opts.gpusPerNode) || opts.gpusPerNode < 0 || opts.gpusPerNode > MAX_GPUS_PER_NODE) {
    throw new SkiffError('BAD_INPUT', `GPUs per node must be a whole number from 0 to ${MAX_GPUS_PER_NODE}, not ${opts.gpusPerNode}`);
  }
  if (!Number.isInteger(gpuSharing) || gpuSharing < 1 || gpuSharing > MAX_GPU_SHARING) {
    throw new SkiffError('BAD_INPUT', `--gpu-sharing must be a whole number of ways from 1 to ${MAX_GPU_SHARING}, not ${gpuSharing}`, {
      hint: '2 lets two jobs (or ranks) take turns on each GPU; 1 gives each its own',
    });
  }
  // An explicit cpu profile only: a bare `skiff up --gpu-sharing 2` may be meant for a GPU cluster already up (create checks the rest).
  if (gpuSharing > 1 && request.profile === 'cpu') {
    throw new SkiffError('BAD_INPUT', '--gpu-sharing shares GPUs, and the cpu profile has none', { hint: 'use --profile fake-gpu, or gpu on an NVIDIA machine' });
  }
  // DRA's fake GPUs come from Kubernetes' test driver; a real GPU's DRA driver (NVIDIA's) is not one Skiff can build here.
  if (request.dra && request.profile !== undefined && request.profile !== 'fake-gpu') {
    throw new SkiffError('BAD_INPUT', `--dra hands out fake GPUs as DRA devices, and the ${request.profile} profile has none`, { hint: 'use --profile fake-gpu --dra' });
  }
  if (request.dra && gpuSharing > 1) {
    throw new SkiffError('BAD_INPUT', "--gpu-sharing time-slices a device plugin's GPUs; with --dra a job shares a GPU through one claim instead", {
      hint: 'leave out --gpu-sharing, and run the job with --gpu-share 0.5',
    });
  }
  return opts;
}

/** How a running cluster differs from what was explicitly asked for (defaults never warn). */
export function differences(cluster: ClusterInfo, request: UpRequest): string[] {
  const found: string[] = [];
  if (request.profile && request.profile !== cluster.profile) found.push(`has profile ${cluster.profile}, not ${request.profile}`);
  const workers = cluster.nodes.filter((n) => n.role === 'worker').length;
  if (request.workers !== undefined && request.workers !== workers) found.push(`has ${workers} workers, not ${request.workers}`);
  // fake-gpu clusters change their GPUs in place (the plugin rolls); the NVIDIA plugin's are set at creation.
  const sharing = clusterGpuSharing(cluster);
  if (cluster.profile === 'gpu' && request.gpuSharing !== undefined && request.gpuSharing !== sharing) found.push(`shares its GPUs ${sharing} way(s), not ${request.gpuSharing}`);
  if (cluster.profile === 'cpu' && (request.gpuSharing ?? 1) > 1) found.push('has no GPUs to share (profile cpu)');
  // fake-gpu moves to DRA in place (reuse); other profiles have no fake GPUs to move.
  if (request.dra && cluster.profile !== 'fake-gpu') found.push(`has no fake GPUs to hand out as DRA devices (profile ${cluster.profile})`);
  if (cluster.gpuDriver === 'dra' && (request.gpuSharing ?? 1) > 1) found.push('hands out its GPUs as DRA claims, which a job shares with --gpu-share, not by time-slicing');
  return found;
}

function fakeGpusText({ gpusPerNode, sharing }: FakeGpus): string {
  return `${gpusPerNode} per node${sharing > 1 ? `, each shared ${sharing} ways` : ''}`;
}

/** fake-gpu: Skiff's fake GPU device plugin; gpu: the NVIDIA RuntimeClass and device plugin (nvkind's setup). */
/** The profile's GPUs on a new cluster; for DRA's, the devices published for each node. */
async function addProfileExtras(api: ClusterApi, cluster: NamedCluster, opts: ClusterOptions, wait: WaitOptions, onProgress: Progress): Promise<Map<string, number> | undefined> {
  if (opts.profile === 'fake-gpu' && opts.dra) {
    onProgress(`starting Kubernetes' DRA test driver: ${opts.gpusPerNode} fake GPU(s) per node as DRA devices, claimed by jobs (device class ${DRA_GPU_DRIVER})`);
    await runDraGpuDriver(api, opts.gpusPerNode);
    return waitForDraGpus(api, cluster, opts.gpusPerNode, wait);
  }
  if (opts.profile === 'fake-gpu') {
    if (opts.gpusPerNode === 0) return;
    const gpus = { gpusPerNode: opts.gpusPerNode, sharing: opts.gpuSharing ?? 1 };
    onProgress(`starting Skiff's fake GPU device plugin (${fakeGpusText(gpus)})`);
    await runFakeGpuPlugin(api, await api.listNodes(), gpus, gpus);
    await waitForFakeGpus(api, cluster, gpus, wait);
  } else if (opts.profile === 'gpu') {
    const sharing = opts.gpuSharing ?? 1;
    onProgress(`installing the NVIDIA device plugin${sharing > 1 ? `, each GPU time-sliced ${sharing} ways` : ''}`);
    await api.ensureRuntimeClass(nvidiaRuntimeClass());
    if (sharing > 1) {
      await api.ensureConfigMap(nvidiaTimeSlicingConfigMap(sharing));
      // Jobs read the sharing from the label, as on clusters with NVIDIA's feature discovery.
      const gpuNodes = (await api.listNodes()).filter((node) => node.metadata?.labels?.[GPU_PRESENT_LABEL] === 'true');
      await labelGpuSharing(api, gpuNodes, sharing);
    }
    await api.ensureDaemonSet(nvidiaDevicePluginDaemonSet(DEVICE_PLUGIN_IMAGE, sharing));
  }
  return undefined;
}

function containerName(container: Docker.ContainerInfo): string {
  return (container.Names[0] ?? container.Id).replace(/^\//, '');
}

function secondsSince(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}

/** The kind binary Skiff would run, or NO_KIND saying how to get it. */
async function findKindOrFail(): Promise<string> {
  const kindPath = await findKind();
  if (!kindPath) throw new SkiffError('NO_KIND', 'kind not found', { hint: `run \`skiff images build binaries\` or install kind ${KIND_VERSION}` });
  return kindPath;
}
