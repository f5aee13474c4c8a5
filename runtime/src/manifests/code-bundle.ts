// The user's code travels in a ConfigMap and is mounted into a stock image, so submitting a job
// never builds or pushes an image. The same goes for Skiff's own Python helper (the "lib").
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1ContainerPort, V1EnvVar, V1KeyToPath, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import { SpecError, parseQuantity, type JobSpec } from '../spec/job-spec.js';
import { supportObjectMeta, type ManifestMeta } from './labels.js';
import { envFromSecret } from './env-secret.js';
import { LOGS_MOUNT, PACKAGE_SETS_MOUNT, PACKAGES_MOUNT, WORK_MOUNT } from '../workspace/layout.js';
import { MLFLOW_SITE_MOUNT, mlflowEnv, type MlflowForJob } from './mlflow-env.js';

export const CODE_MOUNT = '/skiff/code';
export const LIB_MOUNT = '/skiff/lib';
export const SHM_MOUNT = '/dev/shm';
/** A ConfigMap object is capped at 1 MiB by etcd; leave room for metadata and keys. */
export const MAX_BUNDLE_BYTES = 900 * 1024;
/** Skiff's Python package lives under this folder of the lib mount, so PYTHONPATH=LIB_MOUNT imports it. */
export const LIB_PACKAGE_DIR = 'skiff';

export const VOLUMES = {
  code: 'code',
  work: 'work',
  packages: 'packages',
  packageSets: 'package-sets',
  logs: 'logs',
  mlflow: 'mlflow-site',
  lib: 'skiff-lib',
  shm: 'dshm',
} as const;

/**
 * A job whose files live in a local cluster's shared folder rather than a ConfigMap: its run folder
 * (a snapshot of the code that the job may write to, shared by every rank, kept on the host) and
 * the resolved packages, both as hostPath volumes.
 */
export interface Workspace {
  /** Host path of the run folder (recorded on the job for `skiff outputs` and promotion). */
  hostDir: string;
  /** The run folder as every node sees it. */
  nodeDir: string;
  /** The resolved packages' site folder as the nodes see it. */
  packagesNodeDir?: string;
  /** The folder of every resolved package set as the nodes see it: a notebook session's, for live `%pip` (PACKAGE_SETS_MOUNT). */
  packageSetsNodeDir?: string;
  /** Where the pods keep their output, as the nodes see it (see runLogsDir). */
  logsNodeDir?: string;
  /** `--data` folders: read-only, at mountPath in every container. */
  data: { nodePath: string; mountPath: string }[];
  /** The host user's ids, so that what the job writes is theirs (absent when that is root). */
  runAs?: { uid: number; gid: number };
  /** The cluster's MLflow, when it has the add-on: the job logs to an experiment of its own. */
  mlflow?: MlflowForJob;
  /** The cluster has Prometheus: each pod's launcher serves its records and usage for scraping. */
  metrics?: boolean;
}

/** Where the script's folder is inside the container. */
export const codeDirOf = (ws?: Workspace) => (ws ? WORK_MOUNT : CODE_MOUNT);

export const codeConfigMapName = (spec: JobSpec) => `${spec.name}-code`;
export const libConfigMapName = (spec: JobSpec) => `${spec.name}-lib`;

const MAX_KEY_LENGTH = 253;

/**
 * ConfigMap keys allow only [-._a-zA-Z0-9]. '/' becomes "__" and every other byte "_XX" (hex), so
 * '_' always starts an escape and the encoding is reversible; keys must also not start with "..".
 * Over-long keys fall back to a hash: the volume items carry the real path anyway.
 */
export function configMapKeyFor(filePath: string): string {
  let key = '';
  for (const byte of Buffer.from(filePath, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '/') key += '__';
    else if (/^[-.a-zA-Z0-9]$/.test(ch)) key += ch;
    else key += '_' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  if (key.startsWith('..') || key === '.') key = '_2E' + key.slice(1);
  if (key.length > MAX_KEY_LENGTH) key = 'h-' + createHash('sha256').update(filePath).digest('hex');
  return key;
}

function assertRelativePath(file: CodeFile): void {
  const parts = file.path.split('/');
  if (file.path === '' || file.path.startsWith('/') || parts.some((p) => p === '..' || p === '' || p === '.')) {
    throw new SpecError(`code file path must be relative and normalized (got '${file.path}')`, 'script');
  }
}

/** Bytes a file costs inside the ConfigMap: text as is, binary as base64. */
export function encodedSize(file: CodeFile): number {
  return isUtf8(file.content) ? file.content.length : Math.ceil(file.content.length / 3) * 4;
}

const kib = (n: number) => `${Math.round(n / 1024)} KiB`;

/** The SpecError for a bundle that cannot fit, naming the files that cost the most. */
export function bundleTooBigError(sizes: { path: string; bytes: number }[]): SpecError {
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
  const biggest = [...sizes]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5)
    .map((s) => `${s.path} (${kib(s.bytes)})`)
    .join(', ');
  return new SpecError(
    `the code folder is ${kib(total)}, more than the ${kib(MAX_BUNDLE_BYTES)} Skiff can ship in a ConfigMap; biggest files: ${biggest}. ` +
      `Move data and checkpoints out of the code folder (download or mount them from the script), or bake the code into an image and pass --image`,
    'script',
  );
}

function bundleConfigMap(spec: JobSpec, name: string, files: CodeFile[], meta: ManifestMeta): V1ConfigMap {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const sizes: { path: string; bytes: number }[] = [];
  for (const file of files) {
    assertRelativePath(file);
    const key = configMapKeyFor(file.path);
    if (isUtf8(file.content)) data[key] = file.content.toString('utf8');
    else binaryData[key] = file.content.toString('base64');
    sizes.push({ path: file.path, bytes: encodedSize(file) + key.length });
  }
  if (sizes.reduce((sum, s) => sum + s.bytes, 0) > MAX_BUNDLE_BYTES) throw bundleTooBigError(sizes);
  const cm: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: supportObjectMeta(spec, name, meta), data };
  if (Object.keys(binaryData).length > 0) cm.binaryData = binaryData;
  return cm;
}

/** The user's code as `${spec.name}-code`; throws SpecError when it cannot fit. */
export function codeConfigMap(spec: JobSpec, files: CodeFile[], meta: ManifestMeta = {}): V1ConfigMap {
  return bundleConfigMap(spec, codeConfigMapName(spec), files, meta);
}

/** Volume items that put every key back at its original path under the mount. */
export function codeVolumeItems(files: CodeFile[]): { key: string; path: string }[] {
  return files.map((f) => ({ key: configMapKeyFor(f.path), path: f.path }));
}

/** Lib files as they sit under LIB_MOUNT: always inside the `skiff/` package folder. */
export function libFilesInPackage(pythonFiles: CodeFile[]): CodeFile[] {
  return pythonFiles.map((f) => (f.path.startsWith(`${LIB_PACKAGE_DIR}/`) ? f : { ...f, path: `${LIB_PACKAGE_DIR}/${f.path}` }));
}

/** Skiff's Python helper as `${spec.name}-lib`, versioned with the job that uses it. */
export function libConfigMap(spec: JobSpec, pythonFiles: CodeFile[], meta: ManifestMeta = {}): V1ConfigMap {
  return bundleConfigMap(spec, libConfigMapName(spec), libFilesInPackage(pythonFiles), meta);
}

export function libVolumeItems(pythonFiles: CodeFile[]): { key: string; path: string }[] {
  return codeVolumeItems(libFilesInPackage(pythonFiles));
}

/** Code, lib and a memory-backed /dev/shm (the 64 MiB default breaks DataLoader workers and gloo). */
export function jobVolumes(spec: JobSpec, files: CodeFile[], libFiles: CodeFile[], ws?: Workspace): V1Volume[] {
  const items = (list: { key: string; path: string }[]): V1KeyToPath[] => list;
  const code: V1Volume[] = ws
    ? [
        { name: VOLUMES.work, hostPath: { path: ws.nodeDir, type: 'Directory' } },
        ...(ws.packagesNodeDir ? [{ name: VOLUMES.packages, hostPath: { path: ws.packagesNodeDir, type: 'Directory' } }] : []),
        ...(ws.packageSetsNodeDir ? [{ name: VOLUMES.packageSets, hostPath: { path: ws.packageSetsNodeDir, type: 'Directory' } }] : []),
        ...(keepsLogs(spec, ws) ? [{ name: VOLUMES.logs, hostPath: { path: ws.logsNodeDir, type: 'Directory' } }] : []),
        ...(ws.mlflow ? [{ name: VOLUMES.mlflow, hostPath: { path: ws.mlflow.siteNodeDir, type: 'Directory' } }] : []),
        ...ws.data.map((d, i) => ({ name: dataVolumeName(i), hostPath: { path: d.nodePath, type: 'Directory' } })),
      ]
    : [{ name: VOLUMES.code, configMap: { name: codeConfigMapName(spec), items: items(codeVolumeItems(files)) } }];
  return [
    ...code,
    { name: VOLUMES.lib, configMap: { name: libConfigMapName(spec), items: items(libVolumeItems(libFiles)) } },
    { name: VOLUMES.shm, emptyDir: { medium: 'Memory' } },
  ];
}

const dataVolumeName = (index: number) => `data-${index}`;

export function jobVolumeMounts(spec: JobSpec, ws?: Workspace): V1VolumeMount[] {
  const code: V1VolumeMount[] = ws
    ? [
        { name: VOLUMES.work, mountPath: WORK_MOUNT },
        ...(ws.packagesNodeDir ? [{ name: VOLUMES.packages, mountPath: PACKAGES_MOUNT, readOnly: true }] : []),
        ...(ws.packageSetsNodeDir ? [{ name: VOLUMES.packageSets, mountPath: PACKAGE_SETS_MOUNT, readOnly: true }] : []),
        ...(keepsLogs(spec, ws) ? [{ name: VOLUMES.logs, mountPath: LOGS_MOUNT }] : []),
        ...(ws.mlflow ? [{ name: VOLUMES.mlflow, mountPath: MLFLOW_SITE_MOUNT, readOnly: true }] : []),
        ...ws.data.map((d, i) => ({ name: dataVolumeName(i), mountPath: d.mountPath, readOnly: true })),
      ]
    : [{ name: VOLUMES.code, mountPath: CODE_MOUNT, readOnly: true }];
  return [...code, { name: VOLUMES.lib, mountPath: LIB_MOUNT, readOnly: true }, { name: VOLUMES.shm, mountPath: SHM_MOUNT }];
}

/** The host user's ids on the pod, so files written to the run folder are theirs. */
export function workspaceSecurityContext(ws?: Workspace): { runAsUser: number; runAsGroup: number } | undefined {
  return ws?.runAs ? { runAsUser: ws.runAs.uid, runAsGroup: ws.runAs.gid } : undefined;
}

/**
 * Whether the job's pods keep their output on the host: those of a run folder that run a script
 * under the launcher (a notebook session's ranks run the cell agent, whose outputs go to the cells).
 */
export function keepsLogs(spec: JobSpec, ws?: Workspace): ws is Workspace & { logsNodeDir: string } {
  return Boolean(ws?.logsNodeDir) && !(spec.kind === 'training' && spec.session);
}

/** `python3 -m skiff.launch` waits for rendezvous DNS, then runs the script as __main__. */
/** A notebook session's ranks listen here for cells (runtime/python/skiff/agent.py); far from ports scripts pick. */
export const AGENT_PORT = 47077;
export const AGENT_PORT_NAME = 'agent';
/** Where the launcher serves a pod's metrics for Prometheus (runtime/python/skiff/exporter.py); the scrape finds it by name. */
export const METRICS_PORT = 47078;
export const METRICS_PORT_NAME = 'skiff-metrics';

/** Whether the pods serve metrics, on a cluster with Prometheus: the supervisor that keeps a script's logs does, and a session's agent. */
export function servesMetrics(spec: JobSpec, ws?: Workspace): boolean {
  return Boolean(ws?.metrics) && (keepsLogs(spec, ws) || (spec.kind === 'training' && !!spec.session));
}

/** The container port Prometheus scrapes, where the pods serve metrics. */
export function metricsPorts(spec: JobSpec, ws?: Workspace): V1ContainerPort[] {
  return servesMetrics(spec, ws) ? [{ name: METRICS_PORT_NAME, containerPort: METRICS_PORT, protocol: 'TCP' }] : [];
}

export function launchCommand(spec: JobSpec, ws?: Workspace): string[] {
  if (spec.kind === 'training' && spec.session) {
    return ['python3', '-u', '-m', 'skiff.agent', '--port', String(AGENT_PORT), '--idle-minutes', String(spec.session.idleMinutes)];
  }
  return ['python3', '-u', '-m', 'skiff.launch', `${codeDirOf(ws)}/${spec.script}`, ...spec.args];
}

/** Holds the user's --env PYTHONPATH, which PYTHONPATH then appends to Skiff's own. */
const USER_PYTHONPATH = 'SKIFF_USER_PYTHONPATH';

/**
 * Environment every Skiff pod gets, followed by the user's. A user PYTHONPATH is appended to the
 * lib mount rather than replacing it; OMP_NUM_THREADS follows --cpu because torch otherwise starts
 * one thread per node core and thrashes under the CPU limit.
 */
export function jobEnv(spec: JobSpec, ws?: Workspace): V1EnvVar[] {
  const { PYTHONPATH: userPythonPath, ...user } = spec.env;
  // Packages sit at PACKAGES_MOUNT in a run folder's pods and in a promoted image alike.
  // MLflow's client comes after the job's own packages, so a version the job asks for wins.
  const skiffPath = [LIB_MOUNT, ...(ws?.packagesNodeDir || spec.packages?.length ? [PACKAGES_MOUNT] : []), ...(ws?.mlflow ? [MLFLOW_SITE_MOUNT] : [])].join(':');
  const env: V1EnvVar[] = [
    // Kubernetes expands $(VAR) from variables listed before: the user's part comes from the Secret.
    ...(userPythonPath !== undefined ? [envFromSecret(spec, USER_PYTHONPATH, 'PYTHONPATH')] : []),
    { name: 'PYTHONPATH', value: userPythonPath !== undefined ? `${skiffPath}:$(${USER_PYTHONPATH})` : skiffPath },
    { name: 'PYTHONUNBUFFERED', value: '1' },
    // The code mount may be read-only, and __pycache__ folders would litter the job's outputs.
    { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
    { name: 'SKIFF_JOB', value: spec.name },
  ];
  if (ws) env.push({ name: 'SKIFF_WORK_DIR', value: WORK_MOUNT });
  // The user's own MLFLOW_* values win (they point the job elsewhere).
  if (ws?.mlflow) env.push(...mlflowEnv(ws.mlflow).filter((e) => !(e.name in user)));
  if (keepsLogs(spec, ws)) {
    // The launcher keeps the output there under the pod's name, with what ran it and how it ended.
    env.push(
      { name: 'SKIFF_LOG_DIR', value: LOGS_MOUNT },
      { name: 'SKIFF_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'SKIFF_POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'SKIFF_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    );
  }
  if (servesMetrics(spec, ws)) env.push({ name: 'SKIFF_METRICS_PORT', value: String(METRICS_PORT) });
  // A host user's id has no home in the image; caches (torch, matplotlib) go to /tmp instead of failing.
  if (ws?.runAs && !('HOME' in user)) env.push({ name: 'HOME', value: '/tmp' });
  const cpu = spec.resources.cpu ? parseQuantity(spec.resources.cpu) : NaN;
  if (Number.isFinite(cpu) && !('OMP_NUM_THREADS' in user)) {
    env.push({ name: 'OMP_NUM_THREADS', value: String(Math.max(1, Math.floor(cpu))) });
  }
  // Values stay in the job's Secret (see env-secret.ts): the pod template names them only.
  for (const name of Object.keys(user)) env.push(envFromSecret(spec, name));
  return env;
}
