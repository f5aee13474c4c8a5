// Promotion against real parts: a second kind cluster stands in for the cloud and Debian's
// docker-registry (test/infra/ensure-registry.sh) for its registry. A training job and a serving
// job move from the local cluster to it after a dry-run diff; an unreachable context, a registry
// that is not there and RBAC that forbids the apply each fail clearly and leave the local job as it was.
// The cloud also runs Kubeflow's training operator and KServe (test/infra/ensure-operators.sh, both
// real, built from the Go module proxy): with them, the same jobs go as a PyTorchJob and an InferenceService.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, skiffAt } from './skiff-cli.js';
import { REGISTRY, mirrorRegistryIntoNodes } from '../infra/registry.js';

const LOCAL = process.env.SKIFF_PROMO_LOCAL ?? 'skiff-promo';
const CLOUD = process.env.SKIFF_PROMO_CLOUD ?? 'skiff-cloud';
const CLOUD_CONTEXT = `kind-${CLOUD}`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-promote-'));
const targets = path.join(dir, 'targets.yaml');
const extraKubeconfig = path.join(dir, 'extra-kubeconfig.yaml');
// The user's kubeconfig (kind writes both clusters there) plus two contexts that must fail.
const env = { ...process.env, KUBECONFIG: [path.join(os.homedir(), '.kube', 'config'), extraKubeconfig].join(path.delimiter) };

const local = (args: string[], timeoutMs?: number) => skiffAt(LOCAL, args, timeoutMs, env);
const cloudIn = (namespace: string) => (args: string[], timeoutMs?: number) => skiffAt(CLOUD, ['--context', CLOUD_CONTEXT, '-n', namespace, ...args], timeoutMs, env);
const cloud = cloudIn('prod');
/** Where the profile that lets Skiff use the target's operators puts jobs. */
const withOperators = cloudIn('ml');
const promote = (job: string, args: string[]) => local(['promote', job, '--targets', targets, ...args], 15 * 60_000);

/** A context that reaches nothing, and one whose service account may do nothing. */
async function writeFailingContexts(): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  kc.setCurrentContext(CLOUD_CONTEXT);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'skiff-no-rights' } } }).catch(() => undefined);
  const token = await core.createNamespacedServiceAccountToken({ name: 'skiff-no-rights', namespace: 'default', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const server = kc.getCurrentCluster()!;
  writeFileSync(
    extraKubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'nowhere', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } },
        { name: 'cloud-no-rights', cluster: { server: server.server, 'certificate-authority-data': server.caData } },
      ],
      users: [
        { name: 'nobody', user: { token: 'not-a-token' } },
        { name: 'no-rights', user: { token: token.status!.token } },
      ],
      contexts: [
        { name: 'nowhere', context: { cluster: 'nowhere', user: 'nobody' } },
        { name: 'no-rights', context: { cluster: 'cloud-no-rights', user: 'no-rights' } },
      ],
    }),
  );
}

const ENV_SECRET = 'promo-secret-value-3141';

describe('promotion from the local cluster to another context', () => {
  beforeAll(async () => {
    writeFileSync(extraKubeconfig, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }));
    const ups = await Promise.all([local(['up', '--workers', '1'], 25 * 60_000), skiffAt(CLOUD, ['up', '--workers', '1'], 25 * 60_000, env)]);
    for (const up of ups) if (up.code !== 0) throw new Error(`skiff up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    mirrorRegistryIntoNodes(CLOUD);
    await writeFailingContexts();
    // The default profile keeps to plain Jobs and Deployments though the target runs operators.
    const profile = { registry: REGISTRY, namespace: 'prod', form: 'kubernetes' };
    writeFileSync(
      targets,
      stringify({
        [CLOUD_CONTEXT]: profile,
        operators: { registry: REGISTRY, namespace: 'ml' },
        'no-registry': { ...profile, registry: 'localhost:5999', namespace: 'void' },
        queued: { ...profile, queue: 'team-gpus' },
        nowhere: profile,
        'no-rights': profile,
      }),
    );
    const [run] = await Promise.all([
      // A credential in --env, as users pass one (W&B, Hugging Face): it must reach the target's pods, never its diff.
      local(['run', 'examples/train_ddp.py', '--workers', '2', '--name', 'promo-train', '--env', `WANDB_API_KEY=${ENV_SECRET}`]),
      promisify(execFile)('bash', [path.join(REPO, 'test/infra/ensure-operators.sh'), CLOUD], { env, maxBuffer: 64 << 20 }),
    ]);
    if (run.code !== 0) throw new Error(`the local training job failed (${run.code}):\n${run.stderr}`);
  });
  afterAll(async () => {
    if (process.env.SKIFF_E2E_KEEP) return;
    // One after the other: both rewrite the kubeconfig, and two at once can leave a context behind.
    await local(['down']);
    await skiffAt(CLOUD, ['down'], undefined, env);
    // The promoted images share their layers with the job image; drop the tags the tests made.
    const tags = execFileSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' }).split('\n');
    const promoted = tags.filter((t) => /^localhost:(5000|5999)\/skiff-promo-/.test(t));
    if (promoted.length) execFileSync('docker', ['rmi', ...promoted], { stdio: 'ignore' });
  });

  it("shows the plan as a diff from the target's dry run and applies nothing without a yes", async () => {
    const plan = await promote('promo-train', ['--to', CLOUD_CONTEXT, '--dry-run', '-o', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    const parsed = JSON.parse(plan.stdout) as { image: string; changes: { kind: string; action: string }[]; diff: string };
    expect(parsed.image).toMatch(new RegExp(`^${REGISTRY}/skiff-promo-train:[0-9a-f]{12}$`));
    expect(parsed.changes.map((c) => `${c.kind}:${c.action}`)).toEqual(['Namespace:create', 'Secret:create', 'Service:create', 'Job:create']);
    expect(parsed.diff).toMatch(/\+\s+WANDB_API_KEY: \(hidden, sha256 [0-9a-f]{12}\)/);
    for (const leak of [ENV_SECRET, Buffer.from(ENV_SECRET).toString('base64')]) expect(plan.stdout).not.toContain(leak);
    expect(parsed.diff).toMatch(new RegExp(`\\+\\s+image: ${parsed.image.replace(/[.]/g, '\\.')}`));
    expect(parsed.diff).not.toContain('promo-train-code'); // the code travels in the image
    // Without --yes and without a terminal to ask, nothing is applied.
    const refused = await promote('promo-train', ['--to', CLOUD_CONTEXT]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`not applying to context '${CLOUD_CONTEXT}' without a confirmation`);
    expect((await cloud(['jobs', '-o', 'json'])).stdout.trim()).toBe('[]');
  });

  it('builds and pushes the image, applies, and the job trains on the target as it did locally', async () => {
    const applied = await promote('promo-train', ['--to', CLOUD_CONTEXT, '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(`pushing ${REGISTRY}/skiff-promo-train:`);
    expect(applied.stderr).toContain(`promoted promo-train to '${CLOUD_CONTEXT}'`);
    const logs = await cloud(['logs', 'promo-train', '-f'], 10 * 60_000);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('rank 0/2 finished');
    expect(logs.stdout).toContain('rank 1/2 finished');
    const described = JSON.parse((await cloud(['describe', 'promo-train', '-o', 'json'])).stdout) as { phase: string; spec: { image: string } };
    expect(described.phase).toBe('Succeeded');
    expect(described.spec.image).toContain(`${REGISTRY}/skiff-promo-train:`);
    // Promoting again changes nothing.
    const again = JSON.parse((await promote('promo-train', ['--to', CLOUD_CONTEXT, '--dry-run', '-o', 'json'])).stdout) as { changes: { action: string }[] };
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('promotes a serving job that answers a real request on the target', async () => {
    const serve = await local(['serve', 'examples/serve.py', '--port', '8000', '--name', 'promo-serve']);
    expect(serve.code, serve.stderr).toBe(0);
    const applied = await promote('promo-serve', ['--to', CLOUD_CONTEXT, '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    let answer = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 60 && answer.code !== 0; i++) {
      answer = await cloud(['call', 'promo-serve', '/', '--data', '[1, 2]']);
      if (answer.code !== 0) await new Promise((r) => setTimeout(r, 5000));
    }
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ predictions: [5, 8] });
  });

  it('bakes the packages a local job used (Flask from its requirements.txt) into the image it pushes', async () => {
    const serve = await local(['serve', 'examples/flask_app/app.py', '--name', 'promo-flask']);
    expect(serve.code, serve.stderr).toBe(0);
    const applied = await promote('promo-flask', ['--to', CLOUD_CONTEXT, '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    let answer = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 60 && answer.code !== 0; i++) {
      answer = await cloud(['call', 'promo-flask', '/predict', '--data', '[1]', '-H', 'Content-Type: application/json']);
      if (answer.code !== 0) await new Promise((r) => setTimeout(r, 5000));
    }
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ predictions: [5], server: 'flask' });
    await Promise.all([local(['cancel', 'promo-flask']), cloud(['cancel', 'promo-flask', '--yes'])]);
  });

  it('fails clearly for an unreachable context, a missing registry and RBAC that forbids it, leaving the local job as it was', async () => {
    const unreachable = await promote('promo-train', ['--to', 'nowhere', '--yes']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach context 'nowhere'/);

    const noRegistry = await promote('promo-train', ['--to', CLOUD_CONTEXT, '--profile', 'no-registry', '--yes']);
    expect(noRegistry.code).toBe(3);
    expect(noRegistry.stderr).toMatch(/pushing localhost:5999\/skiff-promo-train:[0-9a-f]+ to localhost:5999 failed/);
    expect(noRegistry.stderr).toContain('is the registry localhost:5999 running');
    expect((await skiffAt(CLOUD, ['--context', CLOUD_CONTEXT, '-n', 'void', 'jobs', '-o', 'json'], undefined, env)).stdout.trim()).toBe('[]');

    // A queue the target does not serve would hold the job suspended for ever: refused at the plan.
    const unqueued = await promote('promo-train', ['--to', CLOUD_CONTEXT, '--profile', 'queued', '--dry-run']);
    expect(unqueued.code).toBe(2);
    expect(unqueued.stderr).toContain(`the target profile sends training jobs through queue 'team-gpus', but context '${CLOUD_CONTEXT}' has no Kueue (kueue.x-k8s.io)`);
    expect(unqueued.stderr).toContain('remove `queue:` from the target profile');

    const forbidden = await promote('promo-train', ['--to', 'no-rights', '--yes']);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/context 'no-rights' is not allowed the .*forbidden/i);

    const localJob = JSON.parse((await local(['describe', 'promo-train', '-o', 'json'])).stdout) as { phase: string; spec: { image: string } };
    expect(localJob.phase).toBe('Succeeded');
    expect(localJob.spec.image).toBe('skiff.local/job-python:trixie-2');
  });

  it("goes as Kubeflow Trainer's PyTorchJob where the target runs the training operator, and trains there", async () => {
    const plan = JSON.parse((await promote('promo-train', ['--to', CLOUD_CONTEXT, '--profile', 'operators', '--dry-run', '-o', 'json'])).stdout) as {
      form: string;
      changes: { kind: string; action: string }[];
      diff: string;
    };
    expect(plan.form).toBe('kubeflow');
    expect(plan.changes.map((c) => `${c.kind}:${c.action}`)).toEqual(['Namespace:create', 'Secret:create', 'PyTorchJob:create']);
    expect(plan.diff).toContain('+kind: PyTorchJob');
    const applied = await promote('promo-train', ['--to', CLOUD_CONTEXT, '--profile', 'operators', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain('applying PyTorchJob promo-train');
    const logs = await withOperators(['logs', 'promo-train', '-f'], 10 * 60_000);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^\[rank 0\] rank 0\/2 finished/m);
    expect(logs.stdout).toMatch(/^\[rank 1\] rank 1\/2 finished/m);
    const described = JSON.parse((await withOperators(['describe', 'promo-train', '-o', 'json'])).stdout) as {
      phase: string;
      workload: string;
      pods: { name: string; rank: number }[];
    };
    expect(described).toMatchObject({ phase: 'Succeeded', workload: 'PyTorchJob' });
    expect(described.pods.map((p) => [p.name, p.rank])).toEqual([
      ['promo-train-master-0', 0],
      ['promo-train-worker-0', 1],
    ]);
    const again = JSON.parse((await promote('promo-train', ['--to', CLOUD_CONTEXT, '--profile', 'operators', '--dry-run', '-o', 'json'])).stdout) as {
      changes: { action: string }[];
    };
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('goes as a KServe InferenceService where the target runs KServe, answers there, and cancels as one job', async () => {
    const applied = await promote('promo-serve', ['--to', CLOUD_CONTEXT, '--profile', 'operators', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain('applying InferenceService promo-serve');
    const answer = await withOperators(['call', 'promo-serve', '/', '--data', '[1, 2]']);
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ predictions: [5, 8] });
    // KServe's own Deployment carries Skiff's labels too; the job list shows the InferenceService once.
    const jobs = JSON.parse((await withOperators(['jobs', '-o', 'json'])).stdout) as { name: string; workload: string; phase: string }[];
    expect(jobs.filter((j) => j.name.startsWith('promo-serve'))).toEqual([expect.objectContaining({ name: 'promo-serve', workload: 'InferenceService', phase: 'Running' })]);
    expect((await withOperators(['cancel', 'promo-serve', '--yes'])).code).toBe(0);
    const after = JSON.parse((await withOperators(['jobs', '-o', 'json'])).stdout) as { name: string }[];
    expect(after.map((j) => j.name)).not.toContain('promo-serve');
  });
});
