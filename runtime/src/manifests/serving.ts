// A serving job: a Deployment of identical replicas behind a ClusterIP Service on port 80.
import type { V1ConfigMap, V1Deployment, V1Secret, V1Service } from '@kubernetes/client-node';
import type { CodeFile } from '../types.js';
import type { ServingJobSpec } from '../spec/job-spec.js';
import {
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
import { jobLabels, podSelectorLabels, specObjectMeta, type ManifestMeta } from './labels.js';

export const SERVING_CONTAINER = 'server';
export const SERVICE_PORT = 80;
export const HTTP_PORT_NAME = 'http';

export function servingManifests(
  spec: ServingJobSpec,
  files: CodeFile[],
  libFiles: CodeFile[],
  meta: ManifestMeta = {},
  ws?: Workspace,
): { configMaps: V1ConfigMap[]; envSecret: V1Secret | undefined; service: V1Service; deployment: V1Deployment } {
  return {
    configMaps: [...(ws ? [] : [codeConfigMap(spec, files, meta)]), libConfigMap(spec, libFiles, meta)],
    envSecret: envSecret(spec, meta),
    service: servingService(spec, meta),
    deployment: servingDeployment(spec, files, libFiles, meta, ws),
  };
}

export function servingService(spec: ServingJobSpec, meta: ManifestMeta = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: specObjectMeta(spec, spec.name, meta),
    spec: {
      type: 'ClusterIP',
      selector: podSelectorLabels(spec),
      ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export function servingDeployment(spec: ServingJobSpec, files: CodeFile[], libFiles: CodeFile[], meta: ManifestMeta = {}, ws?: Workspace): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: specObjectMeta(spec, spec.name, meta),
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: podSelectorLabels(spec) },
      template: {
        metadata: { labels: jobLabels(spec) },
        spec: {
          enableServiceLinks: false,
          containers: [
            {
              name: SERVING_CONTAINER,
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              command: launchCommand(spec, ws),
              workingDir: codeDirOf(ws),
              env: [{ name: 'PORT', value: String(spec.port) }, ...jobEnv(spec, ws)],
              ports: [{ name: HTTP_PORT_NAME, containerPort: spec.port, protocol: 'TCP' }, ...metricsPorts(spec, ws)],
              // TCP, not HTTP: Skiff cannot know the script's routes, only that it must listen on PORT.
              readinessProbe: { tcpSocket: { port: spec.port }, periodSeconds: 2 },
              resources: containerResources(spec),
              volumeMounts: jobVolumeMounts(spec, ws),
            },
          ],
          volumes: jobVolumes(spec, files, libFiles, ws),
          ...(ws?.runAs ? { securityContext: workspaceSecurityContext(ws) } : {}),
          ...(spec.gpusPerWorker > 0 ? { tolerations: gpuTolerations() } : {}),
          ...gpuShareAffinity(spec),
        },
      },
    },
  };
}
