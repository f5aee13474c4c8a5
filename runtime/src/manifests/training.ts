// A DDP training job: an Indexed Job with one pod per worker, plus a headless Service whose only
// purpose is DNS, so every worker can reach rank 0 at `<job>-0.<job>`.
import type { V1ConfigMap, V1Job, V1Secret, V1Service } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import { ONE_PROCESS_PER_POD_ENV, RANK_VARIABLES, WORLD_SIZE_VARIABLES, type TrainingJobSpec } from '../spec/job-spec.js';
import {
  AGENT_PORT,
  AGENT_PORT_NAME,
  codeConfigMap,
  codeDirOf,
  jobEnv,
  jobVolumeMounts,
  jobVolumes,
  launchCommand,
  libConfigMap,
  metricsPorts,
  workspaceSecurityContext,
  type Workspace,
} from './code-bundle.js';
import { envSecret } from './env-secret.js';
import { containerResources, gpuShareAffinity, gpuTolerations } from './gpu.js';
import { LABELS, jobLabels, podSelectorLabels, specObjectMeta, type ManifestMeta } from './labels.js';

/** Set by the Job controller on every pod of an Indexed Job; it is the worker's rank. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const TRAINING_CONTAINER = 'worker';
export const MASTER_PORT_NAME = 'dist';

/** Indexed Job pods get hostname `<job>-<index>`; with subdomain = Service it resolves in-namespace. */
export function masterAddress(spec: TrainingJobSpec): string {
  return `${spec.name}-0.${spec.name}`;
}

export function trainingManifests(
  spec: TrainingJobSpec,
  files: CodeFile[],
  libFiles: CodeFile[],
  meta: ManifestMeta = {},
  ws?: Workspace,
): { configMaps: V1ConfigMap[]; envSecret: V1Secret | undefined; service: V1Service; job: V1Job } {
  return {
    configMaps: [...(ws ? [] : [codeConfigMap(spec, files, meta)]), libConfigMap(spec, libFiles, meta)],
    envSecret: envSecret(spec, meta),
    service: trainingService(spec, meta),
    job: trainingJob(spec, files, libFiles, meta, ws),
  };
}

export function trainingService(spec: TrainingJobSpec, meta: ManifestMeta = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: specObjectMeta(spec, spec.name, meta),
    spec: {
      clusterIP: 'None',
      // Workers look rank 0 up before it is Ready (it has no readiness probe to pass).
      publishNotReadyAddresses: true,
      selector: podSelectorLabels(spec),
      ports: [{ name: MASTER_PORT_NAME, port: spec.masterPort, targetPort: spec.masterPort, protocol: 'TCP' }],
    },
  };
}

/** Where a rank's pod reads its rank: the Indexed Job's completion index (absent on other workloads). */
export const RANK_FIELD_PATH = `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']`;

export function trainingJob(spec: TrainingJobSpec, files: CodeFile[], libFiles: CodeFile[], meta: ManifestMeta = {}, ws?: Workspace): V1Job {
  const gpu = spec.gpusPerWorker > 0;
  const rankField = { fieldRef: { fieldPath: RANK_FIELD_PATH } };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: specObjectMeta(spec, spec.name, meta),
    spec: {
      completionMode: 'Indexed',
      completions: spec.workers,
      parallelism: spec.workers,
      // One failed worker leaves DDP peers hanging: fail fast so the controller stops the rest.
      backoffLimit: spec.backoffLimit ?? 0,
      // No ttlSecondsAfterFinished: finished pods keep their logs until the job is deleted.
      template: {
        metadata: { labels: jobLabels(spec) },
        spec: {
          subdomain: spec.name,
          restartPolicy: 'Never',
          // Service links add dozens of variables per Service in the namespace; the script needs none.
          enableServiceLinks: false,
          containers: [
            {
              name: TRAINING_CONTAINER,
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              command: launchCommand(spec, ws),
              workingDir: codeDirOf(ws),
              env: [
                { name: 'MASTER_ADDR', value: masterAddress(spec) },
                { name: 'MASTER_PORT', value: String(spec.masterPort) },
                ...WORLD_SIZE_VARIABLES.map((name) => ({ name, value: String(spec.workers) })),
                // A pod template cannot carry a per-index label, so the rank comes from the index annotation.
                ...RANK_VARIABLES.map((name) => ({ name, valueFrom: rankField })),
                ...Object.entries(ONE_PROCESS_PER_POD_ENV).map(([name, value]) => ({ name, value })),
                ...jobEnv(spec, ws),
              ],
              ports: [
                { name: MASTER_PORT_NAME, containerPort: spec.masterPort, protocol: 'TCP' },
                ...(spec.session ? [{ name: AGENT_PORT_NAME, containerPort: AGENT_PORT, protocol: 'TCP' }] : []),
                ...metricsPorts(spec, ws),
              ],
              resources: containerResources(spec),
              volumeMounts: jobVolumeMounts(spec, ws),
            },
          ],
          volumes: jobVolumes(spec, files, libFiles, ws),
          ...(ws?.runAs ? { securityContext: workspaceSecurityContext(ws) } : {}),
          ...(gpu ? { tolerations: gpuTolerations() } : {}),
          ...gpuShareAffinity(spec),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: { [LABELS.job]: spec.name } },
              // Leave the tainted control-plane out of the count; it would otherwise hold the
              // minimum at zero and cap every worker node at one pod.
              nodeTaintsPolicy: 'Honor',
            },
          ],
        },
      },
    },
  };
}
