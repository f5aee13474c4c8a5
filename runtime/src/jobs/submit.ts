// Submitting a job. On a local cluster the code is copied into a fresh run folder in the folder the
// cluster shares with the host (writable, shared by every rank, kept after the job), packages are
// resolved once per set and mounted beside it. On any other context the code travels in a
// ConfigMap. Then server-side apply of Service and Job/Deployment; nothing is built or pushed, and
// a resubmit with the same name replaces the previous job (its run folder stays).
import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment, V1Job, V1Namespace, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { CodeFile, JobStatus } from '../types.js';
import { SkiffError } from '../errors.js';
import { SpecError, parseQuantity, type DataMount, type JobSpec } from '../spec/job-spec.js';
import { leftOutText, pythonLibFiles, readCodeFolder, scanCodeFolder, type CodeFolder } from '../manifests/collect.js';
import type { Workspace } from '../manifests/code-bundle.js';
import { envSecretName } from '../manifests/env-secret.js';
import { trainingManifests } from '../manifests/training.js';
import { servingManifests } from '../manifests/serving.js';
import { GPU_RESOURCE, gpuSharingWays, NVIDIA_RUNTIME_CLASS, sharingWaysFor, withNvidiaRuntime } from '../manifests/gpu.js';
import { ANNOTATIONS, LABELS, MANAGED_BY } from '../manifests/labels.js';
import { applyObject, contextPhrase, deleteIfPresent, targetPhrase, deleteOptionsFor, kubeClients, orUndefined, type KubeClients } from '../k8s/client.js';
import { sleep } from '../k8s/streams.js';
import { jobStatusOf } from './status.js';
import { mlflowForJob } from '../addons/mlflow.js';
import { ensureLocalQueue, hasKueue } from '../addons/kueue.js';
import { findPrometheus } from '../addons/prometheus.js';
import { queuedJob } from '../manifests/kueue.js';
import { gpuClaimFor, withGpuClaim } from '../manifests/dra.js';
import { applyGpuClaim, draGpuProblem, draGpusByNode, ownedBy } from './dra-gpus.js';
import { WORK_MOUNT, hostUserIds, jobRunsDir, nodePathOf, runIdFor, runLogsDir, type SharedFolders } from '../workspace/layout.js';
import { createRun, latestRun, removeRun, type Run } from '../workspace/runs.js';
import { packagesRoot, resolvePackages, type ResolvedPackages } from '../packages/install.js';
import { mergeRequirements, notebookPipRequirements, parseInlineScriptMetadata, parseRequirementsText, withoutPipMagics } from '../packages/sources.js';
import { localRendezvousWarning } from './rendezvous-check.js';

/** How long a replaced Job may take to disappear (its pods get their termination grace period). */
const REPLACE_TIMEOUT_MS = 90_000;
/** Read beside the script for its packages. */
export const REQUIREMENTS_FILE = 'requirements.txt';

/** The code of a job: a folder on this machine, files given as content (a notebook cell), or both (a cell in its notebook's folder). */
export interface CodeSource {
  codeRoot?: string;
  files?: CodeFile[];
  /** Send hidden files and folders of the code folder too (left out by default: credentials live there). */
  includeHidden?: boolean;
}

export interface SubmitOptions {
  /** A local cluster's name and shared folders: the job gets a run folder there. Absent: a ConfigMap. */
  local?: { cluster: string; shared: SharedFolders };
  /** Start in the newest run folder of this job (same cluster and namespace): --from. */
  from?: string;
  /** Resolving packages, what stayed behind: lines for the user. */
  onProgress?: (line: string) => void;
}

async function scriptErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SpecError && /^script not found/.test(err.message)) {
      throw new SkiffError('SCRIPT_NOT_FOUND', err.message, { hint: 'pass the path of a Python file (relative to the code folder)', cause: err });
    }
    throw err;
  }
}

/** Submits a job: its code from a folder and/or as files. */
export async function submitJob(kc: KubeConfig, spec: JobSpec, code: CodeSource | string, opts: SubmitOptions = {}): Promise<JobStatus> {
  const cell = withCellPackages(spec, typeof code === 'string' ? { codeRoot: code } : code);
  spec = cell.spec;
  const source = cell.source;
  if (!opts.local) return submitJobFiles(kc, spec, await configMapCode(spec, source, opts.onProgress));
  return submitToWorkspace(kc, spec, source, opts.local, opts);
}

/** The code of a job whose code travels in a ConfigMap (any context but a local cluster): the folder's files, then those given. */
async function configMapCode(spec: JobSpec, source: CodeSource, onProgress?: (line: string) => void): Promise<CodeFile[]> {
  refuseLocalOnly(spec);
  const codeRoot = source.codeRoot;
  if (!codeRoot) return overlay([], source.files ?? []);
  const folder = await scriptErrors(() => scanCodeFolder(codeRoot, spec.script, { includeHidden: source.includeHidden }));
  const leftOut = leftOutText(folder.leftOut);
  if (leftOut) onProgress?.(leftOut);
  const files = overlay(await readCodeFolder(folder), source.files ?? []);
  const script = files.find((f) => f.path === spec.script);
  if (script && onProgress) warnOfLocalRendezvous(spec, script.content.toString('utf8'), onProgress);
  return files;
}

/** A multi-worker script that sets its own MASTER_ADDR to localhost would run alone in each pod: said before it runs. */
function warnOfLocalRendezvous(spec: JobSpec, scriptText: string, progress: (line: string) => void): void {
  if (spec.kind !== 'training' || spec.session) return;
  const warning = localRendezvousWarning(spec.script, scriptText, spec.workers);
  if (warning) progress(warning);
}

/** What `skiff --context X run --dry-run` prints: the objects submit would apply there, code in a ConfigMap. */
export async function renderRemoteJob(spec: JobSpec, code: CodeSource, opts: Pick<SubmitOptions, 'onProgress'> = {}): Promise<KubernetesObject[]> {
  const cell = withCellPackages(spec, code);
  return renderJobFiles(cell.spec, await configMapCode(cell.spec, cell.source, opts.onProgress));
}

/**
 * A script sent as content is a notebook's cell or cells: its `%pip install` lines become the
 * job's packages (installed before it starts) and plain `pass` lines in the script, so it runs as
 * Python and tracebacks keep their line numbers.
 */
export function withCellPackages(spec: JobSpec, source: CodeSource): { spec: JobSpec; source: CodeSource } {
  const script = source.files?.find((f) => f.path === spec.script);
  if (!script) return { spec, source };
  const text = script.content.toString('utf8');
  const requirements = notebookPipRequirements([text]);
  if (requirements.length === 0) return { spec, source };
  const files = source.files!.map((f) => (f === script ? { path: f.path, content: Buffer.from(withoutPipMagics(text), 'utf8') } : f));
  return { spec: { ...spec, packages: mergeRequirements(requirements, spec.packages ?? []) }, source: { ...source, files } };
}

/** Files given as content replace same-named files of the folder. */
function overlay(files: CodeFile[], extra: CodeFile[]): CodeFile[] {
  const given = new Set(extra.map((f) => f.path));
  return [...files.filter((f) => !given.has(f.path)), ...extra].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Packages and --data need the local cluster's shared folder; on other clusters promotion bakes them into an image. */
function refuseLocalOnly(spec: JobSpec): void {
  if (spec.packages?.length || spec.data?.length) {
    throw new SkiffError('BAD_INPUT', `${spec.packages?.length ? '--pip packages' : '--data folders'} need a local cluster made by \`skiff up\``, {
      hint: 'run the job locally, then `skiff promote` it: promotion bakes its packages into the image it pushes',
    });
  }
}

interface LocalCode {
  folder?: CodeFolder;
  extra: CodeFile[];
  scriptText: string;
  /** The folder the script sits in, on the host, for requirements.txt. */
  scriptDir?: string;
}

async function localCode(spec: JobSpec, source: CodeSource): Promise<LocalCode> {
  const extra = source.files ?? [];
  const given = extra.find((f) => f.path === spec.script);
  if (!source.codeRoot) {
    if (!given) throw scriptMissing(spec, extra.length);
    return { extra, scriptText: given.content.toString('utf8') };
  }
  const codeRoot = source.codeRoot;
  const folder = await scriptErrors(() => scanCodeFolder(codeRoot, given ? undefined : spec.script, { includeHidden: source.includeHidden }));
  const scriptPath = path.join(folder.root, ...spec.script.split('/'));
  const scriptText = given ? given.content.toString('utf8') : await readFile(scriptPath, 'utf8');
  return { folder, extra, scriptText, scriptDir: path.dirname(scriptPath) };
}

function scriptMissing(spec: JobSpec, count: number): SkiffError {
  return new SkiffError('SCRIPT_NOT_FOUND', `script ${spec.script} is not among the ${count} code files sent`, {
    hint: 'the script path must match one of the files, relative to the code folder',
  });
}

/** Every package the job asks for: requirements.txt beside the script, PEP 723 metadata in it, then --pip. */
export async function jobRequirements(spec: JobSpec, scriptText: string, scriptDir?: string): Promise<string[]> {
  const fromFile = scriptDir ? await readFile(path.join(scriptDir, REQUIREMENTS_FILE), 'utf8').catch(() => undefined) : undefined;
  return mergeRequirements(
    fromFile === undefined ? [] : parseRequirementsText(fromFile, REQUIREMENTS_FILE),
    parseInlineScriptMetadata(scriptText, spec.script) ?? [],
    spec.packages ?? [],
  );
}

/** --data folders as the nodes see them; each must exist and be shared with the cluster. */
export async function dataMounts(data: DataMount[], shared: SharedFolders): Promise<Workspace['data']> {
  const mounts: Workspace['data'] = [];
  for (const d of data) {
    const info = await stat(d.source).catch(() => undefined);
    if (!info?.isDirectory()) throw new SkiffError('BAD_INPUT', `--data folder not found: ${d.source}`, { hint: 'pass an existing folder on this machine' });
    const nodePath = nodePathOf(shared, await realpath(d.source));
    if (!nodePath) {
      throw new SkiffError(
        'BAD_INPUT',
        `--data folder ${d.source} is outside the folders the cluster shares with this machine (${[shared.home, shared.data].filter(Boolean).join(', ')})`,
        {
          hint: 'move or copy it under your home folder (symbolic links are resolved first)',
        },
      );
    }
    mounts.push({ nodePath, mountPath: d.target });
  }
  return mounts;
}

/** Everything a local job needs before its run folder is made: each a clear error before anything is written. */
interface LocalPlan {
  spec: JobSpec;
  code: LocalCode;
  requirements: string[];
  packages?: ResolvedPackages;
  data: Workspace['data'];
  from?: Run;
}

type Local = { cluster: string; shared: SharedFolders };

async function planLocalJob(spec: JobSpec, source: CodeSource, local: Local, opts: SubmitOptions): Promise<LocalPlan> {
  const progress = opts.onProgress ?? (() => {});
  const code = await localCode(spec, source);
  const leftOut = leftOutText(code.folder?.leftOut ?? []);
  if (leftOut) progress(leftOut);
  warnOfLocalRendezvous(spec, code.scriptText, progress);
  const requirements = await jobRequirements(spec, code.scriptText, code.scriptDir);
  const data = await dataMounts(spec.data ?? [], local.shared);
  const from = opts.from ? await latestRun(local.shared.data, local.cluster, spec.namespace, opts.from) : undefined;
  const packages = requirements.length > 0 ? await resolvePackages(requirements, { dataRoot: local.shared.data, image: spec.image, onProgress: progress }) : undefined;
  if (packages) progress(packagesText(packages));
  const plan: LocalPlan = { spec: requirements.length > 0 ? { ...spec, packages: requirements } : spec, code, requirements, data };
  if (packages) plan.packages = packages;
  if (from) plan.from = from;
  return plan;
}

async function submitToWorkspace(kc: KubeConfig, spec: JobSpec, source: CodeSource, local: Local, opts: SubmitOptions): Promise<JobStatus> {
  const plan = await planLocalJob(spec, source, local, opts);
  const run = await createRun({
    dataRoot: local.shared.data,
    cluster: local.cluster,
    namespace: spec.namespace,
    job: spec.name,
    script: spec.script,
    files: plan.code.folder?.files ?? [],
    extraFiles: plan.code.extra,
    from: plan.from?.dir,
    packages: plan.requirements,
  });
  if (plan.from) opts.onProgress?.(`starting from ${plan.from.dir}`);
  // A session's ranks mount the folder of every package set (a hostPath Directory must exist).
  if (plan.spec.kind === 'training' && plan.spec.session) await mkdir(packagesRoot(local.shared.data), { recursive: true });
  try {
    const ws = workspaceFor(run.dir, local.shared, plan);
    // The cluster's add-ons, asked together: MLflow gives the job an experiment; Prometheus scrapes
    // its pods; with Kueue a training job waits in its queue until every rank fits at once.
    const [mlflow, prometheus, queue] = await Promise.all([
      mlflowForJob(kc, { cluster: local.cluster, namespace: spec.namespace, name: spec.name, runId: path.basename(run.dir) }),
      findPrometheus(kc),
      plan.spec.kind === 'training' && hasKueue(kc),
    ]);
    if (mlflow) ws.mlflow = mlflow;
    if (prometheus) ws.metrics = true;
    const status = await applyJob(kc, plan.spec, [], { ws, where: targetPhrase({ cluster: local.cluster }), queue });
    return { ...status, workDir: run.dir };
  } catch (err) {
    await removeRun(run.dir);
    throw err;
  }
}

/**
 * What `skiff run --dry-run` prints on a local cluster: the objects submit would apply, with the run
 * folder it would make (nothing is copied or made; packages are resolved, into the cache, as submit would).
 */
export async function renderLocalJob(spec: JobSpec, code: CodeSource, local: Local, opts: SubmitOptions = {}): Promise<KubernetesObject[]> {
  const cell = withCellPackages(spec, code);
  const plan = await planLocalJob(cell.spec, cell.source, local, opts);
  const runDir = path.join(jobRunsDir(local.shared.data, local.cluster, spec.namespace, spec.name), runIdFor());
  return renderedObjects(renderJob(plan.spec, [], await pythonLibFiles(), workspaceFor(runDir, local.shared, plan)));
}

function workspaceFor(runDir: string, shared: SharedFolders, plan: Pick<LocalPlan, 'spec' | 'packages' | 'data'>): Workspace {
  const nodeDir = nodePathOf(shared, runDir);
  if (!nodeDir) throw new SkiffError('BAD_INPUT', `run folder ${runDir} is outside the cluster's shared folder ${shared.data}`);
  const ws: Workspace = { hostDir: runDir, nodeDir, data: plan.data.map((d) => ({ ...d, mountPath: path.posix.resolve(WORK_MOUNT, d.mountPath) })) };
  if (plan.packages) ws.packagesNodeDir = nodePathOf(shared, plan.packages.siteDir);
  if (plan.spec.kind === 'training' && plan.spec.session) ws.packageSetsNodeDir = nodePathOf(shared, packagesRoot(shared.data));
  ws.logsNodeDir = nodePathOf(shared, runLogsDir(runDir));
  const runAs = hostUserIds();
  if (runAs) ws.runAs = runAs;
  return ws;
}

/** What a resolved set brought, in one line for the user. */
export function packagesText(p: ResolvedPackages): string {
  const what = p.installed.length > 0 ? p.installed.map((d) => `${d.name} ${d.version}`).join(', ') : 'nothing new (the image has them all)';
  const shadow = p.shadowed.length > 0 ? `; replaces the image's ${p.shadowed.join(', ')}` : '';
  return `packages ${p.cached ? 'from the cache' : 'resolved'}: ${what}${shadow}`;
}

/** Everything a job consists of on the cluster, in the order it is applied. */
export interface RenderedJob {
  configMaps: V1ConfigMap[];
  /** The job's --env values (absent: it has none). */
  envSecret?: V1Secret;
  service: V1Service;
  owner: V1Job | V1Deployment;
}

/** The job's objects from its spec and code: pure, so `--dry-run` shows exactly what submit applies. */
export function renderJob(spec: JobSpec, files: CodeFile[], libFiles: CodeFile[], ws?: Workspace): RenderedJob {
  let rendered: RenderedJob;
  if (spec.kind === 'training') {
    const m = trainingManifests(spec, files, libFiles, {}, ws);
    rendered = { configMaps: m.configMaps, service: m.service, owner: m.job };
    if (m.envSecret) rendered.envSecret = m.envSecret;
  } else {
    const m = servingManifests(spec, files, libFiles, {}, ws);
    rendered = { configMaps: m.configMaps, service: m.service, owner: m.deployment };
    if (m.envSecret) rendered.envSecret = m.envSecret;
  }
  if (ws) rendered.owner.metadata = { ...rendered.owner.metadata, annotations: { ...rendered.owner.metadata?.annotations, [ANNOTATIONS.workDir]: ws.hostDir } };
  // A run folder is new on every submit, so its path alone rolls a Deployment's replicas.
  stampCodeHash(rendered.owner, [...files, ...libFiles, ...(ws ? [{ path: ws.nodeDir, content: Buffer.alloc(0) }] : [])]);
  return rendered;
}

/** The rendered objects as one list, ConfigMaps and Secret first (the order submit applies them in). */
export function renderedObjects(job: RenderedJob): KubernetesObject[] {
  return [...job.configMaps, ...(job.envSecret ? [job.envSecret] : []), job.service, job.owner];
}

/** What `skiff run --dry-run` prints: the job's objects for these files, with Skiff's Python helper. */
export async function renderJobFiles(spec: JobSpec, files: CodeFile[]): Promise<KubernetesObject[]> {
  if (!files.some((f) => f.path === spec.script)) throw new SkiffError('SCRIPT_NOT_FOUND', `script ${spec.script} is not among the code files`);
  return renderedObjects(renderJob(spec, files, await pythonLibFiles()));
}

/** Submits a job whose code is given as files (e.g. a notebook cell sent by an editor). */
export async function submitJobFiles(kc: KubeConfig, spec: JobSpec, files: CodeFile[]): Promise<JobStatus> {
  if (!files.some((f) => f.path === spec.script)) throw scriptMissing(spec, files.length);
  return applyJob(kc, spec, files);
}

/**
 * Renders and applies: the code in a ConfigMap (files) or in a run folder (ws). `where` names the
 * cluster in errors (default: the kubeconfig's context).
 */
async function applyJob(
  kc: KubeConfig,
  spec: JobSpec,
  files: CodeFile[],
  { ws, where = contextPhrase(kc), queue = false }: { ws?: Workspace; where?: string; queue?: boolean } = {},
): Promise<JobStatus> {
  const k = kubeClients(kc);
  const gpus = spec.gpusPerWorker > 0 ? await gpuPath(k, spec, where) : { nvidiaRuntime: false, dra: false };

  // Render before touching the cluster: a bundle that is too big fails without side effects.
  const rendered = renderJob(spec, files, await pythonLibFiles(), ws);
  if (gpus.nvidiaRuntime) withNvidiaRuntime(rendered.owner);
  const claim = gpus.dra ? gpuClaimFor(spec) : undefined;
  if (claim) withGpuClaim(rendered.owner, claim);
  if (queue && rendered.owner.kind === 'Job') rendered.owner = queuedJob(rendered.owner);

  // Independent first steps together (a delete in a namespace not yet made is simply a 404).
  await Promise.all([ensureNamespace(k, spec.namespace), removePrevious(k, spec), k.objects.learnResources(renderedObjects(rendered))]);
  if (queue) await ensureLocalQueue(kc, spec.namespace);
  // The code, the --env values and the Service first, together; then the owner, whose pods use them.
  const [secret] = await Promise.all([
    rendered.envSecret ? applyObject(k.objects, rendered.envSecret) : deleteStaleEnvSecret(k, spec),
    ...[...rendered.configMaps, rendered.service].map((o) => applyObject(k.objects, o)),
  ]);
  if (secret) stampEnvVersion(rendered.owner, secret);
  // The GPU claim before the owner, which Kueue reads it for (a queued job's GPUs are its claim's),
  // then made the owner's once it has a uid, so that deleting the job deletes it.
  if (claim) await applyGpuClaim(k, claim);
  const owner = await applyObject(k.objects, rendered.owner);
  if (claim) await applyGpuClaim(k, ownedBy(claim, { ...owner, apiVersion: rendered.owner.apiVersion, kind: rendered.owner.kind }));
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

/** A job resubmitted without --env drops the Secret of its last submit (Skiff's own only). */
async function deleteStaleEnvSecret(k: KubeClients, spec: JobSpec): Promise<undefined> {
  const secret = await orUndefined(k.core.readNamespacedSecret({ name: envSecretName(spec.name), namespace: spec.namespace }));
  if (secret && isJobsOwn(secret, spec.name)) {
    await deleteIfPresent(k.core.deleteNamespacedSecret({ name: envSecretName(spec.name), namespace: spec.namespace, body: deleteOptionsFor(secret) }));
  }
  return undefined;
}

const isJobsOwn = (obj: KubernetesObject, job: string) => obj.metadata?.labels?.[LABELS.managedBy] === MANAGED_BY && obj.metadata?.labels?.[LABELS.job] === job;

/** Pod-template annotation holding the resourceVersion of the job's --env Secret as applied. */
export const ENV_VERSION_ANNOTATION = 'skiff.dev/env-version';

/**
 * The values live in a Secret the template only names, so a new value would leave a Deployment's
 * replicas running with the old one. The Secret's resourceVersion, which changes only when its data
 * does, rolls them. Not a digest of the values: a short token could be guessed back from one.
 */
function stampEnvVersion(owner: V1Job | V1Deployment, secret: KubernetesObject): void {
  const template = owner.spec!.template;
  const version = secret.metadata?.resourceVersion;
  if (version) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [ENV_VERSION_ANNOTATION]: version } };
}

/** Node list -> total allocatable GPUs (a pure helper so the check is testable). */
export function allocatableGpus(nodes: V1Node[]): number {
  return nodes.reduce((sum, n) => {
    const q = n.status?.allocatable?.[GPU_RESOURCE];
    const count = q === undefined ? 0 : parseQuantity(q);
    return sum + (Number.isFinite(count) ? count : 0);
  }, 0);
}

/**
 * How the job's ranks get their GPUs here: claims on a DRA cluster, else the device plugin's
 * nvidia.com/gpu (under the NVIDIA runtime where the cluster has it). Refuses what can never be had.
 */
async function gpuPath(k: KubeClients, spec: JobSpec, where: string): Promise<{ nvidiaRuntime: boolean; dra: boolean }> {
  const draGpus = await draGpusByNode(k);
  if (draGpus) {
    const problem = draGpuProblem(spec, draGpus, where);
    if (problem) throw problem;
    return { nvidiaRuntime: false, dra: true };
  }
  const [nvidiaRuntime] = await Promise.all([hasNvidiaRuntime(k), assertGpus(k, spec, where)]);
  return { nvidiaRuntime, dra: false };
}

async function assertGpus(k: KubeClients, spec: JobSpec, where: string): Promise<void> {
  const nodes = (await k.core.listNode()).items;
  if (allocatableGpus(nodes) === 0) {
    const n = spec.gpusPerWorker;
    const asked = spec.gpuShare !== undefined ? `${spec.gpuShare} of a GPU` : `${n} GPU${n === 1 ? '' : 's'}`;
    throw new SkiffError('NO_GPU', `this job asks for ${asked} per worker but ${where} has no GPUs`, {
      hint: 'run `skiff up --profile fake-gpu` (or gpu on an NVIDIA machine), or drop --gpus-per-worker',
    });
  }
  const problem = spec.gpuShare === undefined ? undefined : gpuShareProblem(spec.gpuShare, nodes, where);
  if (problem) throw problem;
}

/**
 * Why a job asking `share` of a GPU per worker cannot have it on these nodes, or undefined. A share
 * is one time-slice of a GPU shared 2 to 1/share ways (sharingWaysFor), never a whole GPU taken
 * quietly nor a slice smaller than asked.
 */
export function gpuShareProblem(share: number, nodes: V1Node[], where: string): SkiffError | undefined {
  const ways = gpuSharingWays(nodes);
  const fits = sharingWaysFor(share);
  if (ways.some((w) => fits.includes(w))) return undefined;
  const suggest = fits.at(-1) ?? 2;
  if (ways.every((w) => w === 1)) {
    return new SkiffError('BAD_INPUT', `this job asks for ${share} of a GPU per worker, but the GPUs of ${where} are not shared, so it would hold a whole one`, {
      hint: `share them with \`skiff up --gpu-sharing ${suggest}\` (a fake-gpu cluster changes in place), or ask for a whole GPU with --gpus-per-worker 1`,
    });
  }
  const finest = ways.at(-1)!;
  return new SkiffError(
    'BAD_INPUT',
    `this job asks for ${share} of a GPU per worker, but ${where} shares each GPU ${ways.join(' or ')} ways, so a slice is 1/${finest}, less than asked`,
    {
      hint: `ask --gpu-share ${Math.floor((1 / finest) * 100) / 100} or less, or share the GPUs ${suggest} ways (\`skiff up --gpu-sharing ${suggest}\`)`,
    },
  );
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
  const [job, deployment, service, secret] = await Promise.all([
    orUndefined(k.batch.readNamespacedJob({ name, namespace })),
    orUndefined(k.apps.readNamespacedDeployment({ name, namespace })),
    orUndefined(k.core.readNamespacedService({ name, namespace })),
    Object.keys(spec.env).length > 0 ? orUndefined(k.core.readNamespacedSecret({ name: envSecretName(name), namespace })) : undefined,
  ]);
  // Only what Skiff made is replaced: a same-named object of someone else's is an error, not a casualty.
  const objects = [
    ['Job', job, name],
    ['Deployment', deployment, name],
    ['Service', service, name],
    ['Secret', secret, envSecretName(name)],
  ] as const;
  for (const [kind, obj, objName] of objects) {
    if (obj && obj.metadata?.labels?.[LABELS.managedBy] !== MANAGED_BY) {
      throw new SkiffError('BAD_INPUT', `a ${kind} named '${objName}' already exists in namespace '${namespace}' and Skiff did not make it`, {
        hint: 'pick another --name (Skiff never deletes what it did not create)',
      });
    }
  }
  const body = (o: KubernetesObject) => deleteOptionsFor(o, propagationPolicy);
  const [removedJob, removedDeployment] = await Promise.all([
    job ? deleteIfPresent(k.batch.deleteNamespacedJob({ name, namespace, propagationPolicy, body: body(job) })) : false,
    deployment && spec.kind === 'training' ? deleteIfPresent(k.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy, body: body(deployment) })) : false,
  ]);
  const kindChanged = (spec.kind === 'training' && removedDeployment) || (spec.kind === 'serving' && removedJob);
  if (kindChanged && service) await deleteIfPresent(k.core.deleteNamespacedService({ name, namespace, body: body(service) }));
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
