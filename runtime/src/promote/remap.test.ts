import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Job, V1Namespace, V1Secret, V1Service } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { renderJob } from '../jobs/submit.js';
import { ANNOTATIONS, specFromAnnotations } from '../manifests/labels.js';
import { CODE_MOUNT, LIB_MOUNT } from '../manifests/code-bundle.js';
import { PROMOTED_FROM, SCRATCH_MOUNT, promotedImageRef, promotedObjects } from './remap.js';
import { targetProfileSchema } from './target.js';
import type { PyTorchJob } from '../jobs/operator-kinds.js';

const files: CodeFile[] = [{ path: 'train.py', content: Buffer.from('print(1)') }];
const lib: CodeFile[] = [{ path: 'skiff/__init__.py', content: Buffer.from('') }];
const source = { context: 'kind-skiff', namespace: 'skiff', name: 'train-a1' };
const image = 'registry.example.com/ml/skiff-train-a1:0123456789ab';
const target = targetProfileSchema.parse({
  registry: 'registry.example.com/ml',
  namespace: 'research',
  gpuResource: 'amd.com/gpu',
  nodeSelector: { 'cloud.example.com/accelerator': 'a100' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }],
  runtimeClassName: 'nvidia',
  serviceType: 'LoadBalancer',
  imagePullSecrets: ['registry-creds'],
});

describe('promotedObjects', () => {
  const spec = parseTrainingSpec({ name: 'train-a1', script: 'train.py', workers: 2, gpusPerWorker: 1 });
  const [namespace, service, owner] = promotedObjects(renderJob(spec, files, lib), spec, target, image, source) as [V1Namespace, V1Service, V1Job];
  const pod = owner.spec!.template.spec!;
  const worker = pod.containers[0];

  it("puts everything in the target's namespace, creating it first; no ConfigMaps travel", () => {
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: 'research' } });
    expect([service.kind, owner.kind]).toEqual(['Service', 'Job']);
    expect(service.metadata?.namespace).toBe('research');
    expect(owner.metadata?.namespace).toBe('research');
  });

  it('runs the baked image, without the code and helper volumes (the image has them at the same paths)', () => {
    expect(worker.image).toBe(image);
    expect(worker.imagePullPolicy).toBe('IfNotPresent');
    expect(pod.volumes?.map((v) => v.name)).toEqual(['dshm']);
    const mounts = worker.volumeMounts?.map((m) => m.mountPath) ?? [];
    expect(mounts).not.toContain(CODE_MOUNT);
    expect(mounts).not.toContain(LIB_MOUNT);
    expect(worker.workingDir).toBe(CODE_MOUNT);
  });

  it("asks for the target's GPU resource and lands on its nodes", () => {
    expect(worker.resources?.limits).toMatchObject({ 'amd.com/gpu': '1' });
    expect(worker.resources?.limits).not.toHaveProperty('nvidia.com/gpu');
    expect(pod.nodeSelector).toEqual({ 'cloud.example.com/accelerator': 'a100' });
    expect(pod.tolerations).toContainEqual({ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' });
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-creds' }]);
  });

  it('records where it came from, and a spec that describes the promoted job', () => {
    expect(owner.metadata?.annotations?.[PROMOTED_FROM]).toBe('kind-skiff/skiff/train-a1');
    expect(owner.spec!.template.metadata?.annotations?.[PROMOTED_FROM]).toBe('kind-skiff/skiff/train-a1');
    expect(specFromAnnotations(owner.metadata?.annotations)).toMatchObject({ name: 'train-a1', image, namespace: 'research', workers: 2 });
    expect(owner.metadata?.annotations?.[ANNOTATIONS.spec]).not.toContain('secret');
  });

  it("goes through the target's Kueue queue when the profile names one: labelled and suspended, as a Job or a PyTorchJob; serving jobs and plain profiles are not queued", () => {
    const queued = { ...target, queue: 'team-gpus' };
    const [, , job] = promotedObjects(renderJob(spec, files, lib), spec, queued, image, source) as [V1Namespace, V1Service, V1Job];
    expect(job.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('team-gpus');
    expect(job.spec?.suspend).toBe(true);
    const [, pytorchJob] = promotedObjects(renderJob(spec, files, lib), spec, queued, image, source, 'kubeflow') as [V1Namespace, PyTorchJob];
    expect(pytorchJob.metadata?.labels?.['kueue.x-k8s.io/queue-name']).toBe('team-gpus');
    expect(pytorchJob.spec?.runPolicy).toMatchObject({ suspend: true });
    expect(owner.metadata?.labels).not.toHaveProperty('kueue.x-k8s.io/queue-name');
    expect(owner.spec?.suspend).toBeUndefined();
    const serving = parseServingSpec({ name: 'srv', script: 'train.py', port: 8000 });
    const [, , deployment] = promotedObjects(renderJob(serving, files, lib), serving, queued, image, source) as [V1Namespace, V1Service, V1Deployment];
    expect(deployment.metadata?.labels).not.toHaveProperty('kueue.x-k8s.io/queue-name');
    expect(() => targetProfileSchema.parse({ registry: 'r.example.com', queue: 'Not A Name' })).toThrow(/a LocalQueue name/);
  });

  it('leaves the local rendering untouched', () => {
    const rendered = renderJob(spec, files, lib);
    const before = JSON.stringify(rendered);
    promotedObjects(rendered, spec, target, image, source);
    expect(JSON.stringify(rendered)).toBe(before);
  });

  it("gives a serving job the target's Service type; a plain profile adds no selectors", () => {
    const serving = parseServingSpec({ name: 'app-b2', script: 'app.py', port: 8000 });
    const plain = targetProfileSchema.parse({ registry: 'localhost:5000' });
    const [, svc, deployment] = promotedObjects(renderJob(serving, [{ path: 'app.py', content: Buffer.from('') }], lib), serving, plain, 'localhost:5000/x:1', source) as [
      V1Namespace,
      V1Service,
      V1Deployment,
    ];
    expect(svc.spec?.type).toBe('ClusterIP');
    expect(deployment.metadata?.namespace).toBe('skiff');
    expect(deployment.spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(deployment.spec!.template.spec!.tolerations).toBeUndefined();
    const [, lbSvc] = promotedObjects(renderJob(serving, [{ path: 'app.py', content: Buffer.from('') }], lib), serving, target, image, source) as [V1Namespace, V1Service];
    expect(lbSvc.spec?.type).toBe('LoadBalancer');
  });
});

describe('scratch storage on the target', () => {
  const spec = parseTrainingSpec({ name: 'train-a1', script: 'train.py', workers: 2 });
  const podOf = (profile: object) => {
    const [, , job] = promotedObjects(renderJob(spec, files, lib), spec, targetProfileSchema.parse({ registry: 'r.example.com', ...profile }), image, source) as [
      V1Namespace,
      V1Service,
      V1Job,
    ];
    return job.spec!.template.spec!;
  };

  it("claims a volume of the profile's storage class for each pod, mounted at /skiff/scratch and named in $SKIFF_SCRATCH", () => {
    const pod = podOf({ storageClass: 'premium-rwo', scratchSize: '50Gi' });
    const scratch = pod.volumes?.find((v) => v.name === 'scratch');
    expect(scratch?.ephemeral?.volumeClaimTemplate?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'premium-rwo',
      resources: { requests: { storage: '50Gi' } },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'scratch', mountPath: SCRATCH_MOUNT });
    expect(pod.containers[0].env).toContainEqual({ name: 'SKIFF_SCRATCH', value: SCRATCH_MOUNT });
  });

  it('adds none without a storage class, and refuses a size that is not a quantity', () => {
    const pod = podOf({});
    expect(pod.volumes?.map((v) => v.name)).toEqual(['dshm']);
    expect(pod.containers[0].env?.map((e) => e.name)).not.toContain('SKIFF_SCRATCH');
    expect(() => targetProfileSchema.parse({ registry: 'r', storageClass: 'x', scratchSize: 'lots' })).toThrow(/a Kubernetes quantity/);
  });
});

describe('promotedImageRef', () => {
  it('sends --env values in their own Secret in the target namespace, and in no annotation', () => {
    const withEnv = parseTrainingSpec({ name: 'train-a1', script: 'train.py', env: { WANDB_API_KEY: 'k-123456' } });
    const objects = promotedObjects(renderJob(withEnv, files, lib), withEnv, target, image, source);
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Secret', 'Service', 'Job']);
    const secret = objects[1] as V1Secret;
    expect(secret.metadata).toMatchObject({ name: 'train-a1-env', namespace: 'research' });
    expect(Buffer.from(secret.data!.WANDB_API_KEY, 'base64').toString()).toBe('k-123456');
    for (const o of [objects[2], objects[3]]) expect(JSON.stringify(o)).not.toContain('k-123456');
    expect(specFromAnnotations(objects[3].metadata?.annotations)?.env).toEqual({ WANDB_API_KEY: '' });
  });

  it('names the image after the job and tags it with the code hash', () => {
    expect(promotedImageRef('localhost:5000', 'train-a1', '0123456789abcdef')).toBe('localhost:5000/skiff-train-a1:0123456789ab');
  });
});
