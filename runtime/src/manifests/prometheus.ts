// Prometheus as a local cluster's add-on (`skiff up --with prometheus`): the server built offline
// from the Go module proxy (runtime/images/build-prometheus.sh), its store in the host's data
// folder so history outlives the pod, and one scrape job that finds Skiff's pods by the port their
// launcher serves metrics on (runtime/python/skiff/exporter.py), every two seconds, labelled with
// the job, namespace, pod and rank. Its RBAC is Prometheus' own example (rbac-setup.yml), cut to pods.
import { createHash } from 'node:crypto';
import type { V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1Deployment, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { LABELS, MANAGED_BY } from './labels.js';
import { ADDON_LABEL } from './mlflow.js';
import { ADDONS_NAMESPACE } from './mlflow-env.js';
import { HTTP_PORT_NAME } from './serving.js';
import { METRICS_PORT_NAME } from './code-bundle.js';
import { NODE_DATA_DIR } from '../workspace/layout.js';

/** The Go module's version (v0.3XX.Y is Prometheus 3.XX.Y) and the image built from it (versions.env). */
export const PROMETHEUS_MODULE_VERSION = 'v0.316.0';
export const PROMETHEUS_IMAGE = 'skiff.local/prometheus:v3.16.0';
export const PROMETHEUS_NAME = 'prometheus';
export const PROMETHEUS_PORT = 9090;
/** How often each pod is read: often enough for a chart, and for short jobs to be seen at all. */
export const SCRAPE_INTERVAL_SECONDS = 2;
/** What the exporter names the container's usage (exporter.py). */
export const USAGE_METRICS = { cpu: 'skiff_cpu_seconds_total', memory: 'skiff_memory_working_set_bytes', gpu: 'skiff_gpu_utilization_percent' } as const;
/** The labels the scrape puts on every series, from the pod. */
export const SERIES_LABELS = { job: 'skiff_job', namespace: 'namespace', pod: 'pod', rank: 'rank' } as const;

/** Its store under the data folder (host-relative). */
export const prometheusStoreDir = (cluster: string) => `addons/${cluster}/prometheus`;

export interface PrometheusServer {
  cluster: string;
  /** The host user's ids, so the store is theirs (absent when that is root). */
  runAs?: { uid: number; gid: number };
}

/** A pod's label as Prometheus' Kubernetes discovery names it: every character outside [a-zA-Z0-9_] becomes '_'. */
const podLabelMeta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';

/** prometheus.yml: Skiff's running pods that serve metrics, their series labelled with job, namespace, pod and rank. */
export function prometheusConfig(): Record<string, unknown> {
  return {
    global: { scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`, scrape_timeout: `${SCRAPE_INTERVAL_SECONDS}s`, evaluation_interval: '30s' },
    scrape_configs: [
      {
        job_name: 'skiff-jobs',
        kubernetes_sd_configs: [{ role: 'pod', selectors: [{ role: 'pod', label: `${LABELS.managedBy}=${MANAGED_BY}` }] }],
        relabel_configs: [
          // One target per pod: the container port the launcher serves on.
          { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: METRICS_PORT_NAME, action: 'keep' },
          { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running', action: 'keep' },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: SERIES_LABELS.namespace },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: SERIES_LABELS.pod },
          { source_labels: [podLabelMeta(LABELS.job)], target_label: SERIES_LABELS.job },
          // A training rank is its Indexed Job's completion index; a serving replica has none.
          { source_labels: [podLabelMeta(COMPLETION_INDEX_LABEL)], regex: '(.+)', target_label: SERIES_LABELS.rank },
        ],
      },
    ],
  };
}

const addonLabels = { [LABELS.managedBy]: MANAGED_BY, [ADDON_LABEL]: PROMETHEUS_NAME };
const selector = { [ADDON_LABEL]: PROMETHEUS_NAME };
const CONFIG_DIR = '/etc/prometheus';

export interface PrometheusObjects {
  serviceAccount: V1ServiceAccount;
  clusterRole: V1ClusterRole;
  clusterRoleBinding: V1ClusterRoleBinding;
  config: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
}

export function prometheusManifests(server: PrometheusServer): PrometheusObjects {
  const metadata = { name: PROMETHEUS_NAME, namespace: ADDONS_NAMESPACE, labels: addonLabels };
  const clusterName = `skiff-${PROMETHEUS_NAME}`;
  const config = stringify(prometheusConfig());
  const store = `${NODE_DATA_DIR}/${prometheusStoreDir(server.cluster)}`;
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    clusterRole: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: clusterName, labels: addonLabels },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    },
    clusterRoleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterName, labels: addonLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [{ kind: 'ServiceAccount', name: PROMETHEUS_NAME, namespace: ADDONS_NAMESPACE }],
    },
    config: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { 'prometheus.yml': config } },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...metadata, annotations: { 'skiff.dev/addon-version': PROMETHEUS_MODULE_VERSION } },
      spec: {
        replicas: 1,
        // One store, locked by the server that has it open: never two.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selector },
        template: {
          // A changed config rolls the server (it reads the file at start).
          metadata: { labels: addonLabels, annotations: { 'skiff.dev/config': createHash('sha256').update(config).digest('hex').slice(0, 16) } },
          spec: {
            serviceAccountName: PROMETHEUS_NAME,
            securityContext: server.runAs ? { runAsUser: server.runAs.uid, runAsGroup: server.runAs.gid } : { runAsUser: 0 },
            containers: [
              {
                name: PROMETHEUS_NAME,
                image: PROMETHEUS_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: [`--config.file=${CONFIG_DIR}/prometheus.yml`, `--storage.tsdb.path=${store}`, `--web.listen-address=:${PROMETHEUS_PORT}`],
                ports: [{ name: HTTP_PORT_NAME, containerPort: PROMETHEUS_PORT, protocol: 'TCP' }],
                readinessProbe: { httpGet: { path: '/-/ready', port: HTTP_PORT_NAME }, periodSeconds: 2, failureThreshold: 3 },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'store', mountPath: store },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: PROMETHEUS_NAME } },
              { name: 'store', hostPath: { path: store, type: 'Directory' } },
            ],
          },
        },
      },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { selector, ports: [{ name: HTTP_PORT_NAME, port: PROMETHEUS_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }] },
    },
  };
}
