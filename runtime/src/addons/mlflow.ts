// MLflow on a local cluster: installing the tracking server (`skiff up --with mlflow`), and what a
// job needs from it: an experiment of its own, made before its pods start, and its runs read back
// for `skiff describe`. Skiff talks to the server through the API server's service proxy, as
// `skiff call` does: no port-forward, nothing to keep open.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { applyObject, kubeClients, kubeRequest, orUndefined } from '../k8s/client.js';
import { waitForServer } from './wait.js';
import { ADDONS_NAMESPACE, MLFLOW_NAME, MLFLOW_PORT, MLFLOW_SITE_ANNOTATION, MLFLOW_VERSION, jobArtifactsDir, mlflowManifests, mlflowStoreDir } from '../manifests/mlflow.js';
import { experimentNameFor, type MlflowForJob } from '../manifests/mlflow-env.js';
import { resolvePackages } from '../packages/install.js';
import { DEFAULT_NAMESPACE } from '../spec/job-spec.js';
import { hostUserIds, nodePathOf, type SharedFolders } from '../workspace/layout.js';
import { serviceProxyPath } from '../jobs/call.js';

const CALL_TIMEOUT_MS = 30_000;
/** Where `skiff ui mlflow` serves the UI by default (MLflow's own default port). */
export const MLFLOW_UI_PORT = MLFLOW_PORT;

export const mlflowMissing = (cluster: string) =>
  new SkiffError('ADDON_MISSING', `MLflow is not installed on cluster '${cluster}'`, { hint: `install it with \`skiff up --cluster ${cluster} --with mlflow\`` });

export interface InstallOptions {
  cluster: string;
  shared: SharedFolders;
  image: string;
  /** Loads an image from the local Docker engine onto the cluster's nodes. */
  loadImage(image: string): Promise<void>;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/** Installs (or updates) the tracking server and waits until it answers. */
export async function installMlflow(kc: KubeConfig, opts: InstallOptions): Promise<void> {
  const say = opts.onProgress ?? (() => {});
  const packages = await resolvePackages([`mlflow==${MLFLOW_VERSION}`], { dataRoot: opts.shared.data, image: opts.image, onProgress: say });
  const siteNodeDir = nodePathOf(opts.shared, packages.siteDir);
  if (!siteNodeDir) throw new SkiffError('BAD_INPUT', `MLflow's packages ${packages.siteDir} are outside the cluster's shared folder ${opts.shared.data}`);
  // Made here, as the user: a hostPath the kubelet made would belong to root.
  await mkdir(path.join(opts.shared.data, mlflowStoreDir(opts.cluster), 'artifacts'), { recursive: true });
  const m = mlflowManifests({ cluster: opts.cluster, image: opts.image, siteNodeDir, runAs: hostUserIds() });
  const { objects } = kubeClients(kc);
  say(`installing MLflow ${MLFLOW_VERSION} (namespace ${ADDONS_NAMESPACE})`);
  for (const obj of [m.namespace, m.service, m.deployment]) await applyObject(objects, obj);
  await waitForServer(kc, { cluster: opts.cluster, title: 'MLflow', name: MLFLOW_NAME, signal: opts.signal });
  say('MLflow is ready');
}

/** The installed server's Deployment, or undefined when the cluster has no MLflow. */
export async function findMlflow(kc: KubeConfig): Promise<V1Deployment | undefined> {
  return orUndefined(kubeClients(kc).apps.readNamespacedDeployment({ name: MLFLOW_NAME, namespace: ADDONS_NAMESPACE }));
}

/** One call to the tracking server's REST API (MLflow's /api/2.0/mlflow/...), its JSON answer or a plain error. */
async function mlflowCall<T>(kc: KubeConfig, cluster: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await kubeRequest(kc, {
    method,
    path: serviceProxyPath(ADDONS_NAMESPACE, MLFLOW_NAME, `/api/2.0/mlflow/${route}`),
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    timeoutMs: CALL_TIMEOUT_MS,
  });
  const text = res.body.toString('utf8');
  let json: T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    throw new SkiffError('COMMAND_FAILED', `MLflow on cluster '${cluster}' did not answer ${route} (HTTP ${res.status}: ${text.slice(0, 200)})`, {
      hint: `see \`kubectl --context kind-${cluster} -n ${ADDONS_NAMESPACE} logs deploy/${MLFLOW_NAME}\`; \`skiff up --with mlflow\` repairs it`,
    });
  }
  return { status: res.status, json };
}

/** The experiment's id, or undefined when MLflow has none by that name. */
async function experimentId(kc: KubeConfig, cluster: string, name: string): Promise<string | undefined> {
  const found = await mlflowCall<{ experiment?: { experiment_id: string } }>(kc, cluster, 'GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
  return found.json.experiment?.experiment_id;
}

/** The experiment's id, made when it is missing with its artifacts in `artifactLocation`. */
async function ensureExperiment(kc: KubeConfig, cluster: string, name: string, artifactLocation: string): Promise<string> {
  const found = await experimentId(kc, cluster, name);
  if (found) return found;
  const made = await mlflowCall<{ experiment_id?: string; message?: string }>(kc, cluster, 'POST', 'experiments/create', { name, artifact_location: artifactLocation });
  if (made.status === 200 && made.json.experiment_id) return made.json.experiment_id;
  // Another submit of the same job made it meanwhile.
  const again = await experimentId(kc, cluster, name);
  if (again) return again;
  throw new SkiffError('COMMAND_FAILED', `MLflow refused to make experiment '${name}': ${made.json.message ?? `HTTP ${made.status}`}`);
}

/**
 * What a job gets from the cluster's MLflow: undefined when there is none. The job's experiment is
 * made first, so its artifacts land in the job's runs folder on the host (beside its run folders).
 */
export async function mlflowForJob(kc: KubeConfig, job: { cluster: string; namespace: string; name: string; runId: string }): Promise<MlflowForJob | undefined> {
  const server = await findMlflow(kc);
  const siteNodeDir = server?.metadata?.annotations?.[MLFLOW_SITE_ANNOTATION];
  if (!siteNodeDir) return undefined;
  const experiment = experimentNameFor(job.name, job.namespace, DEFAULT_NAMESPACE);
  await ensureExperiment(kc, job.cluster, experiment, `mlflow-artifacts:/${jobArtifactsDir(job.cluster, job.namespace, job.name)}`);
  return { siteNodeDir, experiment, tags: { 'skiff.job': job.name, 'skiff.namespace': job.namespace, 'skiff.run': job.runId } };
}

export interface MlflowRun {
  runId: string;
  name: string;
  status: string;
  /** The latest value of each metric. */
  metrics: Record<string, number>;
  /** The run in MLflow's UI once `skiff ui mlflow` serves it on its default port. */
  url: string;
}

export interface JobMlflow {
  experiment: string;
  experimentId?: string;
  /** The runs the job's run folder started (tagged skiff.run), oldest first. */
  runs: MlflowRun[];
  /** Why the runs could not be read (the server not answering): the job itself is unaffected. */
  problem?: string;
}

/** The MLflow runs of one run of a job, or undefined when the cluster has no MLflow or the job no experiment. */
export async function jobMlflowRuns(kc: KubeConfig, job: { cluster: string; namespace: string; name: string; runId: string }): Promise<JobMlflow | undefined> {
  if (!(await findMlflow(kc))) return undefined;
  const experiment = experimentNameFor(job.name, job.namespace, DEFAULT_NAMESPACE);
  try {
    return await readJobRuns(kc, job, experiment);
  } catch (err) {
    return { experiment, runs: [], problem: err instanceof Error ? err.message : String(err) };
  }
}

async function readJobRuns(kc: KubeConfig, job: { cluster: string; runId: string }, experiment: string): Promise<JobMlflow | undefined> {
  const id = await experimentId(kc, job.cluster, experiment);
  if (!id) return undefined;
  type Found = { runs?: { info: { run_id: string; run_name?: string; status: string; start_time?: number }; data?: { metrics?: { key: string; value: number }[] } }[] };
  const search = await mlflowCall<Found>(kc, job.cluster, 'POST', 'runs/search', {
    experiment_ids: [id],
    filter: `tags.\`skiff.run\` = '${job.runId.replace(/'/g, '')}'`,
    order_by: ['attributes.start_time ASC'],
    max_results: 100,
  });
  const runs = (search.json.runs ?? []).map((r) => ({
    runId: r.info.run_id,
    name: r.info.run_name ?? r.info.run_id,
    status: r.info.status,
    metrics: Object.fromEntries((r.data?.metrics ?? []).map((m) => [m.key, m.value])),
    url: `http://127.0.0.1:${MLFLOW_UI_PORT}/#/experiments/${id}/runs/${r.info.run_id}`,
  }));
  return { experiment, experimentId: id, runs };
}
