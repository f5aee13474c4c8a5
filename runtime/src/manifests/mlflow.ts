// MLflow's tracking server as a local cluster's add-on (`skiff up --with mlflow`): a Deployment of
// the job image with MLflow's resolved package set on PYTHONPATH (resolved on the host, like a
// job's packages, so nothing in the cluster reaches the package index), its store and artifacts in
// the host's data folder. It carries the labels of a serving job named `mlflow`, so `skiff ui
// mlflow` forwards to it the way `skiff forward` does to any serving job.
import type { V1Deployment, V1EnvVar, V1Namespace, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { LABELS, MANAGED_BY } from './labels.js';
import { HTTP_PORT_NAME } from './serving.js';
import { NODE_DATA_DIR } from '../workspace/layout.js';
import { ADDONS_NAMESPACE, MLFLOW_NAME, MLFLOW_PORT, MLFLOW_SITE_MOUNT } from './mlflow-env.js';

export { ADDONS_NAMESPACE, MLFLOW_NAME, MLFLOW_PORT } from './mlflow-env.js';

/** Pinned: the server and every job's client are this version, resolved once per job image. */
export const MLFLOW_VERSION = '3.17.2';
/** The label every add-on's objects carry, with its name. */
export const ADDON_LABEL = 'skiff.dev/addon';
/** On the Deployment: the package set's site folder as the nodes see it, which jobs mount too. */
export const MLFLOW_SITE_ANNOTATION = 'skiff.dev/mlflow-site';

/** The store and the artifacts of experiments made outside Skiff, under the data folder (host-relative). */
export const mlflowStoreDir = (cluster: string) => `addons/${cluster}/mlflow`;

/**
 * Where MLflow's artifacts go, relative to the data folder (the server's --artifacts-destination):
 * a job's experiment keeps them in the job's own runs folder, beside its run folders.
 */
export const jobArtifactsDir = (cluster: string, namespace: string, job: string) => `runs/${cluster}/${namespace}/${job}/mlflow`;

export interface MlflowServer {
  cluster: string;
  image: string;
  /** The resolved package set's site folder as the nodes see it. */
  siteNodeDir: string;
  /** The host user's ids, so the store and artifacts are theirs (absent when that is root). */
  runAs?: { uid: number; gid: number };
}

/**
 * Host names the server answers to. MLflow refuses others (its guard against DNS rebinding): the
 * Service's names for jobs, 127.0.0.1 for `skiff ui mlflow`, and pod IPs (10.*) for the API
 * server's proxy, through which Skiff itself calls it.
 */
const ALLOWED_HOSTS = [`${MLFLOW_NAME}.${ADDONS_NAMESPACE}*`, 'localhost', 'localhost:*', '127.0.0.1', '127.0.0.1:*', '10.*'];

const addonLabels = { [LABELS.managedBy]: MANAGED_BY, [LABELS.job]: MLFLOW_NAME, [LABELS.kind]: 'serving', [ADDON_LABEL]: MLFLOW_NAME };

export function mlflowManifests(server: MlflowServer): { namespace: V1Namespace; deployment: V1Deployment; service: V1Service } {
  const data = NODE_DATA_DIR;
  const store = `${data}/${mlflowStoreDir(server.cluster)}`;
  const command = [
    'python3',
    '-m',
    'mlflow',
    'server',
    '--host=0.0.0.0',
    `--port=${MLFLOW_PORT}`,
    `--backend-store-uri=sqlite:///${store}/mlflow.db`,
    // Artifacts go through the server (clients need no file access): experiments say where.
    '--serve-artifacts',
    `--artifacts-destination=${data}`,
    `--default-artifact-root=mlflow-artifacts:/${mlflowStoreDir(server.cluster)}/artifacts`,
    `--allowed-hosts=${ALLOWED_HOSTS.join(',')}`,
    '--workers=1',
  ];
  const env: V1EnvVar[] = [
    { name: 'PYTHONPATH', value: MLFLOW_SITE_MOUNT },
    // The host user has no home in the image.
    { name: 'HOME', value: '/tmp' },
    { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
    // MLflow 3's job runner (GenAI scoring jobs, not tracking) starts consumer processes that
    // took the server past 1 GiB at start: tracking does not need it.
    { name: 'MLFLOW_SERVER_ENABLE_JOB_EXECUTION', value: 'false' },
  ];
  const volumes: V1Volume[] = [
    { name: 'mlflow-site', hostPath: { path: server.siteNodeDir, type: 'Directory' } },
    { name: 'data', hostPath: { path: data, type: 'Directory' } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'mlflow-site', mountPath: MLFLOW_SITE_MOUNT, readOnly: true },
    { name: 'data', mountPath: data },
  ];
  const metadata = { name: MLFLOW_NAME, namespace: ADDONS_NAMESPACE, labels: addonLabels };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...metadata, annotations: { [MLFLOW_SITE_ANNOTATION]: server.siteNodeDir, 'skiff.dev/addon-version': MLFLOW_VERSION } },
    spec: {
      replicas: 1,
      // One SQLite store: never two servers writing it.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { [LABELS.job]: MLFLOW_NAME } },
      template: {
        metadata: { labels: addonLabels },
        spec: {
          ...(server.runAs ? { securityContext: { runAsUser: server.runAs.uid, runAsGroup: server.runAs.gid } } : {}),
          containers: [
            {
              name: MLFLOW_NAME,
              image: server.image,
              imagePullPolicy: 'IfNotPresent',
              command,
              env,
              ports: [{ name: HTTP_PORT_NAME, containerPort: MLFLOW_PORT, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/health', port: HTTP_PORT_NAME }, periodSeconds: 2, failureThreshold: 3 },
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '2Gi' } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { selector: { [LABELS.job]: MLFLOW_NAME }, ports: [{ name: HTTP_PORT_NAME, port: MLFLOW_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }] },
  };
  return { namespace: addonsNamespace(), deployment, service };
}

/** The namespace every add-on's server runs in. */
export function addonsNamespace(): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ADDONS_NAMESPACE, labels: { [LABELS.managedBy]: MANAGED_BY } } };
}
