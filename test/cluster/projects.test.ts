// Ordinary projects, unchanged, on a real kind cluster: a script that checkpoints into its working
// directory and resumes, Flask from requirements.txt and from PEP 723 metadata, a weights file
// and a 200 MB folder beside the code, a --data folder both ranks read, and bad input refused
// before any pod starts, with nothing left behind; a disk that fills under a job, and under a submit;
// MLflow and Prometheus added to the running cluster, each read back through its own API; Lightning's
// multi-node DDP from its own package; a training step through torch.compile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { CLUSTER, REPO, skiff, skiffJson, skiffJsonLines, spawnSkiff } from './skiff-cli.js';
import { kubeRequest } from '../../runtime/src/k8s/client.js';
import type { MetricsSample } from '../../runtime/src/types.js';
import { dataDir, jobRunsDir, NODE_DATA_DIR } from '../../runtime/src/workspace/layout.js';
import { DEFAULT_NAMESPACE } from '../../runtime/src/spec/job-spec.js';

const FIXTURES = join(REPO, 'test/cluster/fixtures/projects');
/** The demo's scripts are ordinary projects too: a checkpointing trainer, a Flask server with its requirements.txt. */
const CHECKPOINT = join(REPO, 'examples/resume/train.py');

interface Status {
  name: string;
  phase: string;
  workDir?: string;
}

describe('real projects run unchanged', () => {
  const scratch: string[] = [];
  const tempDir = (prefix: string, under = tmpdir()) => {
    const dir = mkdtempSync(join(under, prefix));
    scratch.push(dir);
    return dir;
  };

  beforeAll(async () => {
    const up = await skiff(['up', '--workers', '2'], 25 * 60_000);
    if (up.code !== 0) throw new Error(`skiff up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(async () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    if (!process.env.SKIFF_E2E_KEEP) await skiff(['down']);
  });

  it('a 2-worker job saves a checkpoint in its working directory each epoch; the file is on the host, and a run --from it resumes', async () => {
    const first = await skiff(['run', CHECKPOINT, '--workers', '2', '--name', 'ckpt-a']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('epoch 1: saved snapshot.pt');
    expect(first.stderr).toMatch(/working directory \/\S+ckpt-a\//);
    // Both ranks, on two nodes, wrote into the same folder.
    expect(first.stdout).toMatch(/rank 1 done, folder has \[.*'rank0.txt', 'rank1.txt', 'snapshot.pt'/);

    const outputs = await skiff(['outputs', 'ckpt-a']);
    expect(outputs.code, outputs.stderr).toBe(0);
    const dir = outputs.stdout.trim();
    expect(readdirSync(dir).sort()).toEqual(['rank0.txt', 'rank1.txt', 'snapshot.pt', 'train.py']);
    const described = await skiffJson<Status>(['describe', 'ckpt-a']);
    expect(described.workDir).toBe(dir);
    // The user's own folder is untouched.
    expect(readdirSync(join(REPO, 'examples/resume'))).toEqual(['train.py']);

    const resumed = await skiff(['run', CHECKPOINT, '--workers', '2', '--name', 'ckpt-b', '--from', 'ckpt-a']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('rank 0: resuming from epoch 1');
    expect(resumed.stdout).toContain('rank 1: resuming from epoch 1');
    expect(resumed.stdout).toContain('epoch 3: saved snapshot.pt');

    // Cancel deletes the job, never its results; removing them is a separate, explicit step.
    expect((await skiff(['cancel', 'ckpt-a'])).code).toBe(0);
    expect(existsSync(join(dir, 'snapshot.pt'))).toBe(true);
    const copy = tempDir('skiff-copy-');
    expect((await skiff(['outputs', 'ckpt-a', '--copy-to', copy])).code).toBe(0);
    expect(existsSync(join(copy, 'snapshot.pt'))).toBe(true);
    const removed = await skiff(['outputs', 'ckpt-a', '--remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    const refused = await skiff(['outputs', 'ckpt-b', '--remove']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("job 'ckpt-b' still exists");
  });

  it('serves Flask from requirements.txt, then from PEP 723 metadata with the same packages from the cache', async () => {
    const serve = await skiff(['serve', join(REPO, 'examples/flask_app/app.py'), '--name', 'flask-req']);
    expect(serve.code, serve.stderr).toBe(0);
    expect(serve.stderr).toMatch(/packages (resolved|from the cache): .*[Ff]lask 3/);
    const call = await skiff(['call', 'flask-req', '/predict', '--data', '[1, 2]', '-H', 'Content-Type: application/json']);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ predictions: [5, 8], server: 'flask' });

    const pep723 = await skiff(['serve', join(FIXTURES, 'flask_pep723/app.py'), '--name', 'flask-pep723']);
    expect(pep723.code, pep723.stderr).toBe(0);
    expect(pep723.stderr).toContain('packages from the cache');
    const hello = await skiff(['call', 'flask-pep723', '/']);
    expect(JSON.parse(hello.stdout)).toEqual({ hello: 'pep723' });
    await Promise.all(['flask-req', 'flask-pep723'].map((job) => skiff(['cancel', job])));
  });

  it("runs Lightning's multi-node DDP unchanged on two nodes: torch 2 in the image, and torchrun's rank variables", async () => {
    const run = await skiff(['run', join(REPO, 'examples/lightning/train.py'), '--workers', '2', '--name', 'lightning-ddp'], 10 * 60_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toMatch(/packages (resolved|from the cache): .*lightning 2\.6\.6/);
    // Each pod its own rank and node: DDP's sampler gives each 8 of the 16 batches, for 2 epochs.
    expect(run.stdout).toContain('world 2 global rank 0 node 0 steps 16');
    expect(run.stdout).toContain('world 2 global rank 1 node 1 steps 16');
    await skiff(['cancel', 'lightning-ddp']);
  });

  it('trains through torch.compile on CPU: the image has the compiler and headers inductor builds with', async () => {
    const run = await skiff(['run', join(FIXTURES, 'torch_compile/train.py'), '--name', 'compiled'], 5 * 60_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('step 2 loss');
    expect(run.stdout).toMatch(/compiled by inductor on torch 2\.\d+/);
    await skiff(['cancel', 'compiled']);
  });

  it('ships a 5 MB weights file beside a serving script, and a 200 MB code folder', async () => {
    const project = tempDir('skiff-weights-');
    const weights = randomBytes(5 * 1024 * 1024);
    writeFileSync(join(project, 'weights.bin'), weights);
    writeFileSync(
      join(project, 'serve_weights.py'),
      [
        'import hashlib, http.server, os',
        'digest = hashlib.sha256(open("weights.bin", "rb").read()).hexdigest()',
        'class H(http.server.BaseHTTPRequestHandler):',
        '    def do_GET(self):',
        '        self.send_response(200); self.end_headers(); self.wfile.write(digest.encode())',
        'http.server.HTTPServer(("", int(os.environ["PORT"])), H).serve_forever()',
      ].join('\n'),
    );
    const serve = await skiff(['serve', join(project, 'serve_weights.py'), '--name', 'weights']);
    expect(serve.code, serve.stderr).toBe(0);
    const call = await skiff(['call', 'weights', '/']);
    expect(call.stdout.trim()).toBe(createHash('sha256').update(weights).digest('hex'));
    await skiff(['cancel', 'weights']);

    const big = tempDir('skiff-big-');
    mkdirSync(join(big, 'data'));
    for (let i = 0; i < 50; i++) writeFileSync(join(big, 'data', `shard-${i}.bin`), randomBytes(4 * 1024 * 1024));
    writeFileSync(
      join(big, 'count.py'),
      'import os\nprint("bytes", sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs if f.endswith(".bin")), flush=True)\n',
    );
    const run = await skiff(['run', join(big, 'count.py'), '--name', 'big-folder']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`bytes ${200 * 1024 * 1024}`);
    await skiff(['cancel', 'big-folder']);
    await skiff(['outputs', 'big-folder', '--remove']);
  });

  it('mounts a --data folder read-only into both ranks, without copying it', async () => {
    const data = tempDir('skiff-data-', homedir());
    writeFileSync(join(data, 'labels.csv'), 'cat,dog\n');
    const project = tempDir('skiff-reader-');
    writeFileSync(
      join(project, 'read.py'),
      [
        'import os',
        "print(f\"rank {os.environ['RANK']} read {open('inputs/labels.csv').read().strip()}\", flush=True)",
        'try:',
        '    open("inputs/new.txt", "w")',
        'except OSError as err:',
        '    print(f"rank {os.environ[\'RANK\']} cannot write: {err.strerror}", flush=True)',
      ].join('\n'),
    );
    const run = await skiff(['run', join(project, 'read.py'), '--workers', '2', '--name', 'data-read', '--data', `${data}:inputs`]);
    expect(run.code, run.stderr).toBe(0);
    for (const rank of [0, 1]) {
      expect(run.stdout).toContain(`rank ${rank} read cat,dog`);
      expect(run.stdout).toContain(`rank ${rank} cannot write: Read-only file system`);
    }
    expect(readdirSync(data)).toEqual(['labels.csv']);
    await skiff(['cancel', 'data-read']);
  });

  it('refuses bad packages and folders at submit, before any pod starts, leaving nothing behind', async () => {
    const before = (await skiffJson<{ job: string }[]>(['outputs'])).map((j) => j.job);
    const missing = await skiff(['run', CHECKPOINT, '--name', 'bad-pkg', '--pip', 'skiff-no-such-package-4242']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("package 'skiff-no-such-package-4242' was not found on the package index");

    const malformed = await skiff(['run', join(FIXTURES, 'bad_requirements/train.py'), '--name', 'bad-req']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("requirements.txt line 2: 'flask==' is not a valid requirement");

    const nowhere = await skiff(['run', CHECKPOINT, '--name', 'bad-data', '--data', '/nonexistent/skiff-data']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('--data folder not found: /nonexistent/skiff-data');

    for (const job of ['bad-pkg', 'bad-req', 'bad-data']) {
      const described = await skiff(['describe', job]);
      expect(described.code, `${job} must not exist`).toBe(2);
    }
    expect((await skiffJson<{ job: string }[]>(['outputs'])).map((j) => j.job)).toEqual(before);
    expect(readFileSync(join(FIXTURES, 'bad_requirements/requirements.txt'), 'utf8')).toBe('numpy\nflask==\n');
  });

  // A full disk, for real: one job's run folders sit on a 16 MiB ext4 file system, mounted on the
  // host and, being the same loop device, at the same path in every node (one kernel, so one file
  // system seen from both), as if the user's disk had filled. Mounting needs root, as CI runs.
  it.skipIf(process.getuid?.() !== 0)('a job whose working directory fills, and a submit onto a full disk, each fail plainly with nothing half-made', async () => {
    const job = 'fills-disk';
    const hostDir = jobRunsDir(dataDir(), CLUSTER, DEFAULT_NAMESPACE, job);
    const nodeDir = `${NODE_DATA_DIR}/${hostDir.slice(dataDir().length + 1)}`;
    const nodes = execFileSync('docker', ['ps', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const image = join(tempDir('skiff-disk-'), 'disk.img');
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]); // no blocks reserved for root: full means full
    const loop = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const minor = loop.replace('/dev/loop', '');
    mkdirSync(hostDir, { recursive: true });
    const mounted: string[] = [];
    try {
      execFileSync('mount', [loop, hostDir]);
      mounted.push('host');
      for (const node of nodes) {
        execFileSync('docker', ['exec', node, 'sh', '-c', `[ -b ${loop} ] || mknod ${loop} b 7 ${minor}; mkdir -p ${nodeDir} && mount ${loop} ${nodeDir}`]);
        mounted.push(node);
      }
      const project = tempDir('skiff-fills-');
      writeFileSync(
        join(project, 'train.py'),
        [
          'import os',
          'print("saving snapshot.pt", flush=True)',
          'with open("snapshot.pt", "wb") as f:',
          '    for _ in range(64):',
          '        f.write(os.urandom(1 << 20))',
          'print("saved", flush=True)',
        ].join('\n'),
      );
      writeFileSync(join(project, 'weights.bin'), randomBytes(2 << 20));
      const filled = await skiff(['run', join(project, 'train.py'), '--name', job]);
      expect(filled.code, filled.stderr).toBe(1);
      expect(filled.stdout).toContain('saving snapshot.pt');
      expect(filled.stdout).not.toMatch(/^saved$/m);
      expect(filled.stderr).toContain('the disk holding its working directory is full');
      expect(filled.stderr).toContain('No space left on device');
      // What the job wrote before the disk filled is kept, as the user's results always are.
      const runs = readdirSync(hostDir).filter((n) => n.endsWith('.json'));
      expect(runs).toHaveLength(1);
      expect((await skiff(['cancel', job])).code).toBe(0);

      // The disk is now full: the next submit cannot copy the code folder (its 2 MiB weights) in.
      const refused = await skiff(['run', join(project, 'train.py'), '--name', job]);
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stderr).toContain(`the disk holding ${hostDir}/`);
      expect(refused.stderr).toContain('is full');
      expect(refused.stderr).toContain('skiff outputs JOB --remove');
      expect(readdirSync(hostDir).filter((n) => n.endsWith('.json'))).toEqual(runs);
      expect(readdirSync(hostDir).filter((n) => n !== 'lost+found')).toHaveLength(3); // the first run, its record and its kept logs only
      expect((await skiff(['describe', job])).code, 'no job was created').toBe(2);
    } finally {
      await skiff(['cancel', job]);
      for (const node of mounted.filter((m) => m !== 'host').reverse()) execFileSync('docker', ['exec', node, 'umount', nodeDir]);
      if (mounted.includes('host')) execFileSync('umount', [hostDir]);
      execFileSync('losetup', ['--detach', loop]);
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it("with MLflow added to the running cluster, an unchanged script's mlflow.log_metric, log_artifact and skiff.log land in the job's experiment; without it, `skiff ui mlflow` names the flag", async () => {
    const absent = await skiff(['ui', 'mlflow']);
    expect(absent.code).toBe(3);
    expect(absent.stderr).toContain(`MLflow is not installed on cluster '${CLUSTER}'`);
    expect(absent.stderr).toContain(`skiff up --cluster ${CLUSTER} --with mlflow`);

    const added = await skiff(['up', '--with', 'mlflow'], 15 * 60_000);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('with mlflow');

    const run = await skiff(['run', 'test/cluster/fixtures/projects/mlflow_tracking/train.py', '--name', 'e2e-mlflow']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('logged to http://mlflow.skiff-addons.svc.cluster.local:5000');

    type Described = Status & { mlflow?: { experiment: string; runs: { runId: string; status: string; metrics: Record<string, number>; url: string }[] } };
    const described = await skiffJson<Described>(['describe', 'e2e-mlflow']);
    expect(described.mlflow?.experiment).toBe('e2e-mlflow');
    expect(described.mlflow?.runs).toHaveLength(1);
    const [mlrun] = described.mlflow!.runs;
    expect(mlrun.status).toBe('FINISHED');
    expect(mlrun.metrics).toEqual({ loss: 1 / 3, accuracy: 0.75 });
    expect((await skiff(['describe', 'e2e-mlflow'])).stdout).toContain(`MLflow:    experiment 'e2e-mlflow'`);
    // The artifact is in the job's runs folder on this machine, beside its run folders.
    expect(readFileSync(join(described.workDir!, '..', 'mlflow', mlrun.runId, 'artifacts', 'model.txt'), 'utf8')).toBe('weights\n');

    // MLflow's own REST API, through `skiff ui mlflow` on a local port: every step of the loss.
    const ui = spawnSkiff(['ui', 'mlflow', '--port', '15999']);
    try {
      const [url] = (await once(ui.stdout, 'data')) as [Buffer];
      expect(url.toString().trim()).toBe('http://127.0.0.1:15999');
      const history = (await (await fetch(`http://127.0.0.1:15999/api/2.0/mlflow/metrics/get-history?run_id=${mlrun.runId}&metric_key=loss`)).json()) as {
        metrics: { step: number; value: number }[];
      };
      expect(history.metrics.map((m) => [m.step, m.value])).toEqual([
        [0, 1],
        [1, 0.5],
        [2, 1 / 3],
      ]);
      expect(mlrun.url).toBe(
        `http://127.0.0.1:5000/#/experiments/${(await (await fetch(`http://127.0.0.1:15999/api/2.0/mlflow/experiments/get-by-name?experiment_name=e2e-mlflow`)).json()).experiment.experiment_id}/runs/${mlrun.runId}`,
      );
    } finally {
      ui.kill('SIGINT');
    }
  });

  it("with Prometheus added to the running cluster, both ranks' logged loss and usage are scraped with job and rank labels, and `skiff metrics` reads their history after the pods are gone; without it, a reading with no pods names the flag", async () => {
    const script = join(FIXTURES, 'prometheus_metrics/train.py');
    const before = await skiff(['run', script, '--name', 'e2e-noprom', '--', '1']);
    expect(before.code, before.stderr).toBe(0);
    expect((await skiff(['metrics', 'e2e-noprom'])).stdout).toContain(
      `no running pods; their usage is kept once they end with \`skiff up --cluster ${CLUSTER} --with prometheus\``,
    );

    const added = await skiff(['up', '--with', 'prometheus'], 15 * 60_000);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('with prometheus');
    const run = await skiff(['run', script, '--workers', '2', '--name', 'e2e-prom', '--', '12']);
    expect(run.code, run.stderr).toBe(0);

    // Prometheus' own API, through the API server's service proxy: the last loss of each rank, labelled.
    const kc = new KubeConfig();
    kc.loadFromDefault();
    kc.setCurrentContext(`kind-${CLUSTER}`);
    // A range selector answers `values`, an instant one `value`.
    type Series = { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] };
    const promQuery = async (promql: string): Promise<Series[]> => {
      const path = `/api/v1/namespaces/skiff-addons/services/http:prometheus:9090/proxy/api/v1/query?query=${encodeURIComponent(promql)}`;
      const answer = await kubeRequest(kc, { method: 'GET', path });
      return (JSON.parse(answer.body.toString('utf8')) as { data: { result: Series[] } }).data.result;
    };
    // This run's pods only: the store is in the data folder and outlives the cluster, with earlier runs' series.
    const pods = (await skiffJson<{ pods: { name: string }[] }>(['describe', 'e2e-prom'])).pods.map((p) => p.name);
    expect(pods).toHaveLength(2);
    const series = await promQuery(`skiff_loss{skiff_job="e2e-prom",pod=~"${pods.join('|')}"}[10m]`);
    expect(series.map((s) => [s.metric.rank, s.metric.namespace, s.values?.at(-1)?.[1]]).sort()).toEqual([
      ['0', DEFAULT_NAMESPACE, '0.0833'],
      ['1', DEFAULT_NAMESPACE, '1.0833'],
    ]);
    // A 12-second run is read several times, not only at its end.
    expect(Math.min(...series.map((s) => s.values?.length ?? 0))).toBeGreaterThan(2);

    // After the pods are gone, `skiff metrics` starts with their usage from Prometheus: both ranks, busy, memory growing.
    const samples = (await skiffJsonLines<MetricsSample>(['metrics', 'e2e-prom', '-o', 'json'])).filter((s) => s.type === 'usage' && s.pods.length > 0);
    const ranks = (rank: number) => samples.flatMap((s) => (s.type === 'usage' ? s.pods.filter((p) => p.rank === rank) : []));
    for (const rank of [0, 1]) {
      const readings = ranks(rank);
      expect(readings.length, `rank ${rank}`).toBeGreaterThan(2);
      expect(Math.max(...readings.map((p) => p.cpuCores))).toBeGreaterThan(0.3);
      expect(Math.max(...readings.map((p) => p.memoryBytes))).toBeGreaterThan(Math.min(...readings.map((p) => p.memoryBytes)) + 10_000_000);
    }

    // A notebook session's ranks are read too: what a cell logs reaches Prometheus while the session lives.
    const started = await skiff(['session', 'start', script, '--workers', '2', '--name', 'e2e-prom-nb']);
    expect(started.code, started.stderr).toBe(0);
    try {
      const cell = await skiff(['session', 'run', 'e2e-prom-nb', '-c', 'import skiff; skiff.log(step=1, loss=0.5 + skiff.rank())']);
      expect(cell.code, cell.stderr).toBe(0);
      let scraped: Series[] = [];
      for (let i = 0; i < 30 && scraped.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        scraped = await promQuery('skiff_loss{skiff_job="e2e-prom-nb"}');
      }
      expect(scraped.map((s) => [s.metric.rank, s.value?.[1]]).sort()).toEqual([
        ['0', '0.5'],
        ['1', '1.5'],
      ]);
    } finally {
      await skiff(['session', 'stop', 'e2e-prom-nb']);
    }
  });
});
