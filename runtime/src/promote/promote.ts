// Promotion: the same job, from the local cluster to another kubeconfig context. plan() reads the
// job back from the local cluster (spec from its annotation, code from its ConfigMaps), remaps it
// for the target and asks the target for a server-side dry run, so the diff shows what the target
// would really store. apply() then builds and pushes the image and applies with Skiff's field
// manager. Nothing touches the target before apply(), and nothing ever changes the local job.
import { PatchStrategy, type KubeConfig, type KubernetesObject, type V1ConfigMap, type V1Deployment, type V1Job, type V1Volume } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { CodeFile } from '../types.js';
import { SkiffError } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.js';
import { ANNOTATIONS, specFromAnnotations } from '../manifests/labels.js';
import { envSecretName, withEnvValues } from '../manifests/env-secret.js';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRecord } from '../workspace/runs.js';
import { resolvePackages } from '../packages/install.js';
import { VOLUMES, codeConfigMapName, libConfigMapName } from '../manifests/code-bundle.js';
import { CODE_HASH_ANNOTATION, renderJob } from '../jobs/submit.js';
import { FIELD_MANAGER, apiStatusOf, applyObject, kubeClients, kubeConfigForContext, orUndefined } from '../k8s/client.js';
import { promotedImageRef, promotedObjects } from './remap.js';
import type { TargetProfile } from './target.js';
import { buildImage, pushImage } from './image.js';
import { chooseForm, type WorkloadForm } from './forms.js';
import { INFERENCE_SERVICE, LOCAL_QUEUE, PYTORCH_JOB, servesKind } from '../jobs/operator-kinds.js';

export interface PromotionRequest {
  job: string;
  /** The local cluster's kubeconfig and the job's namespace there. */
  local: KubeConfig;
  localNamespace: string;
  /** The target context in the default kubeconfig (or `kubeconfig`). */
  toContext: string;
  kubeconfig?: string;
  profile: TargetProfile;
}

export type ChangeAction = 'create' | 'update' | 'unchanged';

export interface PromotionPlan {
  job: string;
  context: string;
  namespace: string;
  image: string;
  baseImage: string;
  /** Plain Kubernetes, or the operator's form the target serves (Kubeflow Trainer, KServe). */
  form: WorkloadForm;
  /** The objects apply() will apply, in order. */
  objects: KubernetesObject[];
  /** Each object as the target holds it now ('' when absent) and as its dry run says it would be, as YAML. */
  changes: { kind: string; name: string; action: ChangeAction; before: string; after: string }[];
  /** Unified diff: what the target holds now against what its dry run says it would hold. */
  diff: string;
  /** The job's code and Skiff's helper, baked into the image by apply(). */
  files: CodeFile[];
  libFiles: CodeFile[];
  /** The job's resolved Python packages (site-packages relative paths), baked in too. */
  packageFiles?: CodeFile[];
}

/** The job as the local cluster holds it: spec, code files and helper files, its code hash. */
export async function readLocalJob(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<{ spec: JobSpec; files: CodeFile[]; libFiles: CodeFile[]; packageFiles: CodeFile[]; codeHash: string }> {
  const { batch, apps, core } = kubeClients(kc);
  const owner: V1Job | V1Deployment | undefined =
    (await orUndefined(batch.readNamespacedJob({ name, namespace }))) ?? (await orUndefined(apps.readNamespacedDeployment({ name, namespace })));
  if (!owner) throw new SkiffError('JOB_NOT_FOUND', `no job named '${name}' in namespace '${namespace}' of the local cluster`, { hint: 'see `skiff jobs`' });
  const annotated = specFromAnnotations(owner.metadata?.annotations);
  if (!annotated)
    throw new SkiffError('BAD_INPUT', `job '${name}' carries no Skiff spec annotation, so it cannot be promoted`, { hint: 'promote jobs submitted with skiff run or skiff serve' });
  // The annotation names the --env variables; their values are in the job's Secret.
  const envSecretOf = async () => (Object.keys(annotated.env).length > 0 ? orUndefined(core.readNamespacedSecret({ name: envSecretName(name), namespace })) : undefined);
  const spec = withEnvValues(annotated, await envSecretOf());
  const volumes = owner.spec?.template.spec?.volumes ?? [];
  const read = async (cmName: string, volumeName: string) => {
    const cm = await orUndefined(core.readNamespacedConfigMap({ name: cmName, namespace }));
    if (!cm) throw new SkiffError('BAD_INPUT', `the code of job '${name}' is gone (ConfigMap ${cmName} is missing)`, { hint: 'submit the job again, then promote it' });
    return filesFromConfigMap(
      cm,
      volumes.find((v) => v.name === volumeName),
    );
  };
  const workDir = owner.metadata?.annotations?.[ANNOTATIONS.workDir];
  const files = workDir ? await runFolderCode(name, workDir) : await read(codeConfigMapName(spec), VOLUMES.code);
  // The helper sits under skiff/ in its ConfigMap: the package path the image needs too.
  const libFiles = await read(libConfigMapName(spec), VOLUMES.lib);
  const packageFiles = workDir && spec.packages?.length ? await runPackages(spec, workDir) : [];
  return { spec, files, libFiles, packageFiles, codeHash: owner.spec?.template.metadata?.annotations?.[CODE_HASH_ANNOTATION] ?? 'latest' };
}

/** The code a run folder started with (its record lists it), as it is there now. */
async function runFolderCode(job: string, workDir: string): Promise<CodeFile[]> {
  const record = await readRecord(workDir);
  if (!record) throw new SkiffError('BAD_INPUT', `the run folder of job '${job}' is gone (${workDir})`, { hint: 'submit the job again, then promote it' });
  return Promise.all(record.codeFiles.map(async (p) => ({ path: p, content: await readFile(path.join(workDir, ...p.split('/'))) })));
}

/** The packages the local job used: the same resolved set (cached beside its run folder), file by file. */
async function runPackages(spec: JobSpec, workDir: string): Promise<CodeFile[]> {
  const dataRoot = path.resolve(workDir, '..', '..', '..', '..', '..');
  const { siteDir } = await resolvePackages(spec.packages ?? [], { dataRoot, image: spec.image });
  return readTree(siteDir);
}

async function readTree(root: string, rel = ''): Promise<CodeFile[]> {
  const out: CodeFile[] = [];
  for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await readTree(root, child)));
    else if (entry.isFile()) out.push({ path: child, content: await readFile(path.join(root, child)) });
  }
  return out;
}

/** A code ConfigMap back into files, with the paths its volume's items give each key. */
export function filesFromConfigMap(cm: V1ConfigMap, volume: V1Volume | undefined): CodeFile[] {
  const items = volume?.configMap?.items ?? [];
  const pathOf = new Map(items.map((i) => [i.key, i.path]));
  const files: CodeFile[] = [];
  for (const [key, text] of Object.entries(cm.data ?? {})) files.push({ path: pathOf.get(key) ?? key, content: Buffer.from(text, 'utf8') });
  for (const [key, b64] of Object.entries(cm.binaryData ?? {})) files.push({ path: pathOf.get(key) ?? key, content: Buffer.from(b64, 'base64') });
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** What a diff should not show: fields the server owns, and a Secret's values (a diff is printed and sent to editors). */
export function comparable(obj: KubernetesObject | undefined): unknown {
  if (!obj) return undefined;
  const copy = structuredClone(obj) as KubernetesObject & { status?: unknown; data?: Record<string, string>; stringData?: Record<string, string> };
  delete copy.status;
  if (copy.kind === 'Secret') {
    // Each value as a short digest: the diff still shows which ones change, never what they are
    // (whoever reads it may read the Secret itself; the point is no plain value on screen or in a log).
    for (const field of ['data', 'stringData'] as const) {
      const values = copy[field];
      if (values) copy[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, redacted(field === 'data' ? Buffer.from(v, 'base64') : Buffer.from(v))]));
    }
  }
  if (copy.metadata) {
    for (const key of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'] as const) delete copy.metadata[key];
  }
  return copy;
}

function redacted(value: Buffer): string {
  return `(hidden, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 12)})`;
}

/** Plain YAML for review: no line folding, no anchors for repeated values. */
const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** Reads, dry-runs and diffs; touches nothing on either cluster. */
export async function planPromotion(req: PromotionRequest): Promise<PromotionPlan> {
  const { spec, files, libFiles, packageFiles, codeHash } = await readLocalJob(req.local, req.localNamespace, req.job);
  const image = promotedImageRef(req.profile.registry, spec.name, codeHash);
  const targetConfig = kubeConfigForContext(req.toContext, req.kubeconfig);
  const form = req.profile.form === 'kubernetes' ? 'kubernetes' : await explained(req.toContext, 'API discovery', () => targetForm(targetConfig, spec.kind));
  if (req.profile.queue && spec.kind === 'training' && !(await explained(req.toContext, 'API discovery', () => servesKind(targetConfig, LOCAL_QUEUE)))) {
    // A job labelled for a queue nobody serves would wait suspended for ever.
    throw new SkiffError('BAD_INPUT', `the target profile sends training jobs through queue '${req.profile.queue}', but context '${req.toContext}' has no Kueue (kueue.x-k8s.io)`, {
      hint: 'install Kueue there, or remove `queue:` from the target profile',
    });
  }
  const source = { context: req.local.getCurrentContext(), namespace: req.localNamespace, name: req.job };
  const objects = promotedObjects(renderJob(spec, files, libFiles), spec, req.profile, image, source, form);
  const target = kubeClients(targetConfig);
  const changes: PromotionPlan['changes'] = [];
  const patches: string[] = [];
  let namespaceExists = true;
  for (const obj of objects) {
    const kind = obj.kind!;
    const name = obj.metadata!.name!;
    const live = await explained(req.toContext, `read ${kind} ${name}`, () => orUndefined(target.objects.read(obj as never) as Promise<KubernetesObject>));
    if (kind === 'Namespace' && !live) namespaceExists = false;
    // Objects in a namespace that does not exist yet cannot be dry-run: they would be created as given.
    const after =
      !namespaceExists && kind !== 'Namespace'
        ? obj
        : await explained(req.toContext, `dry-run apply of ${kind} ${name}`, () => target.objects.patch(obj, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    const before = comparable(live);
    const next = comparable(after);
    const beforeText = before ? stringify(before, YAML_OPTIONS) : '';
    const afterText = stringify(next, YAML_OPTIONS);
    const action: ChangeAction = !live ? 'create' : beforeText === afterText ? 'unchanged' : 'update';
    changes.push({ kind, name, action, before: beforeText, after: afterText });
    if (action !== 'unchanged')
      patches.push(
        createTwoFilesPatch(`${req.toContext}/${kind}/${name}`, `promoted/${kind}/${name}`, beforeText, afterText, action === 'create' ? '(absent)' : '(live)', '(after apply)'),
      );
  }
  return {
    job: spec.name,
    context: req.toContext,
    namespace: req.profile.namespace,
    image,
    baseImage: spec.image,
    form,
    objects,
    changes,
    diff: patches.join('\n'),
    files,
    libFiles,
    packageFiles,
  };
}

export interface ApplyOptions {
  docker: Docker;
  kubeconfig?: string;
  onProgress?(line: string): void;
}

/** Only the API the job's kind needs is asked about. */
async function targetForm(kc: KubeConfig, kind: JobSpec['kind']): Promise<WorkloadForm> {
  const apis =
    kind === 'training'
      ? { pytorchJob: await servesKind(kc, PYTORCH_JOB), inferenceService: false }
      : { pytorchJob: false, inferenceService: await servesKind(kc, INFERENCE_SERVICE) };
  return chooseForm(kind, apis, 'auto');
}

/** Builds and pushes the image, then applies the plan's objects to the target with Skiff's field manager. */
export async function applyPromotion(plan: PromotionPlan, opts: ApplyOptions): Promise<KubernetesObject[]> {
  opts.onProgress?.(`building ${plan.image} from ${plan.baseImage}`);
  await buildImage(opts.docker, plan.image, plan.baseImage, plan.files, plan.libFiles, undefined, plan.packageFiles ?? []);
  opts.onProgress?.(`pushing ${plan.image}`);
  await pushImage(opts.docker, plan.image);
  const target = kubeClients(kubeConfigForContext(plan.context, opts.kubeconfig));
  const applied: KubernetesObject[] = [];
  for (const obj of plan.objects) {
    opts.onProgress?.(`applying ${obj.kind} ${obj.metadata?.name} to ${plan.context}`);
    applied.push(await explained(plan.context, `apply of ${obj.kind} ${obj.metadata?.name}`, () => applyObject(target.objects, obj)));
  }
  return applied;
}

/** Kubernetes errors of the target, in plain words: unreachable, forbidden by RBAC, or refused. */
async function explained<T>(context: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const status = apiStatusOf(err);
    const body = (err as { body?: unknown }).body;
    const reason = typeof body === 'string' ? (safeJson(body)?.message ?? body) : ((body as { message?: string } | undefined)?.message ?? (err as Error).message);
    if (status === 403) {
      throw new SkiffError('FORBIDDEN', `context '${context}' is not allowed the ${what}: ${reason}`, {
        hint: 'ask the cluster admin for RBAC rights to Jobs, Deployments, Services, Secrets and Namespaces there, or use another context',
        cause: err,
      });
    }
    if (status === undefined) {
      throw new SkiffError('UNREACHABLE', `cannot reach context '${context}' (${what}): ${(err as Error).message}`, {
        hint: `check the context's server and credentials (kubectl --context ${context} get ns)`,
        cause: err,
      });
    }
    throw new SkiffError('COMMAND_FAILED', `context '${context}' refused the ${what}: ${reason}`, { cause: err });
  }
}

function safeJson(text: string): { message?: string } | undefined {
  try {
    return JSON.parse(text) as { message?: string };
  } catch {
    return undefined;
  }
}
