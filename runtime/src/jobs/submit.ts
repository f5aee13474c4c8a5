// Submitting a job: code into ConfigMaps, then server-side apply of Service and Job/Deployment.
// Nothing is built or pushed; a resubmit with the same name replaces the previous job.
import { createHash } from 'node:crypto';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment, V1Job, V1Namespace, V1Node, V1Service } from '@kubernetes/client-node';
import type { CodeFile, JobStatus } from '../types.js';
import { SkiffError } from '../errors.js';
import { SpecError, parseQuantity, type JobSpec } from '../spec/job-spec.js';
import { collectCodeFiles, pythonLibFiles } from '../manifests/collect.js';
import { trainingManifests } from '../manifests/training.js';
import { servingManifests } from '../manifests/serving.js';
import { GPU_RESOURCE, NVIDIA_RUNTIME_CLASS, withNvidiaRuntime } from '../manifests/gpu.js';
import { LABELS, MANAGED_BY } from '../manifests/labels.js';
import { applyObject, clusterNameOf, deleteIfPresent, kubeClients, orUndefined, type KubeClients } from '../k8s/client.js';
import { sleep } from '../k8s/streams.js';
import { jobStatusOf } from './status.js';

/** How long a replaced Job may take to disappear (its pods get their termination grace period). */
const REPLACE_TIMEOUT_MS = 90_000;

/** Collects the code under `codeRoot` (the script and its siblings) and submits the job. */
export async function submitJob(kc: KubeConfig, spec: JobSpec, codeRoot: string): Promise<JobStatus> {
  return submitJobFiles(kc, spec, await collectJobCode(codeRoot, spec));
}

/** The script and its siblings under `codeRoot`, with a clear error when the script is missing. */
export async function collectJobCode(codeRoot: string, spec: JobSpec): Promise<CodeFile[]> {
  try {
    return await collectCodeFiles(codeRoot, spec.script);
  } catch (err) {
    if (err instanceof SpecError && /^script not found/.test(err.message)) {
      throw new SkiffError('SCRIPT_NOT_FOUND', err.message, { hint: 'pass the path of a Python file (relative to the code folder)', cause: err });
    }
    throw err;
  }
}

/** Everything a job consists of on the cluster, in the order it is applied. */
export interface RenderedJob {
  configMaps: V1ConfigMap[];
  service: V1Service;
  owner: V1Job | V1Deployment;
}

/** The job's objects from its spec and code: pure, so `--dry-run` shows exactly what submit applies. */
export function renderJob(spec: JobSpec, files: CodeFile[], libFiles: CodeFile[]): RenderedJob {
  let rendered: RenderedJob;
  if (spec.kind === 'training') {
    const m = trainingManifests(spec, files, libFiles);
    rendered = { configMaps: m.configMaps, service: m.service, owner: m.job };
  } else {
    const m = servingManifests(spec, files, libFiles);
    rendered = { configMaps: m.configMaps, service: m.service, owner: m.deployment };
  }
  stampCodeHash(rendered.owner, [...files, ...libFiles]);
  return rendered;
}

/** The rendered objects as one list, ConfigMaps first (the order submit applies them in). */
export function renderedObjects(job: RenderedJob): KubernetesObject[] {
  return [...job.configMaps, job.service, job.owner];
}

/** What `skiff run --dry-run` prints: the job's objects for these files, with Skiff's Python helper. */
export async function renderJobFiles(spec: JobSpec, files: CodeFile[]): Promise<KubernetesObject[]> {
  if (!files.some((f) => f.path === spec.script)) throw new SkiffError('SCRIPT_NOT_FOUND', `script ${spec.script} is not among the code files`);
  return renderedObjects(renderJob(spec, files, await pythonLibFiles()));
}

/** Submits a job whose code is given as files (e.g. a notebook cell sent by an editor). */
export async function submitJobFiles(kc: KubeConfig, spec: JobSpec, files: CodeFile[]): Promise<JobStatus> {
  if (!files.some((f) => f.path === spec.script)) {
    throw new SkiffError('SCRIPT_NOT_FOUND', `script ${spec.script} is not among the ${files.length} code files sent`, {
      hint: 'the script path must match one of the files, relative to the code folder',
    });
  }
  const k = kubeClients(kc);
  const [nvidiaRuntime] = spec.gpusPerWorker > 0 ? await Promise.all([hasNvidiaRuntime(k), assertGpus(k, spec, clusterNameOf(kc))]) : [false];

  // Render before touching the cluster: a bundle that is too big fails without side effects.
  const rendered = renderJob(spec, files, await pythonLibFiles());
  if (nvidiaRuntime) withNvidiaRuntime(rendered.owner);

  // Independent first steps together (a delete in a namespace not yet made is simply a 404).
  await Promise.all([ensureNamespace(k, spec.namespace), removePrevious(k, spec), k.objects.learnResources(renderedObjects(rendered))]);
  // The code and the Service first, together; then the owner, whose pods mount the code.
  await Promise.all([...rendered.configMaps, rendered.service].map((o) => applyObject(k.objects, o)));
  const owner = await applyObject(k.objects, rendered.owner);
  // Just created: no pods yet, so the status follows from the owner alone.
  return jobStatusOf(spec.kind === 'training' ? { kind: 'training', owner: owner as V1Job, pods: [] } : { kind: 'serving', owner: owner as V1Deployment, pods: [] });
}

/** Pod-template annotation holding a digest of the shipped code. */
export const CODE_HASH_ANNOTATION = 'skiff.dev/code-hash';

/**
 * Code lives in ConfigMaps, so new code with the same file names leaves the pod template unchanged
 * and a Deployment would keep its old pods (and the old code in memory). A digest of the code in
 * the template makes every code change roll the replicas.
 */
export function stampCodeHash(owner: V1Job | V1Deployment, files: { path: string; content: Buffer }[]): void {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) hash.update(f.path).update('\0').update(f.content).update('\0');
  const template = owner.spec!.template;
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [CODE_HASH_ANNOTATION]: hash.digest('hex').slice(0, 16) } };
}

/** Node list -> total allocatable GPUs (a pure helper so the check is testable). */
export function allocatableGpus(nodes: V1Node[]): number {
  return nodes.reduce((sum, n) => {
    const q = n.status?.allocatable?.[GPU_RESOURCE];
    const count = q === undefined ? 0 : parseQuantity(q);
    return sum + (Number.isFinite(count) ? count : 0);
  }, 0);
}

async function assertGpus(k: KubeClients, spec: JobSpec, cluster: string): Promise<void> {
  const nodes = await k.core.listNode();
  if (allocatableGpus(nodes.items) > 0) return;
  const n = spec.gpusPerWorker;
  throw new SkiffError('NO_GPU', `this job asks for ${n} GPU${n === 1 ? '' : 's'} per worker but cluster '${cluster}' has no GPUs`, {
    hint: 'run `skiff up --profile fake-gpu` (or gpu on an NVIDIA machine), or drop --gpus-per-worker',
  });
}

/** Whether the cluster runs GPU pods under the NVIDIA runtime (the gpu profile; not fake GPUs). */
async function hasNvidiaRuntime(k: KubeClients): Promise<boolean> {
  return (await orUndefined(k.node.readRuntimeClass({ name: NVIDIA_RUNTIME_CLASS }))) !== undefined;
}

async function ensureNamespace(k: KubeClients, name: string): Promise<void> {
  if (await orUndefined(k.core.readNamespace({ name }))) return;
  const ns: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [LABELS.managedBy]: MANAGED_BY } } };
  await applyObject(k.objects, ns);
}

/**
 * Clears what apply cannot update in place: a Job's pod template is immutable, and a name that
 * switches between training and serving leaves an owner and a Service of the wrong shape behind.
 * Deleting in the foreground and waiting keeps the old pods out of the new job's logs.
 */
async function removePrevious(k: KubeClients, spec: JobSpec): Promise<void> {
  const { name, namespace } = spec;
  const propagationPolicy = 'Foreground';
  const [removedJob, removedDeployment] = await Promise.all([
    deleteIfPresent(k.batch.deleteNamespacedJob({ name, namespace, propagationPolicy })),
    spec.kind === 'training' ? deleteIfPresent(k.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy })) : false,
  ]);
  const kindChanged = (spec.kind === 'training' && removedDeployment) || (spec.kind === 'serving' && removedJob);
  if (kindChanged) await deleteIfPresent(k.core.deleteNamespacedService({ name, namespace }));
  if (!removedJob && !removedDeployment) return;

  const deadline = Date.now() + REPLACE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const [job, deployment] = await Promise.all([
      removedJob ? orUndefined(k.batch.readNamespacedJob({ name, namespace })) : undefined,
      removedDeployment ? orUndefined(k.apps.readNamespacedDeployment({ name, namespace })) : undefined,
    ]);
    if (!job && !deployment) return;
    await sleep(500);
  }
  throw new SkiffError('TIMEOUT', `the previous job '${name}' is still being deleted after ${REPLACE_TIMEOUT_MS / 1000} s`, {
    hint: `try again in a moment, or pick another --name`,
  });
}
