import { describe, expect, it } from 'vitest';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { renderJob } from '../jobs/submit.js';
import { LABELS } from '../manifests/labels.js';
import { promotedObjects } from './remap.js';
import { targetProfileSchema } from './target.js';
import { KSERVE_CONTAINER, KSERVE_DEPLOYMENT_MODE, PYTORCH_CONTAINER, PYTORCH_PORT_NAME, chooseForm } from './forms.js';
import type { InferenceService, PyTorchJob } from '../jobs/operator-kinds.js';

const files: CodeFile[] = [{ path: 'train.py', content: Buffer.from('print(1)') }];
const lib: CodeFile[] = [{ path: 'skiff/__init__.py', content: Buffer.from('') }];
const source = { context: 'kind-skiff', namespace: 'skiff', name: 'job-a1' };
const image = 'registry.example.com/ml/skiff-job-a1:0123456789ab';
const target = targetProfileSchema.parse({ registry: 'registry.example.com/ml', namespace: 'research', gpuResource: 'amd.com/gpu', runtimeClassName: 'nvidia' });

describe('chooseForm', () => {
  const both = { pytorchJob: true, inferenceService: true };
  it("uses the operator the target serves for the job's kind, plain Kubernetes otherwise or when the profile says so", () => {
    expect(chooseForm('training', both, 'auto')).toBe('kubeflow');
    expect(chooseForm('serving', both, 'auto')).toBe('kserve');
    expect(chooseForm('training', { pytorchJob: false, inferenceService: true }, 'auto')).toBe('kubernetes');
    expect(chooseForm('serving', { pytorchJob: true, inferenceService: false }, 'auto')).toBe('kubernetes');
    expect(chooseForm('training', both, 'kubernetes')).toBe('kubernetes');
  });
});

describe('the Kubeflow Trainer form', () => {
  const spec = parseTrainingSpec({ name: 'job-a1', script: 'train.py', workers: 3, gpusPerWorker: 1, env: { SEED: '7' } });
  const objects = promotedObjects(renderJob(spec, files, lib), spec, target, image, source, 'kubeflow');
  const job = objects[2] as PyTorchJob;
  const replicas = job.spec!.pytorchReplicaSpecs!;
  const pod = replicas.Master.template!.spec as V1PodSpec;
  const container = pod.containers[0] as V1Container;

  it('is the Namespace, the --env Secret and one PyTorchJob: the operator makes the Services', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Secret', 'PyTorchJob']);
    expect(objects[1].metadata).toMatchObject({ name: 'job-a1-env', namespace: 'research' });
    expect(job.apiVersion).toBe('kubeflow.org/v1');
    expect(job.metadata).toMatchObject({ name: 'job-a1', namespace: 'research' });
    expect(job.metadata?.labels?.[LABELS.job]).toBe('job-a1');
  });

  it('has one Master and the other ranks as Workers, never restarted, failing as one', () => {
    expect(replicas.Master).toMatchObject({ replicas: 1, restartPolicy: 'Never' });
    expect(replicas.Worker).toMatchObject({ replicas: 2, restartPolicy: 'Never' });
    expect(replicas.Worker.template).toEqual(replicas.Master.template);
    expect(job.spec!.runPolicy).toEqual({ backoffLimit: 0, cleanPodPolicy: 'None' });
  });

  it('leaves rank wiring to the operator: its container name and port, none of the env it sets', () => {
    expect(container.name).toBe(PYTORCH_CONTAINER);
    expect(container.ports).toEqual([{ name: PYTORCH_PORT_NAME, containerPort: spec.masterPort, protocol: 'TCP' }]);
    const names = container.env!.map((e) => e.name);
    for (const set of ['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'RANK']) expect(names).not.toContain(set);
    // Nothing reads the Indexed Job's completion index, which the operator's pods lack.
    for (const fromIndex of ['GROUP_RANK', 'ROLE_RANK', 'NODE_RANK']) expect(names).not.toContain(fromIndex);
    expect(JSON.stringify(container.env)).not.toContain('job-completion-index');
    expect(names).toContain('LOCAL_RANK');
    expect(container.env).toContainEqual({ name: 'SEED', valueFrom: { secretKeyRef: { name: 'job-a1-env', key: 'SEED' } } });
    expect(JSON.stringify(job)).not.toContain('"7"');
    expect(pod.subdomain).toBeUndefined();
    expect(pod.restartPolicy).toBeUndefined();
  });

  it("keeps the target's remap: the baked image, its GPU resource and runtime class, Skiff's pod labels", () => {
    expect(container.image).toBe(image);
    expect(container.resources?.limits).toMatchObject({ 'amd.com/gpu': '1' });
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(replicas.Master.template!.metadata?.labels?.[LABELS.job]).toBe('job-a1');
  });

  it('has no Worker replicas for a single-rank job', () => {
    const one = parseTrainingSpec({ name: 'job-a1', script: 'train.py', workers: 1 });
    const [, single] = promotedObjects(renderJob(one, files, lib), one, target, image, source, 'kubeflow') as [unknown, PyTorchJob];
    expect(Object.keys(single.spec!.pytorchReplicaSpecs!)).toEqual(['Master']);
  });
});

describe('the KServe form', () => {
  const spec = parseServingSpec({ name: 'job-a1', script: 'serve.py', port: 8000, replicas: 2 });
  const objects = promotedObjects(renderJob(spec, files, lib), spec, target, image, source, 'kserve');
  const isvc = objects[1] as InferenceService;
  const predictor = isvc.spec!.predictor as Record<string, unknown> & { containers: V1Container[] };

  it('is the Namespace and one InferenceService in raw deployment mode', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'InferenceService']);
    expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
    expect(isvc.metadata?.annotations?.[KSERVE_DEPLOYMENT_MODE]).toBe('RawDeployment');
  });

  it('is a custom-container predictor at a fixed replica count, with the pod labels Skiff finds it by', () => {
    expect(predictor).toMatchObject({ minReplicas: 2, maxReplicas: 2, runtimeClassName: 'nvidia' });
    expect((predictor.labels as Record<string, string>)[LABELS.job]).toBe('job-a1');
    expect(predictor.containers).toHaveLength(1);
    expect(predictor.containers[0]).toMatchObject({ name: KSERVE_CONTAINER, image, ports: [{ containerPort: 8000 }] });
    expect(predictor.containers[0].env).toContainEqual({ name: 'PORT', value: '8000' });
  });

  it('does not turn a training job into a service, or the other way round', () => {
    const training = parseTrainingSpec({ name: 'job-a1', script: 'train.py', workers: 2 });
    expect(promotedObjects(renderJob(training, files, lib), training, target, image, source, 'kserve').map((o) => o.kind)).toEqual(['Namespace', 'Service', 'Job']);
  });
});
