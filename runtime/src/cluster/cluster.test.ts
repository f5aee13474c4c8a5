import type { KubeConfig, V1DaemonSet, V1Node } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SkiffError } from '../errors.js';
import type { ClusterOptions, ClusterProfile } from '../types.js';
import { clusterOptions, Clusters, type ClustersDeps } from './cluster.js';
import type { ClusterApi } from './kube-api.js';
import type { PreflightReport } from './preflight.js';
import type { ClusterProvider } from './provider.js';
import { sharedFolderMounts } from '../manifests/kind-config.js';
import { DEVICE_PLUGIN_IMAGE, FAKE_GPU_PLUGIN_IMAGE, FAKE_GPU_PLUGIN_NAME, fakeGpuDevicePluginDaemonSet, fakeGpusOf } from '../manifests/gpu.js';
import { DRA_DRIVER_IMAGE, DRA_GPU_DRIVER, DRA_PLUGIN_NAME, draGpusPerNode } from '../manifests/dra.js';
import { OFFLINE_NODE_IMAGE } from '../exec/tools.js';

const OFFLINE = OFFLINE_NODE_IMAGE;
const JOB = 'skiff.local/job-python:trixie-2';

/**
 * The pretend tool names things its own way, not kind's: a Clusters that hard-coded kind's context
 * names or container labels would find nothing here.
 */
const PRETEND_LABEL = 'pretend.test/cluster';
const pretendContext = (cluster: string) => `pretend-${cluster}`;

function kubeconfigYaml(clusters: string[]): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((name) => ({ name: pretendContext(name), cluster: { server: 'https://127.0.0.1:6443' } })),
    users: clusters.map((name) => ({ name: pretendContext(name), user: { token: 't' } })),
    contexts: clusters.map((name) => ({ name: pretendContext(name), context: { cluster: pretendContext(name), user: pretendContext(name) } })),
    'current-context': clusters[0] ? pretendContext(clusters[0]) : '',
  });
}

function node(name: string, labels: Record<string, string>, controlPlane = false, gpus = 0): V1Node {
  return {
    metadata: { name, labels: controlPlane ? { ...labels, 'node-role.kubernetes.io/control-plane': '' } : labels },
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: gpus ? { 'nvidia.com/gpu': String(gpus) } : {} },
  };
}

/** A pretend machine: Docker containers and images, kind, and the clusters' API servers. */
class World {
  log: string[] = [];
  /** The contexts whose Kueue queue `up` sized to the nodes (sizeQueue leaves a cluster without one alone). */
  queuesSized: string[] = [];
  /** Image IDs that differ from the default (a rebuilt image). */
  imageIds = new Map<string, string>();
  containers = new Map<string, { name: string; state: string }[]>();
  /** The folders each cluster's nodes were given (kind extraMounts), as Docker reports its mounts. */
  mounts = new Map<string, { Source: string; Destination: string }[]>();
  dataDir = mkdtempSync(join(tmpdir(), 'skiff-data-'));
  nodes = new Map<string, V1Node[]>();
  /** Each cluster's fake GPU device plugin, once applied. */
  fakeGpuPlugins = new Map<string, V1DaemonSet>();
  /** Each cluster's DRA driver DaemonSet and the kinds of the other objects applied with it. */
  draDrivers = new Map<string, V1DaemonSet>();
  applied: string[] = [];
  /** Whether the kubelets take a plugin's GPUs (false: its pods never register). */
  pluginsRegister = true;
  images = new Set<string>([OFFLINE, JOB]);
  /** The job image the kubelets of a cluster made by addCluster list (an older Skiff's, in one test). */
  heldJobImage = JOB;
  /** `<node> <image>` for each image loaded onto a node, which its kubelet has not listed yet. */
  loadedOnto = new Set<string>();
  apiReady = true;
  dockerUp = true;
  /** An engine whose API accepts the connection and never answers. */
  dockerHangs = false;
  /** Whether `docker start` brings a stopped node container back (false: it exits again at once). */
  containersStart = true;
  /** Whether the nodes still have the pod network Skiff laid (false: they restarted on their own). */
  networkIntact = true;
  /** What the provider says makes the cluster unable to come back (undefined: nothing known). */
  beyondRepair: string | undefined = undefined;
  unreachable = new Set<string>();
  report: PreflightReport = {
    docker: { ok: true, runtimes: ['nvidia', 'runc'], defaultRuntime: 'nvidia' },
    kind: { ok: true, path: '/bin/kind' },
    gpus: { count: 1, nvidiaRuntime: true },
  };
  kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'skiff-clusters-')), 'config');
  archiveDir = mkdtempSync(join(tmpdir(), 'skiff-archives-'));
  contexts = new Set<string>();

  constructor() {
    this.writeKubeconfig();
  }

  writeKubeconfig() {
    writeFileSync(this.kubeconfigPath, kubeconfigYaml([...this.contexts]));
  }

  /** What kind's create would leave behind. */
  addCluster(opts: Pick<ClusterOptions, 'name' | 'profile' | 'workers'>, gpus = 0) {
    const profile = { 'skiff.dev/profile': opts.profile };
    // As Skiff's kind config does: workers run jobs, or the control plane when it is alone.
    const jobNode =
      opts.profile === 'fake-gpu' ? { ...profile, 'skiff.dev/fake-gpu': 'true' } : opts.profile === 'gpu' ? { ...profile, 'nvidia.com/gpu.present': 'true' } : profile;
    const names = [`${opts.name}-control-plane`, ...Array.from({ length: opts.workers }, (_, i) => `${opts.name}-worker${i ? i + 1 : ''}`)];
    this.containers.set(
      opts.name,
      names.map((name) => ({ name, state: 'running' })),
    );
    this.nodes.set(
      opts.name,
      names.map((name, i) => (i === 0 && opts.workers > 0 ? node(name, profile, true) : node(name, jobNode, i === 0, gpus))),
    );
    for (const n of this.nodes.get(opts.name)!) n.status!.images = [{ names: [this.heldJobImage], sizeBytes: 1 }];
    if (opts.profile === 'fake-gpu' && gpus > 0) this.fakeGpuPlugins.set(opts.name, fakeGpuDevicePluginDaemonSet({ gpusPerNode: gpus, sharing: 1 }));
    this.contexts.add(opts.name);
    this.writeKubeconfig();
  }

  /** What the kubelets do once a plugin registers: list its GPUs on the nodes it runs on. */
  registerFakeGpus(cluster: string) {
    const plugin = fakeGpusOf(this.fakeGpuPlugins.get(cluster)!);
    const count = String(plugin ? plugin.gpusPerNode * plugin.sharing : 0);
    for (const n of this.nodes.get(cluster) ?? []) if (n.metadata?.labels?.['skiff.dev/fake-gpu'] === 'true') n.status!.allocatable!['nvidia.com/gpu'] = count;
  }

  removeCluster(name: string) {
    this.containers.delete(name);
    this.nodes.delete(name);
    this.contexts.delete(name);
    this.writeKubeconfig();
  }

  provider(): ClusterProvider {
    return {
      name: 'fake',
      clusterLabel: PRETEND_LABEL,
      contextName: pretendContext,
      create: async (opts) => {
        this.log.push(`create ${opts.name} ${opts.profile} ${opts.workers} ${opts.nodeImage}`);
        this.addCluster(opts);
        this.mounts.set(
          opts.name,
          sharedFolderMounts(opts.shared).map((m) => ({ Source: m.hostPath, Destination: m.containerPath })),
        );
      },
      intact: async () => this.networkIntact,
      beyondRepair: async () => this.beyondRepair,
      start: async (name) => {
        this.networkIntact = true;
        for (const container of this.containers.get(name) ?? []) {
          if (container.state === 'running') continue;
          this.log.push(`start ${container.name}`);
          if (this.containersStart) container.state = 'running';
        }
      },
      delete: async (name) => {
        this.log.push(`delete ${name}`);
        this.removeCluster(name);
      },
      list: async () => [...this.containers.keys()],
      kubeconfig: async (name) => {
        this.log.push(`kubeconfig ${name}`);
        return kubeconfigYaml([name]);
      },
      loadImageArchive: async (name, archive) => {
        const image = readFileSync(archive, 'utf8');
        this.log.push(`load ${name} ${image}`);
        for (const n of this.nodes.get(name) ?? []) this.loadedOnto.add(`${n.metadata!.name} ${image}`);
      },
      // The runtime has what was loaded; the kubelets' lists (node status) can lag it.
      nodeHasImage: async (node, image) => this.loadedOnto.has(`${node} ${image}`),
      nodeContainers: async (name) => (this.containers.get(name) ?? []).map((c) => c.name),
    };
  }

  docker(): Docker {
    return {
      listContainers: async (opts: { filters: { label: string[] } }) => {
        if (!this.dockerUp) throw new Error('connect ENOENT /var/run/docker.sock');
        if (this.dockerHangs) return new Promise(() => {});
        const [key, value] = opts.filters.label[0].split('=');
        expect(key).toBe(PRETEND_LABEL);
        return [...this.containers]
          .filter(([cluster]) => value === undefined || cluster === value)
          .flatMap(([cluster, containers]) =>
            containers.map((c) => ({ Id: c.name, Names: [`/${c.name}`], State: c.state, Labels: { [key]: cluster }, Mounts: this.mounts.get(cluster) ?? [] })),
          );
      },
      getImage: (ref: string) => ({
        inspect: async () => {
          if (this.images.has(ref)) return { Id: this.imageIds.get(ref) ?? `sha256:${Buffer.from(ref).toString('hex')}` };
          throw Object.assign(new Error('no such image'), { statusCode: 404 });
        },
        // `docker save`: here the archive's content is the image's name.
        get: async () => {
          this.log.push(`save ${ref}`);
          return Readable.from([ref]);
        },
      }),
    } as unknown as Docker;
  }

  api(kc: KubeConfig): ClusterApi {
    const name = kc.getCurrentContext().replace(/^pretend-/, '');
    return {
      ready: async () => this.apiReady,
      listNodes: async () => {
        if (!this.apiReady || this.unreachable.has(name)) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
        return structuredClone(this.nodes.get(name) ?? []);
      },
      labelNode: async (nodeName, labels) => {
        this.log.push(`label ${nodeName} ${JSON.stringify(labels)}`);
        const target = this.nodes.get(name)?.find((n) => n.metadata?.name === nodeName);
        for (const [key, value] of Object.entries(labels)) {
          if (value === null) delete target!.metadata!.labels![key];
          else target!.metadata!.labels![key] = value;
        }
      },
      ensureConfigMap: async (obj) => void this.log.push(`configmap ${obj.metadata?.name}`),
      readDaemonSet: async (_namespace, dsName) =>
        structuredClone(dsName === FAKE_GPU_PLUGIN_NAME ? this.fakeGpuPlugins.get(name) : dsName === DRA_PLUGIN_NAME ? this.draDrivers.get(name) : undefined),
      apply: async (obj) => {
        this.applied.push(`${obj.kind} ${obj.metadata?.name}`);
        if (obj.kind === 'DaemonSet' && obj.metadata?.name === DRA_PLUGIN_NAME) this.draDrivers.set(name, obj as V1DaemonSet);
      },
      delete: async (obj) => {
        this.applied.push(`delete ${obj.kind} ${obj.metadata?.name}`);
        if (obj.kind === 'DaemonSet' && obj.metadata?.name === DRA_PLUGIN_NAME) this.draDrivers.delete(name);
        if (obj.kind === 'DaemonSet' && obj.metadata?.name === FAKE_GPU_PLUGIN_NAME) {
          this.fakeGpuPlugins.delete(name);
          // The kubelets mark the plugin's devices unhealthy: none allocatable.
          for (const n of this.nodes.get(name) ?? []) if (n.status?.allocatable?.['nvidia.com/gpu']) n.status.allocatable['nvidia.com/gpu'] = '0';
        }
      },
      // What the driver publishes once it runs (pluginsRegister): its devices for each fake-GPU node.
      listDraDevices: async (driver) => {
        const perNode = this.draDrivers.has(name) && this.pluginsRegister ? draGpusPerNode(this.draDrivers.get(name)!) : undefined;
        const nodes = (this.nodes.get(name) ?? []).filter((n) => n.metadata?.labels?.['skiff.dev/fake-gpu'] === 'true');
        expect(driver).toBe(DRA_GPU_DRIVER);
        return new Map(perNode === undefined ? [] : nodes.map((n) => [n.metadata!.name!, perNode]));
      },
      applyDaemonSet: async (obj) => {
        this.log.push(`apply ${obj.metadata?.name} ${obj.spec?.template.spec?.containers[0]?.command?.join(' ')}`);
        this.fakeGpuPlugins.set(name, obj);
        if (this.pluginsRegister) this.registerFakeGpus(name);
      },
      ensureNamespace: async (ns) => void this.log.push(`namespace ${ns}`),
      ensureRuntimeClass: async (obj) => void this.log.push(`runtimeclass ${obj.metadata?.name}`),
      ensureDaemonSet: async (obj) => void this.log.push(`daemonset ${obj.metadata?.name}`),
    };
  }

  clusters(): Clusters {
    return new Clusters(this.clustersDeps());
  }

  clustersDeps(): ClustersDeps {
    return {
      provider: this.provider(),
      docker: this.docker(),
      kubeconfigPath: this.kubeconfigPath,
      archiveDir: this.archiveDir,
      dataDir: this.dataDir,
      api: (kc) => this.api(kc),
      preflight: async (profile: ClusterProfile) => {
        this.log.push(`preflight ${profile}`);
        return this.report;
      },
      buildImages: async (what) => void this.log.push(`build ${what}`),
      sizeQueue: async (kc) => void this.queuesSized.push(kc.getCurrentContext()),
      pullImage: async () => {
        throw new Error('offline');
      },
      pollIntervalMs: 1,
      unresponsiveGraceMs: 5,
    };
  }
}

let world: World;
beforeEach(() => {
  world = new World();
});

describe('Clusters.sharedFolders', () => {
  it("shares the data folder (made if missing) and the home folder into every node, and reads them back from the nodes' mounts", async () => {
    const clusters = world.clusters();
    rmSync(world.dataDir, { recursive: true, force: true });
    await clusters.up({ name: 'skiff', workers: 1 });
    expect(existsSync(world.dataDir)).toBe(true);
    expect(await clusters.sharedFolders('skiff')).toEqual({ data: world.dataDir, home: homedir() });
  });

  it('says how to recreate a cluster made before Skiff shared folders', async () => {
    world.addCluster({ name: 'old', profile: 'cpu', workers: 1 });
    await expect(world.clusters().sharedFolders('old')).rejects.toMatchObject({
      code: 'CLUSTER_OUTDATED',
      hint: expect.stringContaining('skiff down --name old && skiff up --name old'),
    });
    await expect(world.clusters().sharedFolders('nope')).rejects.toMatchObject({ code: 'NO_CLUSTER' });
  });
});

describe('Clusters.up', () => {
  it('creates a cluster in order: preflight, job image archive, create, namespace, job image load', async () => {
    const progress: string[] = [];
    const result = await world.clusters().up({}, (m) => progress.push(m));
    expect(result.reused).toBe(false);
    expect(result.cluster).toMatchObject({ name: 'skiff', context: 'pretend-skiff', profile: 'cpu' });
    expect(result.cluster.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(world.log).toEqual(['preflight cpu', `save ${JOB}`, `create skiff cpu 2 ${OFFLINE}`, 'namespace skiff', `load skiff ${JOB}`]);
    expect(progress).toContain(`loading ${JOB} onto the nodes`);
  });

  it('saves the job image once per version and loads that archive onto every new cluster', async () => {
    await world.clusters().up({});
    await world.clusters().up({ name: 'other' });
    expect(world.log.filter((l) => l.startsWith('save '))).toEqual([`save ${JOB}`]);
    expect(world.log.slice(-3)).toEqual([`create other cpu 2 ${OFFLINE}`, 'namespace skiff', `load other ${JOB}`]);
    // A rebuilt image is saved again, and the archive of the old one goes.
    world.imageIds.set(JOB, 'sha256:0123456789abcdef0123');
    await world.clusters().up({ name: 'third' });
    expect(world.log.filter((l) => l.startsWith('save '))).toHaveLength(2);
    expect(readdirSync(world.archiveDir)).toEqual([`skiff.local_job-python_trixie-2@0123456789abcdef.tar`]);
  });

  it('reuses a healthy cluster without creating anything', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 2 });
    const started = performance.now();
    const result = await world.clusters().up({});
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.reused).toBe(true);
    expect(result.cluster.nodes).toHaveLength(3);
    expect(world.log).toEqual(['preflight cpu', 'namespace skiff']);
  });

  it("loads Skiff's job image onto a reused cluster whose nodes hold only an older one (made by an older Skiff), once", async () => {
    world.heldJobImage = 'skiff.local/job-python:bookworm-2';
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 2 });
    const progress: string[] = [];
    expect((await world.clusters().up({}, (m) => progress.push(m))).reused).toBe(true);
    expect(world.log).toEqual(['preflight cpu', `save ${JOB}`, `load skiff ${JOB}`, 'namespace skiff']);
    expect(progress).toContain(`loading ${JOB} onto the nodes (skiff-worker, skiff-worker2 have an older one)`);
    await world.clusters().up({});
    expect(world.log.filter((l) => l.startsWith('load '))).toHaveLength(1);
  });

  it('deletes a cluster whose nodes never become Ready', async () => {
    const clusters = new Clusters({ ...world.clustersDeps(), nodesReadyTimeoutMs: 20 });
    world.apiReady = false;
    const err = (await clusters.up({ workers: 1 }).catch((e: unknown) => e)) as SkiffError;
    expect(err.code).toBe('TIMEOUT');
    // Nothing is loaded onto nodes that never came up.
    expect(world.log).toEqual(['preflight cpu', `save ${JOB}`, `create skiff cpu 1 ${OFFLINE}`, 'delete skiff']);
  });

  it('warns when a reused cluster differs from what was explicitly asked for', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 2 });
    const progress: string[] = [];
    await world.clusters().up({ profile: 'fake-gpu', workers: 1 }, (m) => progress.push(m));
    expect(progress.join('\n')).toMatch(/warning: cluster 'skiff' has profile cpu, not fake-gpu/);
    expect(progress.join('\n')).toMatch(/warning: cluster 'skiff' has 2 workers, not 1/);
    const quiet: string[] = [];
    await world.clusters().up({}, (m) => quiet.push(m));
    expect(quiet).toEqual([]);
  });

  it('starts the stopped node containers of a cluster (a Docker engine restart) and reuses it, jobs and all', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    world.containers.get('skiff')![1].state = 'exited';
    const progress: string[] = [];
    const result = await world.clusters().up({ workers: 1 }, (m) => progress.push(m));
    expect(result.reused).toBe(true);
    expect(world.log).toEqual(['preflight cpu', 'start skiff-worker', 'namespace skiff']);
    expect(progress[0]).toBe("starting the stopped node containers of cluster 'skiff' (skiff-worker)");
  });

  it('lays the pod network again on nodes that Docker restarted on its own', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    world.networkIntact = false;
    const progress: string[] = [];
    expect((await world.clusters().up({ workers: 1 }, (m) => progress.push(m))).reused).toBe(true);
    expect(world.networkIntact).toBe(true);
    expect(progress).toEqual(["the nodes of cluster 'skiff' restarted and lost their pod network; setting it up again"]);
  });

  it('says at once, without the grace wait, when a silent cluster cannot come back, and what to run', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    world.apiReady = false;
    world.beyondRepair = 'its control plane came back with another address';
    const clusters = new Clusters({ ...world.clustersDeps(), unresponsiveGraceMs: 60_000 });
    const started = Date.now();
    await expect(clusters.up({ workers: 1 })).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: "cluster 'skiff' exists but its control plane came back with another address; nothing was deleted",
      hint: 'to delete the cluster and make it anew (its jobs and sessions go, outputs stay on this machine): `skiff up --recreate`',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('recreates a cluster whose containers will not stay up only when asked to, and otherwise says what to run', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    world.containers.get('skiff')![1].state = 'exited';
    world.containersStart = false;
    await expect(world.clusters().up({ workers: 1 })).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringContaining('stopped again after a start (skiff-worker)'),
      hint: expect.stringContaining('skiff up --recreate'),
    });
    expect(world.log).toEqual(['preflight cpu', 'start skiff-worker']);
    world.log.length = 0;
    const progress: string[] = [];
    const result = await world.clusters().up({ workers: 1, recreate: true }, (m) => progress.push(m));
    expect(result.reused).toBe(false);
    expect(world.log).toEqual(['preflight cpu', 'start skiff-worker', 'delete skiff', `save ${JOB}`, `create skiff cpu 1 ${OFFLINE}`, 'namespace skiff', `load skiff ${JOB}`]);
    expect(progress[1]).toContain('skiff-worker');
  });

  it('recreates a cluster whose API server stays silent, when asked to', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 0 });
    world.apiReady = false;
    const clusters = world.clusters();
    await expect(clusters.up({ workers: 0 })).rejects.toMatchObject({ code: 'UNREACHABLE', message: expect.stringContaining('does not answer; nothing was deleted') });
    expect(world.log).not.toContain('delete skiff');
    world.log.length = 0;
    const up = clusters.up({ workers: 0, recreate: true });
    // The recreated cluster's API server answers.
    setTimeout(() => (world.apiReady = true), 30);
    const result = await up;
    expect(result.reused).toBe(false);
    expect(world.log.slice(0, 4)).toEqual(['preflight cpu', 'delete skiff', `save ${JOB}`, `create skiff cpu 0 ${OFFLINE}`]);
  });

  it("gives the marked nodes fake GPUs through Skiff's device plugin, and waits for the kubelets to list them", async () => {
    const progress: string[] = [];
    const result = await world.clusters().up({ profile: 'fake-gpu', workers: 2, gpusPerNode: 2 }, (m) => progress.push(m));
    expect(result.cluster.nodes.map((n) => n.gpus)).toEqual([0, 2, 2]);
    expect(world.log.filter((l) => l.startsWith('apply'))).toEqual([`apply ${FAKE_GPU_PLUGIN_NAME} /usr/local/bin/fake-gpu-plugin --gpus 2`]);
    expect(progress).toContain("starting Skiff's fake GPU device plugin (2 per node)");
    // Skiff's node image carries the plugin's image: nothing to load but the job image.
    expect(world.log.filter((l) => l.startsWith('load'))).toEqual([`load skiff ${JOB}`]);
  });

  it('says where to look when the plugin never brings its GPUs, and leaves no half-made cluster', async () => {
    world.pluginsRegister = false;
    const err = await new Clusters({ ...world.clustersDeps(), fakeGpusTimeoutMs: 20 }).up({ profile: 'fake-gpu', workers: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('did not bring 1 nvidia.com/gpu to skiff-worker'),
      hint: expect.stringContaining(`-n kube-system logs ds/${FAKE_GPU_PLUGIN_NAME}`),
    });
    expect(world.log.at(-1)).toBe('delete skiff');
  });

  it("keeps a reused cluster's count, and waits while a restarted kubelet has not taken the GPUs back", async () => {
    world.addCluster({ name: 'skiff', profile: 'fake-gpu', workers: 2 }, 4);
    world.nodes.get('skiff')![2].status!.allocatable = {};
    // The plugin registers again a moment later, as after a node restart.
    setTimeout(() => world.registerFakeGpus('skiff'), 20);
    const result = await world.clusters().up({});
    expect(result.reused).toBe(true);
    expect(result.cluster.nodes.map((n) => n.gpus)).toEqual([0, 4, 4]);
    expect(world.log.filter((l) => l.startsWith('apply'))).toEqual([]);
  });

  it('changes the count of a reused cluster when one is asked for', async () => {
    world.addCluster({ name: 'skiff', profile: 'fake-gpu', workers: 2 }, 4);
    const progress: string[] = [];
    const result = await world.clusters().up({ gpusPerNode: 2 }, (m) => progress.push(m));
    expect(result.cluster.nodes.map((n) => n.gpus)).toEqual([0, 2, 2]);
    expect(world.log.filter((l) => l.startsWith('apply'))).toEqual([`apply ${FAKE_GPU_PLUGIN_NAME} /usr/local/bin/fake-gpu-plugin --gpus 2`]);
    expect(progress).toContain("fake GPUs: 2 per node, from Skiff's device plugin");
  });

  it("with --dra, gives the marked nodes fake GPUs as DRA devices from Kubernetes' test driver instead of the device plugin, and counts them from its slices", async () => {
    const progress: string[] = [];
    const result = await world.clusters().up({ profile: 'fake-gpu', workers: 2, gpusPerNode: 2, dra: true }, (m) => progress.push(m));
    expect(result.cluster).toMatchObject({ gpuDriver: 'dra' });
    expect(result.cluster.nodes.map((n) => n.gpus)).toEqual([0, 2, 2]);
    expect(world.applied).toEqual([
      `ServiceAccount ${DRA_PLUGIN_NAME}`,
      `ClusterRole ${DRA_PLUGIN_NAME}`,
      `ClusterRoleBinding ${DRA_PLUGIN_NAME}`,
      `DaemonSet ${DRA_PLUGIN_NAME}`,
      `DeviceClass ${DRA_GPU_DRIVER}`,
    ]);
    // No GPU counted twice: the device plugin is not started.
    expect(world.log.filter((l) => l.startsWith('apply'))).toEqual([]);
    expect(progress.join('\n')).toContain('2 fake GPU(s) per node as DRA devices');
    // Reused: the driver is found and its count kept; a new count rolls it; `status` reads the same.
    world.applied = [];
    const again = await world.clusters().up({});
    expect(again).toMatchObject({ reused: true, cluster: { gpuDriver: 'dra' } });
    expect(world.applied).toEqual([]);
    const progressAgain: string[] = [];
    const fewer = await world.clusters().up({ gpusPerNode: 1 }, (m) => progressAgain.push(m));
    expect(fewer.cluster.nodes.map((n) => n.gpus)).toEqual([0, 1, 1]);
    expect(progressAgain).toContain('fake GPUs: 1 per node, as DRA devices');
    expect((await world.clusters().status('skiff')).nodes.map((n) => n.gpus)).toEqual([0, 1, 1]);
    // Time-slicing is the device plugin's; on DRA a job shares through its claim.
    const sliced: string[] = [];
    await world.clusters().up({ gpuSharing: 2 }, (m) => sliced.push(m));
    expect(sliced.join('\n')).toContain('hands out its GPUs as DRA claims, which a job shares with --gpu-share');
  });

  it('moves a running fake-gpu cluster to DRA devices and back in place, keeping its GPU count, never both at once', async () => {
    world.addCluster({ name: 'skiff', profile: 'fake-gpu', workers: 2 }, 2);
    const progress: string[] = [];
    const moved = await world.clusters().up({ dra: true }, (m) => progress.push(m));
    expect(moved).toMatchObject({ reused: true, cluster: { gpuDriver: 'dra' } });
    expect(moved.cluster.nodes.map((n) => n.gpus)).toEqual([0, 2, 2]);
    expect(world.applied[0]).toBe(`delete DaemonSet ${FAKE_GPU_PLUGIN_NAME}`);
    expect(world.fakeGpuPlugins.has('skiff')).toBe(false);
    expect(progress).toContain("fake GPUs: from Skiff's device plugin to DRA devices, which jobs claim");
    world.applied = [];
    const back = await world.clusters().up({ dra: false, gpuSharing: 2 });
    expect(back.cluster.gpuDriver).toBeUndefined();
    expect(world.applied).toEqual([
      `delete DeviceClass ${DRA_GPU_DRIVER}`,
      `delete DaemonSet ${DRA_PLUGIN_NAME}`,
      `delete ClusterRoleBinding ${DRA_PLUGIN_NAME}`,
      `delete ClusterRole ${DRA_PLUGIN_NAME}`,
      `delete ServiceAccount ${DRA_PLUGIN_NAME}`,
    ]);
    expect(world.log.filter((l) => l.startsWith('apply'))).toEqual([`apply ${FAKE_GPU_PLUGIN_NAME} /usr/local/bin/fake-gpu-plugin --gpus 2 --replicas 2`]);
    expect(back.cluster.nodes.map((n) => n.gpus)).toEqual([0, 2, 2]);
  });

  it('refuses --dra where it cannot work, and says where to look when the driver publishes nothing', async () => {
    await expect(world.clusters().up({ profile: 'cpu', dra: true })).rejects.toMatchObject({ code: 'BAD_INPUT', hint: 'use --profile fake-gpu --dra' });
    await expect(world.clusters().up({ profile: 'fake-gpu', dra: true, gpuSharing: 2 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      hint: expect.stringContaining('--gpu-share 0.5'),
    });
    // A running cpu cluster is reused as it is, saying why --dra did nothing.
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    const warned: string[] = [];
    await world.clusters().up({ dra: true }, (m) => warned.push(m));
    expect(warned.join('\n')).toContain("warning: cluster 'skiff' has no fake GPUs to hand out as DRA devices (profile cpu)");
    world.removeCluster('skiff');
    world.pluginsRegister = false;
    const err = await new Clusters({ ...world.clustersDeps(), fakeGpusTimeoutMs: 20 }).up({ profile: 'fake-gpu', workers: 1, dra: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('the DRA driver did not publish 1 device(s) for skiff-worker'),
      hint: expect.stringContaining(`-n kube-system logs ds/${DRA_PLUGIN_NAME}`),
    });
    expect(world.log.at(-1)).toBe('delete skiff');
  });

  it('loads the DRA driver image onto an upstream node image, which lacks it', async () => {
    const upstream = 'kindest/node:v1.34.0';
    world.images.add(upstream);
    world.images.add(DRA_DRIVER_IMAGE);
    await world.clusters().up({ profile: 'fake-gpu', workers: 1, nodeImage: upstream, dra: true });
    expect(world.log).toContain(`load skiff ${DRA_DRIVER_IMAGE}`);
    expect(world.log).not.toContain(`load skiff ${FAKE_GPU_PLUGIN_IMAGE}`);
  });

  it('shares each fake GPU as asked, counting it once, and changes the sharing of a reused cluster in place', async () => {
    const progress: string[] = [];
    const result = await world.clusters().up({ profile: 'fake-gpu', workers: 2, gpuSharing: 2 }, (m) => progress.push(m));
    expect(result.cluster.nodes.map((n) => [n.gpus, n.gpuSharing])).toEqual([
      [0, undefined],
      [1, 2],
      [1, 2],
    ]);
    expect(world.log.filter((l) => l.startsWith('apply') || l.startsWith('label'))).toEqual([
      'label skiff-worker {"nvidia.com/gpu.replicas":"2"}',
      'label skiff-worker2 {"nvidia.com/gpu.replicas":"2"}',
      `apply ${FAKE_GPU_PLUGIN_NAME} /usr/local/bin/fake-gpu-plugin --gpus 1 --replicas 2`,
    ]);
    expect(progress).toContain("starting Skiff's fake GPU device plugin (1 per node, each shared 2 ways)");
    const unshared = await world.clusters().up({ gpuSharing: 1 });
    expect(unshared.cluster.nodes.map((n) => n.gpuSharing)).toEqual([undefined, undefined, undefined]);
    expect(world.log.at(-2)).toBe(`apply ${FAKE_GPU_PLUGIN_NAME} /usr/local/bin/fake-gpu-plugin --gpus 1`);
    // Each up, once the kubelets list the GPUs as shared now, sizes the queue (if any) to them.
    expect(world.queuesSized).toEqual(['pretend-skiff', 'pretend-skiff']);
  });

  it('refuses to share the GPUs of a cpu cluster, and warns when one is up', async () => {
    await expect(world.clusters().up({ profile: 'cpu', gpuSharing: 2 })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('the cpu profile has none') });
    await expect(world.clusters().up({ gpuSharing: 2 })).rejects.toMatchObject({ code: 'BAD_INPUT', hint: expect.stringContaining('--profile fake-gpu') });
    expect(world.log.filter((l) => l.startsWith('create'))).toEqual([]);
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 1 });
    const progress: string[] = [];
    await world.clusters().up({ gpuSharing: 2 }, (m) => progress.push(m));
    expect(progress.join('\n')).toMatch(/warning: cluster 'skiff' has no GPUs to share \(profile cpu\)/);
  });

  it("time-slices the gpu profile's GPUs through NVIDIA's plugin config, and labels the GPU nodes", async () => {
    world.images.add(DEVICE_PLUGIN_IMAGE);
    await world.clusters().up({ profile: 'gpu', workers: 1, gpuSharing: 4 });
    expect(world.log).toContain('configmap nvidia-device-plugin-config');
    expect(world.log.filter((l) => l.startsWith('label'))).toEqual(['label skiff-worker {"nvidia.com/gpu.replicas":"4"}']);
  });

  it('loads the plugin image from Docker onto a node image that lacks it, and refuses before creating anything when Docker lacks it too', async () => {
    const upstream = 'kindest/node:v1.34.0';
    world.images.add(upstream);
    const err = await world
      .clusters()
      .up({ profile: 'fake-gpu', workers: 1, nodeImage: upstream })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IMAGE_MISSING', hint: expect.stringContaining('skiff images build node') });
    expect(world.log.filter((l) => l.startsWith('create'))).toEqual([]);
    world.images.add(FAKE_GPU_PLUGIN_IMAGE);
    await world.clusters().up({ profile: 'fake-gpu', workers: 1, nodeImage: upstream });
    expect(world.log).toContain(`load skiff ${FAKE_GPU_PLUGIN_IMAGE}`);
  });

  it('installs the NVIDIA runtime class and device plugin for the gpu profile, the plugin image loaded from this machine', async () => {
    world.images.add(DEVICE_PLUGIN_IMAGE);
    await world.clusters().up({ profile: 'gpu', workers: 1 });
    expect(world.log).toEqual([
      'preflight gpu',
      `save ${JOB}`,
      `save ${DEVICE_PLUGIN_IMAGE}`,
      `create skiff gpu 1 ${OFFLINE}`,
      `load skiff ${DEVICE_PLUGIN_IMAGE}`,
      'runtimeclass nvidia',
      'daemonset nvidia-device-plugin-daemonset',
      'namespace skiff',
      `load skiff ${JOB}`,
    ]);
  });

  it('says before making a gpu cluster that the device plugin image cannot be had, and how to bring it', async () => {
    const err = await world
      .clusters()
      .up({ profile: 'gpu', workers: 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'NO_GPU',
      message: expect.stringMatching(/needs NVIDIA's device plugin image nvcr\.io\/.* not in Docker and cannot be pulled \(offline\); nothing was created$/),
    });
    expect((err as SkiffError).hint).toContain('docker load -i device-plugin.tar');
    expect(world.log.some((l) => l.startsWith('create'))).toBe(false);
  });

  it('builds the node image when neither image is there nor pullable, and skips a missing job image', async () => {
    world.images.clear();
    const progress: string[] = [];
    await world.clusters().up({ nodeImage: undefined }, (m) => progress.push(m));
    expect(world.log).toEqual(['preflight cpu', 'build node', `create skiff cpu 2 ${OFFLINE}`, 'namespace skiff']);
    expect(progress.at(-1)).toContain('skiff images build job');
  });

  it('stops at preflight on an unready machine', async () => {
    world.report = { ...world.report, docker: { ok: false, runtimes: [], endpoint: '/var/run/docker.sock', error: 'connect ENOENT' } };
    const err = await world
      .clusters()
      .up({})
      .catch((e: unknown) => e);
    expect((err as SkiffError).code).toBe('NO_DOCKER');
    expect(world.log).toEqual(['preflight cpu']);
  });

  it('rejects bad options before touching anything', async () => {
    const err = await world
      .clusters()
      .up({ name: 'Bad_Name' })
      .catch((e: unknown) => e);
    expect((err as SkiffError).code).toBe('BAD_INPUT');
    expect(world.log).toEqual([]);
  });
});

describe('Clusters.status and friends', () => {
  it('describes a running cluster', async () => {
    world.addCluster({ name: 'skiff', profile: 'fake-gpu', workers: 1 }, 1);
    expect(await world.clusters().status('skiff')).toEqual({
      name: 'skiff',
      context: 'pretend-skiff',
      profile: 'fake-gpu',
      nodes: [
        { name: 'skiff-control-plane', role: 'control-plane', ready: true, gpus: 0 },
        { name: 'skiff-worker', role: 'worker', ready: true, gpus: 1 },
      ],
    });
  });

  it('tells a missing cluster from one whose containers vanished', async () => {
    const missing = (await world
      .clusters()
      .status('skiff')
      .catch((e: unknown) => e)) as SkiffError;
    expect(missing.code).toBe('NO_CLUSTER');
    expect(missing.hint).toBe('run `skiff up`');

    world.contexts.add('skiff');
    world.writeKubeconfig();
    const gone = (await world
      .clusters()
      .status('skiff')
      .catch((e: unknown) => e)) as SkiffError;
    expect(gone.code).toBe('CLUSTER_GONE');
    expect(gone.message).toBe("cluster 'skiff' no longer exists (its Docker containers are gone)");
    expect(gone.hint).toBe('run `skiff up` to create it again');
  });

  it('reports a cluster that does not answer as UNREACHABLE', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 0 });
    world.apiReady = false;
    const err = (await world
      .clusters()
      .status('skiff')
      .catch((e: unknown) => e)) as SkiffError;
    expect(err.code).toBe('UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('lists clusters, unreachable ones without nodes', async () => {
    world.addCluster({ name: 'a', profile: 'cpu', workers: 0 });
    world.addCluster({ name: 'b', profile: 'cpu', workers: 1 });
    world.unreachable.add('b');
    const list = await world.clusters().list();
    expect(list.map((c) => [c.name, c.nodes.length])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });

  it('reports an unreachable Docker engine as NO_DOCKER', async () => {
    world.dockerUp = false;
    for (const call of [(c: Clusters) => c.status('skiff'), (c: Clusters) => c.list(), (c: Clusters) => c.down('skiff')]) {
      const err = (await call(world.clusters()).catch((e: unknown) => e)) as SkiffError;
      expect(err.code).toBe('NO_DOCKER');
      expect(err.hint).toBe('start Docker (sudo systemctl start docker) or set DOCKER_HOST');
    }
  });

  it('gives up on a Docker engine that hangs, as NO_DOCKER, instead of waiting for ever', async () => {
    world.dockerHangs = true;
    const clusters = new Clusters({ ...world.clustersDeps(), dockerCallTimeoutMs: 50 });
    await expect(clusters.list()).rejects.toMatchObject({ code: 'NO_DOCKER', message: expect.stringContaining('no answer within 0.05 s') });
  });

  it('gets a kubeconfig from the tool when the file lacks the context', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 0 });
    world.contexts.clear();
    world.writeKubeconfig();
    const kc = await world.clusters().kubeConfig('skiff');
    expect(kc.getCurrentContext()).toBe('pretend-skiff');
    expect(world.log).toEqual(['kubeconfig skiff']);
  });

  it('deletes a cluster and says whether it existed', async () => {
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 0 });
    const clusters = world.clusters();
    expect(await clusters.down('skiff')).toBe(true);
    expect(await clusters.down('skiff')).toBe(false);
    expect(world.log).toEqual(['delete skiff', 'delete skiff']);
  });

  it('loads only images that exist into clusters that exist', async () => {
    const clusters = world.clusters();
    expect(((await clusters.loadImage('skiff', JOB).catch((e: unknown) => e)) as SkiffError).code).toBe('NO_CLUSTER');
    world.addCluster({ name: 'skiff', profile: 'cpu', workers: 0 });
    expect(((await clusters.loadImage('skiff', 'nope:1').catch((e: unknown) => e)) as SkiffError).code).toBe('IMAGE_MISSING');
    await clusters.loadImage('skiff', JOB);
    expect(world.log).toEqual([`save ${JOB}`, `load skiff ${JOB}`]);
  });
});

describe('clusterOptions', () => {
  it("fills in Skiff's defaults", () => {
    expect(clusterOptions({})).toEqual({ name: 'skiff', profile: 'cpu', workers: 2, gpusPerNode: 1 });
    expect(clusterOptions({ name: 'dev.1', workers: 0, nodeImage: 'n:1' })).toEqual({ name: 'dev.1', profile: 'cpu', workers: 0, gpusPerNode: 1, nodeImage: 'n:1' });
  });

  it('rejects what kind would reject', () => {
    for (const bad of [{ name: 'UPPER' }, { name: '-x' }, { name: 'a'.repeat(51) }, { workers: -1 }, { workers: 1.5 }, { gpusPerNode: -2 }, { profile: 'tpu' as ClusterProfile }]) {
      expect(() => clusterOptions(bad)).toThrow(SkiffError);
    }
  });
});
