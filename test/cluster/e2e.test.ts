// End to end against a real kind cluster (3 nodes, fake-gpu profile) built from Skiff's offline
// images: real pods, real Python, a DDP job that trains across two nodes, a server that answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { recipeVersions } from '../../runtime/src/images/images.js';
import { JOB_IMAGE } from '@skiff/runtime';
import { CLUSTER, REPO, skiff, skiffJson, skiffJsonLines, spawnSkiff } from './skiff-cli.js';

interface Status {
  nodes: { name: string; role: string; ready: boolean; gpus: number }[];
}
interface Described {
  phase: string;
  reason?: string;
  pods: { name: string; rank: number; node?: string; phase: string; exitCode?: number; startedAt?: string; finishedAt?: string; gpus?: string[] }[];
}
interface Sample {
  type: string;
  metric?: { rank: number; values: Record<string, number> };
}

describe('skiff on a real kind cluster', () => {
  beforeAll(async () => {
    const up = await skiff(['up', '--profile', 'fake-gpu', '--workers', '2', '--gpus-per-node', '1'], 25 * 60_000);
    if (up.code !== 0) throw new Error(`skiff up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(async () => {
    if (!process.env.SKIFF_E2E_KEEP) await skiff(['down']);
  });

  it('creates one control plane and two Ready workers with advertised GPUs', async () => {
    const status = await skiffJson<Status>(['status']);
    expect(status.nodes).toHaveLength(3);
    expect(status.nodes.every((n) => n.ready)).toBe(true);
    expect(status.nodes.filter((n) => n.role === 'worker').map((n) => n.gpus)).toEqual([1, 1]);
  });

  it('reuses a healthy cluster quickly', async () => {
    const again = await skiffJson<{ reused: boolean; seconds: number }>(['up', '--workers', '2']);
    expect(again.reused).toBe(true);
    expect(again.seconds).toBeLessThan(5);
  });

  it('trains a 2-worker DDP job across both worker nodes, and the loss falls', async () => {
    const run = await skiff(['run', 'examples/train_ddp.py', '--workers', '2', '--name', 'e2e-train']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('rank 0/2 finished');
    expect(run.stdout).toContain('rank 1/2 finished');

    const described = await skiffJson<Described>(['describe', 'e2e-train']);
    expect(described.phase).toBe('Succeeded');
    expect(described.pods.map((p) => p.exitCode)).toEqual([0, 0]);
    expect(new Set(described.pods.map((p) => p.node)).size).toBe(2);

    const samples = await skiffJsonLines<Sample>(['metrics', 'e2e-train']);
    for (const rank of [0, 1]) {
      const losses = samples.filter((s) => s.type === 'training' && s.metric?.rank === rank).map((s) => s.metric!.values);
      const steps = losses.map((v) => v.step);
      expect(steps.length).toBeGreaterThan(5);
      expect(steps).toEqual([...steps].sort((a, b) => a - b)); // in order within the rank
      expect(losses.at(-1)!.loss).toBeLessThan(losses[0].loss / 10);
    }

    const logs = await skiff(['logs', 'e2e-train']);
    for (const rank of [0, 1]) {
      const lines = logs.stdout.split('\n').filter((l) => l.startsWith(`[rank ${rank}]`));
      expect(lines.at(-1)).toContain(`rank ${rank}/2 finished`);
    }
  });

  it('serves HTTP from a Deployment and answers a real request', async () => {
    const serve = await skiff(['serve', 'examples/serve.py', '--port', '8000', '--name', 'e2e-serve']);
    expect(serve.code, serve.stderr).toBe(0);
    const call = await skiff(['call', 'e2e-serve', '/', '--data', '[1, 2]']);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ predictions: [5, 8] });
    // `skiff forward` puts it on a local port for any client, one forwarded connection per request.
    const forward = spawnSkiff(['forward', 'e2e-serve']);
    try {
      const [first] = (await once(forward.stdout, 'data')) as [Buffer];
      const url = first.toString().trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const post = await fetch(url, { method: 'POST', body: '[3]', headers: { 'Content-Type': 'application/json' } });
      expect(await post.json()).toEqual({ predictions: [11] });
      expect(await (await fetch(url)).json()).toMatchObject({ status: 'ok' });
    } finally {
      forward.kill('SIGINT');
    }
    const [code] = (await once(forward, 'exit')) as [number];
    expect(code).toBe(0);
    expect((await skiff(['cancel', 'e2e-serve'])).code).toBe(0);
  });

  it('passes env, arguments, CPU and memory through; logs -f and metrics -f follow it to its end', async () => {
    const run = await skiff([
      'run',
      'test/cluster/fixtures/options.py',
      '--workers',
      '1',
      '--env',
      'GREETING=hi',
      '--cpu',
      '500m',
      '--memory',
      '256Mi',
      '--name',
      'e2e-opts',
      '-d',
      '--',
      '--epochs',
      '3',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [logs, metrics] = await Promise.all([skiff(['logs', 'e2e-opts', '-f']), skiff(['metrics', 'e2e-opts', '-f', '--interval', '2', '-o', 'json'])]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('GREETING=hi');
    expect(logs.stdout).toContain("args=['--epochs', '3']");
    expect(logs.stdout.trimEnd().split('\n').at(-1)).toContain('options done');
    expect(metrics.code, metrics.stderr).toBe(0);
    const samples = metrics.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Sample & { pods?: { cpuCores: number; memoryBytes: number }[] });
    const steps = samples.filter((s) => s.type === 'training').map((s) => s.metric!.values.step);
    // Every reported step once, in order, although samples arrive over several polls.
    expect(steps).toEqual([...Array(12).keys()]);
    const usage = samples.filter((s) => s.type === 'usage').flatMap((s) => s.pods ?? []);
    expect(usage.length).toBeGreaterThan(0);
    expect(usage.some((p) => p.memoryBytes > 0)).toBe(true);
    const described = await skiffJson<Described & { spec: { resources: Record<string, string>; env: Record<string, string>; args: string[] } }>(['describe', 'e2e-opts']);
    expect(described.phase).toBe('Succeeded');
    // The value reached the pod (above) from the job's Secret; what the cluster shows of the job names it only.
    expect(described.spec).toMatchObject({ resources: { cpu: '500m', memory: '256Mi' }, env: { GREETING: '' }, args: ['--epochs', '3'] });
  });

  it('serves from several replicas behind one Service', async () => {
    const serve = await skiff(['serve', 'examples/serve.py', '--port', '8000', '--replicas', '2', '--name', 'e2e-replicas']);
    expect(serve.code, serve.stderr).toBe(0);
    await expect.poll(async () => (await skiffJson<Described>(['describe', 'e2e-replicas'])).pods.filter((p) => p.phase === 'Running').length, { timeout: 120_000 }).toBe(2);
    const call = await skiff(['call', 'e2e-replicas', '/']);
    expect(JSON.parse(call.stdout)).toMatchObject({ status: 'ok' });
    expect((await skiff(['cancel', 'e2e-replicas'])).code).toBe(0);
  });

  it('reports a crashing script with its exit code and last lines', async () => {
    const run = await skiff(['run', 'test/cluster/fixtures/crash.py', '--name', 'e2e-crash']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/script exited 3/);
    expect(run.stderr).toContain('about to fail');
  });

  it('reports a script with a syntax error as such', async () => {
    const run = await skiff(['run', 'test/cluster/fixtures/syntax_error.py', '--name', 'e2e-syntax']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/script exited 1/);
    expect(run.stderr).toContain('SyntaxError');
  });

  it('says a script written for GPUs needs one, not a CUDA traceback: on a CPU job, and with fake GPUs but a CPU torch', async () => {
    const cpu = await skiff(['run', 'test/cluster/fixtures/cuda_script.py', '--name', 'e2e-cuda-cpu']);
    expect(cpu.code).toBe(1);
    expect(cpu.stderr).toMatch(/job e2e-cuda-cpu Failed after \S+: the script uses CUDA but the job has no GPU: give it GPUs with `--gpus-per-worker 1`/);
    expect(cpu.stderr).toContain("AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'");
    expect((await skiffJson<Described>(['describe', 'e2e-cuda-cpu'])).reason).toMatch(/^the script uses CUDA but the job has no GPU/);
    const fake = await skiff(['run', 'test/cluster/fixtures/cuda_script.py', '--gpus-per-worker', '1', '--name', 'e2e-cuda-fake']);
    expect(fake.code).toBe(1);
    expect(fake.stderr).toMatch(/the job has 1 GPU per worker but its torch is a CPU build \(as in Skiff's default image\)/);
  });

  it("has NVIDIA's container toolkit in its nodes, built offline, in CDI mode, and containerd takes its nvidia runtime (a GPU node's setup short of the driver)", () => {
    const inNode = (script: string) => execFileSync('docker', ['exec', `${CLUSTER}-worker`, 'bash', '-c', script], { encoding: 'utf8' });
    expect(inNode('nvidia-ctk --version')).toMatch(/version \d+\.\d+\.\d+/);
    expect(inNode('command -v nvidia-container-runtime nvidia-cdi-hook')).toBe('/usr/bin/nvidia-container-runtime\n/usr/bin/nvidia-cdi-hook\n');
    expect(inNode('nvidia-ctk config')).toMatch(/^mode = "cdi"$/m);
    // What the gpu profile's setup writes into containerd's config, shown and not written here.
    const configured = inNode('nvidia-ctk runtime configure --runtime=containerd --config-source=file --dry-run');
    expect(configured).toMatch(/\[plugins\."io\.containerd\.[\w.]+"\.containerd\.runtimes\.nvidia\]/);
    expect(configured).toContain('BinaryName = "/usr/bin/nvidia-container-runtime"');
    // Without a GPU the CDI spec cannot be made, and nvidia-ctk says why instead of writing an empty one.
    expect(() => inNode('nvidia-ctk cdi generate --output=/tmp/nvidia.yaml')).toThrow(/NVML|libnvidia-ml/);
  });

  it("hands devices to containers through CDI, as DRA drivers do: Kubernetes' own DRA test driver (built offline, in the node image) publishes each worker's device, and a pod that claims one gets it, its env from the driver's CDI spec, then gives it back", async () => {
    const inNode = (script: string) => execFileSync('docker', ['exec', `${CLUSTER}-worker`, 'bash', '-c', script], { encoding: 'utf8' });
    // Debian's containerd 1.6 has no CDI; the node's is 1.7, built from the Go module proxy, with CDI on.
    expect(inNode('containerd --version')).toMatch(/ 1\.7\.\d+/);
    const kc = new KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${CLUSTER}`);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const fixture = (file: string) =>
      parseAllDocuments(
        readFileSync(join(REPO, 'test/cluster/fixtures/dra', file), 'utf8')
          .replaceAll('DRA_DRIVER_IMAGE', recipeVersions().DRA_DRIVER_IMAGE)
          .replaceAll('JOB_IMAGE', JOB_IMAGE),
      ).map((d) => d.toJS() as KubernetesObject);
    const made: KubernetesObject[] = [];
    try {
      for (const obj of [...fixture('driver.yaml')]) made.push(await objects.create(obj));
      const slices = kc.makeApiClient(CustomObjectsApi);
      let nodes: string[] = [];
      for (let i = 0; i < 60 && nodes.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const listed = (await slices.listClusterCustomObject({ group: 'resource.k8s.io', version: 'v1', plural: 'resourceslices' })) as {
          items: { spec: { driver: string; nodeName?: string; devices?: unknown[] } }[];
        };
        nodes = listed.items.filter((s) => s.spec.driver === 'gpu.e2e.skiff.dev' && s.spec.devices?.length === 1).map((s) => s.spec.nodeName ?? '');
      }
      expect(nodes.sort()).toEqual([`${CLUSTER}-worker`, `${CLUSTER}-worker2`]);

      for (const obj of fixture('claim.yaml')) made.push(await objects.create(obj));
      const core = kc.makeApiClient(CoreV1Api);
      let phase = '';
      for (let i = 0; i < 60 && !['Succeeded', 'Failed'].includes(phase); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        phase = (await core.readNamespacedPod({ name: 'claims-one', namespace: 'e2e-dra' })).status?.phase ?? '';
      }
      expect(phase).toBe('Succeeded');
      // The class's parameter and the claim's request, set by the driver's CDI spec, not by the pod.
      const env = await core.readNamespacedPodLog({ name: 'claims-one', namespace: 'e2e-dra' });
      expect(env).toMatch(/^admin_kind=fake\nclaim_claims_one_gpu_\w+_gpu=true\n$/);
      // Ended: its claim is deallocated and deleted with it.
      let claims = 1;
      for (let i = 0; i < 30 && claims > 0; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        claims = ((await slices.listNamespacedCustomObject({ group: 'resource.k8s.io', version: 'v1', namespace: 'e2e-dra', plural: 'resourceclaims' })) as { items: unknown[] })
          .items.length;
      }
      expect(claims).toBe(0);
    } finally {
      for (const obj of made.reverse()) await objects.delete(obj).catch(() => {});
    }
  });

  it("schedules GPU workers on the fake GPUs, which each node's kubelet allocates from Skiff's device plugin and takes back when the job ends", async () => {
    const run = await skiff(['run', 'test/cluster/fixtures/gpu_check.py', '--workers', '2', '--gpus-per-worker', '1', '--name', 'e2e-gpu']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rank 0 of 2 ran/);
    // The scheduler's word, not the script's: each rank asked for one GPU, and with one per node
    // the two ranks had to land on two nodes that advertise one.
    const kc = new KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${CLUSTER}`);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = (await core.listNamespacedPod({ namespace: 'skiff', labelSelector: 'skiff.dev/job=e2e-gpu' })).items;
    expect(pods).toHaveLength(2);
    expect(pods.map((p) => p.spec?.containers[0].resources?.limits?.['nvidia.com/gpu'])).toEqual(['1', '1']);
    const nodes = new Set(pods.map((p) => p.spec?.nodeName ?? ''));
    expect(nodes.size).toBe(2);
    for (const name of nodes) expect((await core.readNode({ name })).status?.allocatable?.['nvidia.com/gpu']).toBe('1');
    // The kubelet's word: each container was given its node's one device, in the variable the plugin sets.
    for (const pod of pods) {
      const rank = pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'];
      expect(run.stdout).toContain(`[rank ${rank}] rank ${rank} of 2 ran with devices GPU-fake-${pod.spec?.nodeName}-0`);
    }
    // The plugin runs as a DaemonSet of its own on both workers.
    const plugins = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'app=skiff-fake-gpu-plugin' })).items;
    expect(
      plugins
        .filter((p) => p.status?.phase === 'Running')
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual([...nodes].sort());
    // Released when the job ended: the same two GPUs go to the next job.
    const again = await skiff(['run', 'test/cluster/fixtures/gpu_check.py', '--workers', '2', '--gpus-per-worker', '1', '--name', 'e2e-gpu-again']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/rank 1 of 2 ran with devices GPU-fake-/);
  });

  it('samples a GPU job without a GPU reading where there is no nvidia-smi (fake GPUs), and on time', async () => {
    const run = await skiff(['run', 'test/cluster/fixtures/slow.py', '--gpus-per-worker', '1', '--name', 'e2e-gpu-metrics', '--detach']);
    expect(run.code, run.stderr).toBe(0);
    await expect.poll(async () => (await skiffJson<Described>(['describe', 'e2e-gpu-metrics'])).phase, { timeout: 120_000 }).toBe('Running');
    let pods: { rank: number; cpuCores: number; gpuUtilization?: number }[] = [];
    // The kubelet reports a new pod some seconds after it starts.
    for (let i = 0; i < 15 && pods.length === 0; i++) {
      const started = Date.now();
      const [sample] = await skiffJsonLines<{ type: string; pods?: typeof pods }>(['metrics', 'e2e-gpu-metrics']);
      expect(Date.now() - started).toBeLessThan(15_000);
      pods = sample.pods ?? [];
      if (pods.length === 0) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(pods.map((p) => p.rank)).toEqual([0]);
    expect(pods[0].gpuUtilization).toBeUndefined();
    expect((await skiff(['cancel', 'e2e-gpu-metrics'])).code).toBe(0);
  });

  it('shares each fake GPU two ways when asked: four half-GPU ranks run on two GPUs, two to a GPU; a share of unshared GPUs is refused plainly', async () => {
    const shared = await skiff(['up', '--gpu-sharing', '2']);
    expect(shared.code, shared.stderr).toBe(0);
    expect(shared.stdout).toContain('2 GPUs shared 2 ways');
    try {
      const run = await skiff(['run', 'test/cluster/fixtures/gpu_check.py', '--workers', '4', '--gpu-share', '0.5', '--name', 'e2e-gpu-share']);
      expect(run.code, run.stderr).toBe(0);
      // The kubelet's word: two ranks on each node, both given that node's one GPU (a slice each).
      const devices = [...run.stdout.matchAll(/\] rank (\d) of 4 ran with devices (\S+)/g)].map((m) => m[2]);
      expect(devices).toHaveLength(4);
      const perGpu = new Map<string, number>();
      for (const d of devices) perGpu.set(d, (perGpu.get(d) ?? 0) + 1);
      expect([...perGpu.values()]).toEqual([2, 2]);
      expect(devices.every((d) => /^GPU-fake-skiff-e2e-worker2?-0$/.test(d))).toBe(true);
      expect((await skiffJson<Described>(['describe', 'e2e-gpu-share'])).phase).toBe('Succeeded');

      // A notebook session takes the same share: each rank keeps its slice of a GPU between cells.
      const session = ['--name', 'e2e-gpu-session', '--workers', '2', '--gpu-share', '0.5'];
      const started = await skiffJson<{ gpusPerWorker: number; gpuShare?: number }>(['session', 'start', 'test/cluster/fixtures/gpu_check.py', ...session]);
      expect(started).toMatchObject({ gpusPerWorker: 1, gpuShare: 0.5 });
      try {
        const cell = await skiff(['session', 'run', 'e2e-gpu-session', '-c', "import os; print('devices', os.environ.get('NVIDIA_VISIBLE_DEVICES'))"]);
        expect(cell.code, cell.stderr).toBe(0);
        const given = [...cell.stdout.matchAll(/devices (\S+)/g)].map((m) => m[1]);
        expect(given).toHaveLength(2);
        expect(
          given.every((d) => /^GPU-fake-skiff-e2e-worker2?-0$/.test(d)),
          given.join(' '),
        ).toBe(true);
        expect((await skiff(['session', 'status', 'e2e-gpu-session'])).stdout).toContain('2 ranks × 0.5 GPU (a time-slice)');
      } finally {
        await skiff(['session', 'stop', 'e2e-gpu-session']);
      }
    } finally {
      const whole = await skiff(['up', '--gpu-sharing', '1']);
      expect(whole.code, whole.stderr).toBe(0);
    }
    const refused = await skiff(['run', 'test/cluster/fixtures/gpu_check.py', '--gpu-share', '0.5', '--name', 'e2e-gpu-share-whole']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/asks for 0\.5 of a GPU per worker, but the GPUs of cluster 'skiff-e2e' are not shared, so it would hold a whole one/);
    expect(refused.stderr).toContain('skiff up --gpu-sharing 2');
  });

  it('hands out the fake GPUs as DRA devices when asked, in place: each rank claims its own, ranks that ask a share claim one together, and the claims go when the job does', async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${CLUSTER}`);
    const resources = kc.makeApiClient(CustomObjectsApi);
    const listed = async (plural: string) =>
      (
        (await resources.listNamespacedCustomObject({ group: 'resource.k8s.io', version: 'v1', namespace: 'skiff', plural })) as {
          items: { metadata: { name: string; labels?: Record<string, string> } }[];
        }
      ).items.map((o) => o.metadata);
    const moved = await skiff(['up', '--dra']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('2 GPUs (DRA)');
    try {
      // Whole GPUs: a claim per rank, from the job's template, each prepared on its rank's node by the driver.
      const running = skiff(['run', 'test/cluster/fixtures/dra_check.py', '--workers', '2', '--gpus-per-worker', '1', '--name', 'e2e-dra', '--', '--hold', '8']);
      // While the ranks hold their claims, describe names each rank's device (the driver's device-NN).
      await expect
        .poll(async () => (await skiffJson<Described>(['describe', 'e2e-dra']).catch(() => undefined))?.pods.map((p) => p.gpus?.join(',') ?? '-') ?? [], {
          timeout: 60_000,
          interval: 1000,
        })
        .toEqual([expect.stringMatching(/^device-0\d$/), expect.stringMatching(/^device-0\d$/)]);
      const run = await running;
      expect(run.code, run.stderr).toBe(0);
      const ranks = [...run.stdout.matchAll(/\] rank (\d) of 2 claims (\S+) kind (\S+)/g)].map((m) => ({ rank: m[1], claims: m[2], kind: m[3] }));
      expect(ranks).toHaveLength(2);
      for (const r of ranks) {
        expect(r.kind).toBe('fake-gpu');
        expect(r.claims).toMatch(/^claim_e2e_dra_\d_\w+_gpu_\w+_gpu$/);
      }
      expect(new Set(ranks.map((r) => r.claims)).size).toBe(2);
      const described = await skiffJson<Described>(['describe', 'e2e-dra']);
      expect(described.phase).toBe('Succeeded');
      expect(new Set(described.pods.map((p) => p.node)).size).toBe(2);
      // Ended: the ranks' claims are released and deleted; the template goes with the job.
      await expect.poll(async () => (await listed('resourceclaims')).filter((c) => c.name.startsWith('e2e-dra-')), { timeout: 60_000 }).toEqual([]);
      expect((await listed('resourceclaimtemplates')).map((t) => t.name)).toContain('e2e-dra-gpu');
      expect((await skiff(['cancel', 'e2e-dra'])).code).toBe(0);
      await expect.poll(async () => (await listed('resourceclaimtemplates')).map((t) => t.name), { timeout: 60_000 }).not.toContain('e2e-dra-gpu');

      // A share: one claim the job's ranks all name, so they share its GPU, on its node.
      const shared = await skiff(['run', 'test/cluster/fixtures/dra_check.py', '--workers', '2', '--gpu-share', '0.5', '--name', 'e2e-dra-share']);
      expect(shared.code, shared.stderr).toBe(0);
      const sharedClaims = [...shared.stdout.matchAll(/\] rank \d of 2 claims (\S+)/g)].map((m) => m[1]);
      expect(sharedClaims).toEqual(['claim_e2e_dra_share_gpu_gpu', 'claim_e2e_dra_share_gpu_gpu']);
      expect(new Set((await skiffJson<Described>(['describe', 'e2e-dra-share'])).pods.map((p) => p.node)).size).toBe(1);
      expect((await skiff(['cancel', 'e2e-dra-share'])).code).toBe(0);
      // More shares than one node's GPUs hold: refused before anything is made.
      const tooMany = await skiff(['run', 'test/cluster/fixtures/dra_check.py', '--workers', '4', '--gpu-share', '0.5', '--name', 'e2e-dra-many']);
      expect(tooMany.code).toBe(2);
      expect(tooMany.stderr).toMatch(/4 ranks × 0\.5 of a GPU share one DRA claim of 2 GPUs, whose devices are all on one node/);
      // More GPUs per rank than any node has: Pending, with the scheduler's reason in words.
      expect((await skiff(['run', 'test/cluster/fixtures/dra_check.py', '--gpus-per-worker', '2', '--name', 'e2e-dra-big', '--detach'])).code).toBe(0);
      await expect
        .poll(async () => (await skiffJson<Described>(['describe', 'e2e-dra-big'])).reason ?? '', { timeout: 60_000, interval: 2000 })
        .toMatch(/^waits for GPUs to claim: no node has as many free as this worker's claim asks for/);
      expect((await skiff(['cancel', 'e2e-dra-big'])).code).toBe(0);
    } finally {
      const back = await skiff(['up', '--no-dra']);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toMatch(/2 GPUs(?! \(DRA\))/);
    }
  });

  it('explains in plain words why a job asking for too many GPUs stays Pending', async () => {
    const run = await skiff(['run', 'test/cluster/fixtures/gpu_check.py', '--gpus-per-worker', '4', '--name', 'e2e-gpu-big', '--detach']);
    expect(run.code, run.stderr).toBe(0);
    let described: Described | undefined;
    for (let i = 0; i < 30; i++) {
      described = await skiffJson<Described>(['describe', 'e2e-gpu-big']);
      if (described.reason) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(described?.phase).toBe('Pending');
    expect(described?.reason).toMatch(/needs 4 nvidia\.com\/gpu per worker/);
    expect((await skiff(['cancel', 'e2e-gpu-big'])).code).toBe(0);
  });

  it('rejects bad input with a clear message and exit code 2', async () => {
    const missing = await skiff(['run', 'no-such-script.py']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/script not found/);
    const zero = await skiff(['run', 'examples/train_ddp.py', '--workers', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--workers must be between 1 and 64/);
    const absurd = await skiff(['run', 'examples/train_ddp.py', '--workers', '100000']);
    expect(absurd.code).toBe(2);
  });

  it('says what is missing from the machine: no Docker engine, no kind', async () => {
    const noDocker = await skiff(['--cluster', 'other', 'up'], 60_000, { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(noDocker.code).toBe(3);
    expect(noDocker.stderr).toMatch(/Docker engine/i);
    const noKind = await skiff(['--cluster', 'other', 'up'], 60_000, { ...process.env, PATH: '/nonexistent', SKIFF_KIND: '', SKIFF_CACHE_DIR: '/nonexistent' });
    expect(noKind.code).toBe(3);
    expect(noKind.stderr).toMatch(/kind not found/);
  });

  it("loads an image of the user's own onto the nodes and runs a job in it (--image)", async () => {
    // The user's image: the job image plus a file of its own, made without a registry or a builder.
    const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
    const image = 'skiff-e2e/custom:1';
    const marker = `made at ${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'skiff-e2e-image-'));
    writeFileSync(join(dir, 'marker.txt'), marker);
    const container = docker('create', JOB_IMAGE, 'true');
    try {
      docker('cp', dir + '/.', `${container}:/opt/skiff-e2e`);
      docker('commit', container, image);
    } finally {
      docker('rm', container);
    }
    const load = await skiff(['images', 'load', image]);
    expect(load.code, load.stderr).toBe(0);
    const run = await skiff(['run', 'test/cluster/fixtures/image_marker.py', '--image', image, '--workers', '1', '--name', 'e2e-image']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`[rank 0] marker: ${marker}`);
    // An image that is not there says how to get it.
    const missing = await skiff(['images', 'load', 'skiff-e2e/absent:1']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/not in the local Docker engine/);
  });

  it('with Kueue added to the running cluster, jobs that each need both GPUs wait Queued, their place and reason in plain words, then run one after another; a queued job cancels', async () => {
    const added = await skiff(['up', '--with', 'kueue'], 20 * 60_000);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('with kueue');
    expect(added.stdout + added.stderr).toMatch(/queue 'skiff' holds the workers' .* and 2 GPUs/);
    const names = ['e2e-q1', 'e2e-q2', 'e2e-q3', 'e2e-q4'];
    try {
      for (const name of names) {
        const submitted = await skiff(['run', 'test/cluster/fixtures/queue_step.py', '--workers', '2', '--gpus-per-worker', '1', '--name', name, '--detach']);
        expect(submitted.code, submitted.stderr).toBe(0);
        // Kueue's first-come-first-served order is by creation time, to the second: jobs made in
        // the same second have no order between them (a run once took e2e-q3 before e2e-q2).
        await new Promise((r) => setTimeout(r, 1100));
      }
      // The last two wait in the queue with no pod at all, rather than Pending on GPUs some ranks hold,
      // each told its place, and what it waits for: GPUs, or the jobs ahead of it.
      const places: number[] = [];
      for (const name of ['e2e-q3', 'e2e-q4']) {
        const waiting = await skiffJson<Described>(['describe', name]);
        expect(waiting.phase, name).toBe('Queued');
        expect(waiting.pods).toEqual([]);
        const said =
          /^waiting in queue skiff, (\d)(st|nd|rd|th) of \d: (needs \d more nvidia\.com\/gpu than the queue has free now; it starts when running jobs finish|the jobs ahead of it go first)$/.exec(
            waiting.reason ?? '',
          );
        expect(said, waiting.reason).not.toBeNull();
        places.push(Number(said![1]));
      }
      expect(places[1]).toBeGreaterThan(places[0]);
      expect((await skiff(['cancel', 'e2e-q4'])).code).toBe(0);
      const done = async () => Promise.all(names.slice(0, 3).map((n) => skiffJson<Described>(['describe', n])));
      await expect.poll(async () => (await done()).map((d) => d.phase), { timeout: 5 * 60_000, interval: 2000 }).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
      // All or nothing, in order: every rank of a job starts only after every rank of the one before ended.
      const jobs = await done();
      for (let i = 1; i < jobs.length; i++) {
        const before = Math.max(...jobs[i - 1].pods.map((p) => Date.parse(p.finishedAt!)));
        const after = Math.min(...jobs[i].pods.map((p) => Date.parse(p.startedAt!)));
        // On failure, each rank's node and times say whether the queue admitted early or a rank started late.
        const timeline = jobs.map((j, n) => `${names[n]}: ${j.pods.map((p) => `rank ${p.rank} on ${p.node} ${p.startedAt}..${p.finishedAt}`).join(', ')}`).join('; ');
        expect(after, `${names[i]} started after ${names[i - 1]} ended (${timeline})`).toBeGreaterThanOrEqual(before);
      }
      expect((await skiffJson<{ name: string }[]>(['jobs'])).map((j) => j.name)).not.toContain('e2e-q4');
      // The nodes' GPUs change under the queue: it follows them, or it would admit what cannot run together.
      const shared = await skiff(['up', '--gpu-sharing', '2']);
      expect(shared.stdout + shared.stderr).toMatch(/queue 'skiff' holds the workers' .* and 4 GPUs/);
      const whole = await skiff(['up', '--gpu-sharing', '1']);
      expect(whole.stdout + whole.stderr).toMatch(/queue 'skiff' holds the workers' .* and 2 GPUs/);

      // GPUs claimed through DRA count in the same quota: a second job that needs both waits Queued.
      // (Without Kueue's DRA mapping the second would be admitted at once and wait Pending on its claims.)
      try {
        const dra = await skiff(['up', '--dra']);
        expect(dra.stdout).toContain('2 GPUs (DRA)');
        for (const name of ['e2e-qd1', 'e2e-qd2']) {
          const submitted = await skiff(['run', 'test/cluster/fixtures/queue_step.py', '--workers', '2', '--gpus-per-worker', '1', '--name', name, '--detach']);
          expect(submitted.code, submitted.stderr).toBe(0);
          await new Promise((r) => setTimeout(r, 1100));
        }
        const second = await skiffJson<Described>(['describe', 'e2e-qd2']);
        expect(second.phase).toBe('Queued');
        expect(second.reason).toMatch(/needs 2 more nvidia\.com\/gpu than the queue has free now|the jobs ahead of it go first/);
        const both = async () => (await Promise.all(['e2e-qd1', 'e2e-qd2'].map((n) => skiffJson<Described>(['describe', n])))).map((d) => d.phase);
        await expect.poll(both, { timeout: 3 * 60_000, interval: 2000 }).toEqual(['Succeeded', 'Succeeded']);
      } finally {
        for (const name of ['e2e-qd1', 'e2e-qd2']) await skiff(['cancel', name]);
        expect((await skiff(['up', '--no-dra'])).code).toBe(0);
      }
    } finally {
      for (const name of names) await skiff(['cancel', name]);
      // Later rows see the cluster without a queue, as they were written for.
      const kc = new KubeConfig();
      kc.loadFromDefault();
      kc.setCurrentContext(`kind-${CLUSTER}`);
      await kc
        .makeApiClient(CustomObjectsApi)
        .deleteClusterCustomObject({ group: 'kueue.x-k8s.io', version: 'v1beta2', plural: 'clusterqueues', name: 'skiff' })
        .catch(() => {});
    }
  });

  it('lists the jobs it ran, recovered from the cluster', async () => {
    const jobs = await skiffJson<{ name: string; phase: string }[]>(['jobs']);
    const byName = Object.fromEntries(jobs.map((j) => [j.name, j.phase]));
    expect(byName['e2e-train']).toBe('Succeeded');
    expect(byName['e2e-crash']).toBe('Failed');

    // --watch prints the list at once, then again on every change, until interrupted.
    const watched = await skiff(['jobs', '--watch', '-o', 'json'], 8000);
    const first = JSON.parse(watched.stdout.split('\n')[0]) as { name: string }[];
    expect(first.map((j) => j.name)).toEqual(jobs.map((j) => j.name));
  });

  it(
    'says plainly when the cluster is deleted under a running job, and when it is gone',
    async () => {
      const following = skiff(['run', 'test/cluster/fixtures/slow.py', '--name', 'e2e-slow']);
      for (let i = 0; i < 60; i++) {
        const described = await skiffJson<Described>(['describe', 'e2e-slow']).catch(() => undefined);
        if (described?.phase === 'Running') break;
        await new Promise((r) => setTimeout(r, 2000));
      }
      expect((await skiff(['down'])).code).toBe(0);
      const run = await following;
      expect(run.stdout).toContain('still working');
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/cannot reach the API server of cluster|no longer exists/);
      const status = await skiff(['status']);
      expect(status.code).toBe(3);
      expect(status.stderr).toMatch(/skiff up/);
    },
    5 * 60_000,
  );
});
