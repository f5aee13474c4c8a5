// Submission against a stand-in API server: which requests go out, in which order, with which
// server-side-apply parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replyJson, serveStandInApi, type StandInApi } from '../testing/stand-in-api.js';
import { KubeConfig, type V1Job, type V1Node } from '@kubernetes/client-node';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { collectCodeFiles, pythonLibFiles } from '../manifests/collect.js';
import { trainingManifests } from '../manifests/training.js';
import { servingManifests } from '../manifests/serving.js';
import { allocatableGpus, CODE_HASH_ANNOTATION, ENV_VERSION_ANNOTATION, gpuShareProblem, stampCodeHash, submitJob, submitJobFiles } from './submit.js';

const RESOURCES: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'secrets', kind: 'Secret', namespaced: true },
  ],
  '/apis/batch/v1': [{ name: 'jobs', kind: 'Job', namespaced: true }],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
};

interface Applied {
  path: string;
  query: string;
  contentType: string;
  body: { kind: string; metadata: { name: string } };
}

class FakeApi {
  readonly applied: Applied[] = [];
  readonly requests: string[] = [];
  gpus = 0;
  existingJob = false;
  /** The labels of the Job already there (Skiff's own unless a test says otherwise). */
  existingLabels: Record<string, string> = { 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train' };
  /** The labels of a `train-env` Secret already there; none when absent. */
  existingSecretLabels?: Record<string, string>;
  private server?: StandInApi;

  async start(): Promise<KubeConfig> {
    this.server = await serveStandInApi((req, res) => void this.handle(req, res), { context: 'kind-skiff' });
    return this.server.kc;
  }

  stop(): Promise<void> {
    return this.server?.stop() ?? Promise.resolve();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    this.requests.push(`${req.method} ${p}`);
    let body = '';
    for await (const chunk of req) body += chunk;
    const json = (body: unknown, status = 200) => replyJson(res, body, status);
    const notFound = () => json({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }, 404);
    if (RESOURCES[p]) return json({ kind: 'APIResourceList', groupVersion: p.replace(/^\/apis?\//, ''), resources: RESOURCES[p] });
    if (req.method === 'PATCH') {
      this.applied.push({ path: p, query: url.search, contentType: String(req.headers['content-type']), body: JSON.parse(body) });
      const stored = JSON.parse(body) as { metadata: Record<string, unknown> };
      if (p.includes('/secrets/')) stored.metadata.resourceVersion = '42';
      return json(stored);
    }
    if (p === '/api/v1/namespaces/skiff/secrets/train-env' && this.existingSecretLabels) {
      if (req.method === 'DELETE') {
        this.existingSecretLabels = undefined;
        return json({ kind: 'Status', status: 'Success' });
      }
      return json({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'train-env', namespace: 'skiff', uid: 'secret-uid', labels: this.existingSecretLabels } });
    }
    if (req.method === 'DELETE') {
      if (p.endsWith('/jobs/train') && this.existingJob) {
        this.existingJob = false;
        return json({ kind: 'Status', status: 'Success' });
      }
      return notFound();
    }
    if (req.method === 'GET' && p === '/apis/batch/v1/namespaces/skiff/jobs/train' && this.existingJob) {
      return json({ kind: 'Job', apiVersion: 'batch/v1', metadata: { name: 'train', namespace: 'skiff', uid: 'old-uid', labels: this.existingLabels } });
    }
    if (p === '/api/v1/nodes') {
      const node: V1Node = { metadata: { name: 'w1' }, status: { allocatable: this.gpus ? { 'nvidia.com/gpu': String(this.gpus) } : {} } };
      return json({ kind: 'NodeList', apiVersion: 'v1', items: [node] });
    }
    if (p.endsWith('/jobs') || p.endsWith('/deployments') || p.endsWith('/pods')) {
      const items = this.applied.filter((a) => p.endsWith(`/${a.body.kind.toLowerCase()}s`)).map((a) => a.body);
      return json({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });
    }
    return notFound();
  }
}

let api: FakeApi | undefined;
let dir: string | undefined;
afterEach(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  api = undefined;
  dir = undefined;
});

describe('submitJob', () => {
  it('applies namespace, ConfigMaps, Service and Job in that order with server-side apply', async () => {
    api = new FakeApi();
    const kc = await api.start();
    dir = await mkdtemp(path.join(tmpdir(), 'skiff-submit-'));
    await writeFile(path.join(dir, 'train.py'), 'print("hi")\n');
    await writeFile(path.join(dir, 'model.py'), 'X = 1\n');
    const spec = parseTrainingSpec({ name: 'train', script: 'train.py', workers: 2, gpusPerWorker: 1, resources: { cpu: '1', memory: '1Gi' } });
    api.gpus = 2;
    const status = await submitJob(kc, spec, dir);

    expect(api.applied.map((a) => `${a.body.kind}/${a.body.metadata.name}`)).toEqual([
      'Namespace/skiff',
      'ConfigMap/train-code',
      'ConfigMap/train-lib',
      'Service/train',
      'Job/train',
    ]);
    for (const a of api.applied) {
      expect(a.contentType).toBe('application/apply-patch+yaml');
      expect(a.query).toContain('fieldManager=skiff');
      expect(a.query).toContain('force=true');
    }
    expect(api.applied[1].path).toBe('/api/v1/namespaces/skiff/configmaps/train-code');
    // client-node serializes through its models; nothing of the rendered manifests may get lost.
    const files = await collectCodeFiles(dir, 'train.py');
    const libFiles = await pythonLibFiles();
    const rendered = trainingManifests(spec, files, libFiles);
    stampCodeHash(rendered.job, [...files, ...libFiles]);
    expect(rendered.job.spec?.template.metadata?.annotations?.[CODE_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    const sent = (kind: string) => api!.applied.filter((a) => a.body.kind === kind).map((a) => a.body);
    expect(sent('Job')).toEqual([JSON.parse(JSON.stringify(rendered.job))]);
    expect(sent('Service')).toEqual([JSON.parse(JSON.stringify(rendered.service))]);
    expect(sent('ConfigMap')).toEqual(JSON.parse(JSON.stringify(rendered.configMaps)));
    expect(status).toMatchObject({ name: 'train', kind: 'training', workers: 2, script: 'train.py', phase: 'Pending' });
  });

  it('replaces a previous Job with the same name by deleting it first', async () => {
    api = new FakeApi();
    api.existingJob = true;
    const kc = await api.start();
    await submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'a.py' }), [{ path: 'a.py', content: Buffer.from('pass\n') }]);
    const deleteAt = api.requests.indexOf('DELETE /apis/batch/v1/namespaces/skiff/jobs/train');
    const applyJobAt = api.requests.indexOf('PATCH /apis/batch/v1/namespaces/skiff/jobs/train');
    expect(deleteAt).toBeGreaterThanOrEqual(0);
    expect(applyJobAt).toBeGreaterThan(deleteAt);
  });

  it('never replaces a same-named Job that Skiff did not make', async () => {
    api = new FakeApi();
    api.existingJob = true;
    api.existingLabels = { app: 'theirs' };
    const kc = await api.start();
    await expect(submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'a.py' }), [{ path: 'a.py', content: Buffer.from('pass\n') }])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: "a Job named 'train' already exists in namespace 'skiff' and Skiff did not make it",
    });
    expect(api.requests.filter((r) => r.startsWith('DELETE') || r.includes('PATCH /apis/batch'))).toEqual([]);
  });

  it('puts --env values in a Secret applied before the Job, whose pods name them and roll with its version', async () => {
    api = new FakeApi();
    const kc = await api.start();
    const spec = parseTrainingSpec({ name: 'train', script: 'a.py', env: { API_TOKEN: 's3cr3t-value' } });
    await submitJobFiles(kc, spec, [{ path: 'a.py', content: Buffer.from('pass\n') }]);
    const order = api.applied.map((a) => `${a.body.kind}/${a.body.metadata.name}`);
    expect(order.indexOf('Secret/train-env')).toBeGreaterThan(0);
    expect(order.indexOf('Job/train')).toBeGreaterThan(order.indexOf('Secret/train-env'));
    const secret = api.applied.find((a) => a.body.kind === 'Secret')!.body as unknown as { data: Record<string, string> };
    expect(Buffer.from(secret.data.API_TOKEN, 'base64').toString()).toBe('s3cr3t-value');
    const job = api.applied.find((a) => a.body.kind === 'Job')!.body as unknown as V1Job;
    expect(JSON.stringify(job)).not.toContain('s3cr3t-value');
    expect(job.spec?.template.metadata?.annotations?.[ENV_VERSION_ANNOTATION]).toBe('42');
  });

  it('drops the --env Secret of an earlier submit, and never takes over a Secret Skiff did not make', async () => {
    api = new FakeApi();
    api.existingSecretLabels = { 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train' };
    const kc = await api.start();
    const code = [{ path: 'a.py', content: Buffer.from('pass\n') }];
    await submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'a.py' }), code);
    expect(api.requests).toContain('DELETE /api/v1/namespaces/skiff/secrets/train-env');
    expect(api.existingSecretLabels).toBeUndefined();

    api.existingSecretLabels = { app: 'theirs' };
    await expect(submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'a.py', env: { A: '1' } }), code)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: "a Secret named 'train-env' already exists in namespace 'skiff' and Skiff did not make it",
    });
    // Without --env a foreign Secret is not Skiff's to drop either.
    await submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'a.py' }), code);
    expect(api.existingSecretLabels).toEqual({ app: 'theirs' });
  });

  it('refuses GPU jobs on a cluster without GPUs before changing anything', async () => {
    api = new FakeApi();
    const kc = await api.start();
    const spec = parseServingSpec({ name: 'web', script: 's.py', gpusPerWorker: 1 });
    const err = await submitJobFiles(kc, spec, [{ path: 's.py', content: Buffer.from('') }]).catch((e) => e);
    expect(err).toMatchObject({ code: 'NO_GPU', message: "this job asks for 1 GPU per worker but context 'kind-skiff' has no GPUs" });
    expect(err.hint).toContain('skiff up --profile fake-gpu');
    expect(api.applied).toEqual([]);
  });

  it("warns, and still submits, a multi-worker script that sets MASTER_ADDR to localhost (PyTorch's DDP tutorial)", async () => {
    api = new FakeApi();
    const kc = await api.start();
    dir = await mkdtemp(path.join(tmpdir(), 'skiff-submit-'));
    await writeFile(path.join(dir, 'ddp.py'), "import os\nos.environ['MASTER_ADDR'] = 'localhost'\n");
    const said: string[] = [];
    await submitJob(kc, parseTrainingSpec({ name: 'train', script: 'ddp.py', workers: 2 }), dir, { onProgress: (line) => said.push(line) });
    expect(said).toEqual([expect.stringContaining("warning: ddp.py points its rendezvous at its own pod, line 2 (os.environ['MASTER_ADDR'] = 'localhost')")]);
    expect(api.applied.map((a) => a.body.kind)).toContain('Job');
    said.length = 0;
    await submitJob(kc, parseTrainingSpec({ name: 'train', script: 'ddp.py', workers: 1 }), dir, { onProgress: (line) => said.push(line) });
    expect(said).toEqual([]);
  });

  it('says SCRIPT_NOT_FOUND for a missing script', async () => {
    api = new FakeApi();
    const kc = await api.start();
    dir = await mkdtemp(path.join(tmpdir(), 'skiff-submit-'));
    await expect(submitJob(kc, parseTrainingSpec({ name: 'train', script: 'missing.py' }), dir)).rejects.toMatchObject({ code: 'SCRIPT_NOT_FOUND' });
    await expect(submitJobFiles(kc, parseTrainingSpec({ name: 'train', script: 'cell.py' }), [{ path: 'other.py', content: Buffer.from('') }])).rejects.toMatchObject({
      code: 'SCRIPT_NOT_FOUND',
    });
  });
});

describe('stampCodeHash', () => {
  it('changes with the code, not with the order of the files', () => {
    const spec = parseServingSpec({ name: 'web', script: 'a.py' });
    const hashOf = (files: { path: string; content: Buffer }[]) => {
      const { deployment } = servingManifests(spec, files, []);
      stampCodeHash(deployment, files);
      return deployment.spec?.template.metadata?.annotations?.[CODE_HASH_ANNOTATION];
    };
    const a = { path: 'a.py', content: Buffer.from('v1') };
    const b = { path: 'b.py', content: Buffer.from('x') };
    expect(hashOf([a, b])).toBe(hashOf([b, a]));
    expect(hashOf([a, b])).not.toBe(hashOf([{ ...a, content: Buffer.from('v2') }, b]));
  });
});

describe('allocatableGpus', () => {
  it('adds allocatable nvidia.com/gpu over nodes', () => {
    const node = (gpus?: string): V1Node => ({ status: { allocatable: gpus === undefined ? {} : { 'nvidia.com/gpu': gpus } } });
    expect(allocatableGpus([node('2'), node(), node('1')])).toBe(3);
    expect(allocatableGpus([node('0')])).toBe(0);
  });
});

describe('gpuShareProblem', () => {
  const node = (gpus: string, sharing?: string): V1Node => ({
    metadata: { labels: sharing ? { 'nvidia.com/gpu.replicas': sharing } : {} },
    status: { allocatable: { 'nvidia.com/gpu': gpus } },
  });

  it('takes a share where some GPU is sliced 2 to 1/share ways', () => {
    expect(gpuShareProblem(0.5, [node('2', '2'), node('0')], "cluster 'skiff'")).toBeUndefined();
    expect(gpuShareProblem(0.25, [node('4', '4')], "cluster 'skiff'")).toBeUndefined();
  });

  it('says so plainly, with what to run, where the GPUs are whole or sliced too finely', () => {
    expect(gpuShareProblem(0.5, [node('1')], "cluster 'skiff'")).toMatchObject({
      code: 'BAD_INPUT',
      message: "this job asks for 0.5 of a GPU per worker, but the GPUs of cluster 'skiff' are not shared, so it would hold a whole one",
      hint: expect.stringContaining('`skiff up --gpu-sharing 2`'),
    });
    expect(gpuShareProblem(0.5, [node('4', '4')], "cluster 'skiff'")).toMatchObject({
      message: "this job asks for 0.5 of a GPU per worker, but cluster 'skiff' shares each GPU 4 ways, so a slice is 1/4, less than asked",
      hint: expect.stringContaining('ask --gpu-share 0.25 or less'),
    });
  });
});
