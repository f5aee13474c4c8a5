import { describe, expect, it } from 'vitest';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { ANNOTATIONS, specFromAnnotations } from './labels.js';
import { trainingManifests } from './training.js';

const files: CodeFile[] = [
  { path: 'train.py', content: Buffer.from('print(1)') },
  { path: 'data/x.csv', content: Buffer.from('a,b') },
];
const libFiles: CodeFile[] = [
  { path: 'skiff/__init__.py', content: Buffer.from('') },
  { path: 'skiff/launch.py', content: Buffer.from('') },
];
const spec = parseTrainingSpec({
  name: 'train-a1b2c',
  script: 'train.py',
  args: ['--epochs', '2'],
  workers: 3,
  resources: { cpu: '2', memory: '4Gi' },
  env: { LR: '0.1' },
});
const envOf = (env: V1EnvVar[] | undefined) => Object.fromEntries((env ?? []).map((e) => [e.name, e]));

describe('trainingManifests', () => {
  const { configMaps, envSecret, service, job } = trainingManifests(spec, files, libFiles);
  const specWithoutEnvValues = { ...spec, env: { LR: '' } };
  const pod = job.spec!.template.spec!;
  const worker = pod.containers[0];

  it('ships code and lib ConfigMaps', () => {
    expect(configMaps.map((c) => c.metadata?.name)).toEqual(['train-a1b2c-code', 'train-a1b2c-lib']);
  });

  it("keeps --env values in the job's Secret only: the pods name them, no annotation holds them", () => {
    expect(envSecret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'train-a1b2c-env', namespace: 'skiff' } });
    expect(Buffer.from(envSecret!.data!.LR, 'base64').toString()).toBe('0.1');
    for (const obj of [job, service, ...configMaps, envSecret!]) expect(JSON.stringify(obj.metadata)).not.toContain('0.1');
    expect(JSON.stringify(job.spec)).not.toContain('0.1');
    expect(trainingManifests({ ...spec, env: {} }, files, libFiles).envSecret).toBeUndefined();
  });

  it('has a headless Service for rank-0 DNS', () => {
    expect(service.metadata?.name).toBe('train-a1b2c');
    expect(service.spec).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'skiff.dev/job': 'train-a1b2c' },
      ports: [{ name: 'dist', port: 29500 }],
    });
    expect(specFromAnnotations(service.metadata?.annotations)).toEqual(specWithoutEnvValues);
  });

  it('is an Indexed Job with one pod per worker that fails fast', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.kind).toBe('Job');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0 });
    expect(job.spec?.ttlSecondsAfterFinished).toBeUndefined();
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.subdomain).toBe('train-a1b2c');
    expect(trainingManifests({ ...spec, backoffLimit: 2 }, files, libFiles).job.spec?.backoffLimit).toBe(2);
  });

  it('carries labels on everything and the spec on the Job', () => {
    for (const obj of [job, service, ...configMaps]) {
      expect(obj.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train-a1b2c', 'skiff.dev/kind': 'training' });
      expect(obj.metadata?.namespace).toBe('skiff');
    }
    expect(job.spec?.template.metadata?.labels?.['skiff.dev/job']).toBe('train-a1b2c');
    expect(specFromAnnotations(job.metadata?.annotations)).toEqual(specWithoutEnvValues);
    expect(job.metadata?.annotations?.[ANNOTATIONS.createdBy]).toBe('skiff');
    expect(envSecret?.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train-a1b2c' });
  });

  it('runs the script through skiff.launch', () => {
    expect(worker.name).toBe('worker');
    expect(worker.image).toBe(spec.image);
    expect(worker.imagePullPolicy).toBe('IfNotPresent');
    expect(worker.command).toEqual(['python3', '-u', '-m', 'skiff.launch', '/skiff/code/train.py', '--epochs', '2']);
    expect(worker.workingDir).toBe('/skiff/code');
  });

  it('sets the torch.distributed environment', () => {
    const env = envOf(worker.env);
    expect(env.MASTER_ADDR.value).toBe('train-a1b2c-0.train-a1b2c');
    expect(env.MASTER_PORT.value).toBe('29500');
    expect(env.WORLD_SIZE.value).toBe('3');
    expect(env.RANK.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    expect(env.LOCAL_RANK.value).toBe('0');
    // torchrun's variables for one process per node, which Lightning and Accelerate read.
    for (const name of ['GROUP_RANK', 'ROLE_RANK', 'NODE_RANK']) expect(env[name].valueFrom).toEqual(env.RANK.valueFrom);
    expect([env.GROUP_WORLD_SIZE.value, env.ROLE_WORLD_SIZE.value, env.LOCAL_WORLD_SIZE.value, env.ROLE_NAME.value]).toEqual(['3', '3', '1', 'default']);
    expect(env.PYTHONPATH.value).toBe('/skiff/lib');
    expect(env.PYTHONUNBUFFERED.value).toBe('1');
    expect(env.SKIFF_JOB.value).toBe('train-a1b2c');
    expect(env.LR).toEqual({ name: 'LR', valueFrom: { secretKeyRef: { name: 'train-a1b2c-env', key: 'LR' } } });
    expect(new Set(worker.env!.map((e) => e.name)).size).toBe(worker.env!.length);
  });

  it('requests resources and no GPU by default', () => {
    expect(worker.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(pod.tolerations).toBeUndefined();
  });

  it('asks for GPUs and tolerates GPU taints when gpusPerWorker > 0', () => {
    const gpu = trainingManifests({ ...spec, gpusPerWorker: 2, resources: {} }, files, libFiles).job.spec!.template.spec!;
    expect(gpu.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': '2' } });
    expect(gpu.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('spreads workers across nodes', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      expect.objectContaining({
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { 'skiff.dev/job': 'train-a1b2c' } },
      }),
    ]);
  });

  it('mounts code, lib and a memory-backed /dev/shm', () => {
    const volumes = Object.fromEntries(pod.volumes!.map((v) => [v.name, v]));
    const code = Object.values(volumes).find((v) => v.configMap?.name === 'train-a1b2c-code');
    const lib = Object.values(volumes).find((v) => v.configMap?.name === 'train-a1b2c-lib');
    const shm = Object.values(volumes).find((v) => v.emptyDir);
    expect(code?.configMap?.items).toEqual([
      { key: 'train.py', path: 'train.py' },
      { key: 'data__x.csv', path: 'data/x.csv' },
    ]);
    expect(lib?.configMap?.items?.map((i) => i.path)).toEqual(['skiff/__init__.py', 'skiff/launch.py']);
    expect(shm?.emptyDir?.medium).toBe('Memory');
    const mounts = Object.fromEntries(worker.volumeMounts!.map((m) => [m.name, m.mountPath]));
    expect(mounts[code!.name]).toBe('/skiff/code');
    expect(mounts[lib!.name]).toBe('/skiff/lib');
    expect(mounts[shm!.name]).toBe('/dev/shm');
  });
});
