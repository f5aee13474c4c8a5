// Prometheus on a local cluster: installing the server (`skiff up --with prometheus`), and reading a
// job's history back from it for `skiff metrics` and the editors' charts, after its pods are gone.
// Skiff talks to the server through the API server's service proxy, as it does to MLflow.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { SkiffError } from '../errors.js';
import { applyObject, kubeClients, kubeRequest, orUndefined } from '../k8s/client.js';
import { serviceProxyPath } from '../jobs/call.js';
import { addonsNamespace } from '../manifests/mlflow.js';
import { ADDONS_NAMESPACE } from '../manifests/mlflow-env.js';
import { PROMETHEUS_IMAGE, PROMETHEUS_NAME, prometheusManifests, prometheusStoreDir, SCRAPE_INTERVAL_SECONDS, SERIES_LABELS, USAGE_METRICS } from '../manifests/prometheus.js';
import { buildImages } from '../images/images.js';
import { hostUserIds } from '../workspace/layout.js';
import type { MetricsSample, PodUsage } from '../types.js';
import type { InstallOptions } from './mlflow.js';
import { waitForServer } from './wait.js';

const QUERY_TIMEOUT_MS = 30_000;
/** At most this many points per series in a history: a chart's width, whatever the job's length. */
const MAX_POINTS = 500;

export const prometheusMissing = (cluster: string) =>
  new SkiffError('ADDON_MISSING', `Prometheus is not installed on cluster '${cluster}'`, {
    hint: `install it with \`skiff up --cluster ${cluster} --with prometheus\``,
  });

/** Installs (or updates) the server and waits until it is ready. */
export async function installPrometheus(kc: KubeConfig, opts: InstallOptions): Promise<void> {
  const say = opts.onProgress ?? (() => {});
  // Cached by version: seconds once built, about five minutes the first time.
  await buildImages('prometheus', say);
  await opts.loadImage(PROMETHEUS_IMAGE);
  // Made here, as the user: a hostPath the kubelet made would belong to root.
  await mkdir(path.join(opts.shared.data, prometheusStoreDir(opts.cluster)), { recursive: true });
  const m = prometheusManifests({ cluster: opts.cluster, runAs: hostUserIds() });
  say(`installing Prometheus (namespace ${ADDONS_NAMESPACE}): every job's pods are read every ${SCRAPE_INTERVAL_SECONDS} s`);
  const { objects } = kubeClients(kc);
  for (const obj of [addonsNamespace(), m.serviceAccount, m.clusterRole, m.clusterRoleBinding, m.config, m.service, m.deployment]) await applyObject(objects, obj);
  await waitForServer(kc, { cluster: opts.cluster, title: 'Prometheus', name: PROMETHEUS_NAME, signal: opts.signal });
  say('Prometheus is ready');
}

/** The installed server's Deployment, or undefined when the cluster has no Prometheus. */
export async function findPrometheus(kc: KubeConfig): Promise<V1Deployment | undefined> {
  return orUndefined(kubeClients(kc).apps.readNamespacedDeployment({ name: PROMETHEUS_NAME, namespace: ADDONS_NAMESPACE }));
}

/** One series of a range query: its labels and [unix seconds, value] points. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface TimeRange {
  /** Unix seconds. */
  start: number;
  end: number;
}

/** GET /api/v1/query_range: the series, or a plain error with Prometheus' own words. */
export async function queryRange(kc: KubeConfig, query: string, range: TimeRange & { step: number }): Promise<RangeSeries[]> {
  const params = new URLSearchParams({ query, start: String(range.start), end: String(range.end), step: String(range.step) });
  const res = await kubeRequest(kc, { method: 'GET', path: serviceProxyPath(ADDONS_NAMESPACE, PROMETHEUS_NAME, `/api/v1/query_range?${params}`), timeoutMs: QUERY_TIMEOUT_MS });
  const text = res.body.toString('utf8');
  let answer: { status?: string; error?: string; data?: { result?: RangeSeries[] } } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // Not Prometheus answering (the proxy, a pod starting): said below with the text.
  }
  if (answer.status !== 'success') {
    throw new SkiffError('COMMAND_FAILED', `Prometheus did not answer the query ${query} (HTTP ${res.status}: ${answer.error ?? text.slice(0, 200)})`, {
      hint: `see \`kubectl -n ${ADDONS_NAMESPACE} logs deploy/${PROMETHEUS_NAME}\`; \`skiff up --with prometheus\` repairs it`,
    });
  }
  return answer.data?.result ?? [];
}

/** A step that keeps a range within MAX_POINTS, never finer than the scrapes. */
export function stepFor(range: TimeRange): number {
  return Math.max(SCRAPE_INTERVAL_SECONDS, Math.ceil((range.end - range.start) / MAX_POINTS));
}

/** The PromQL of a job's usage: CPU as a rate (cores), memory and GPU as they were read. */
export function usageQueries(namespace: string, job: string, step: number): Record<keyof typeof USAGE_METRICS, string> {
  const sel = `{${SERIES_LABELS.namespace}=${JSON.stringify(namespace)},${SERIES_LABELS.job}=${JSON.stringify(job)}}`;
  // A rate needs two scrapes in its window.
  const window = Math.max(3 * SCRAPE_INTERVAL_SECONDS, step);
  return {
    cpu: `rate(${USAGE_METRICS.cpu}${sel}[${window}s])`,
    memory: `${USAGE_METRICS.memory}${sel}`,
    gpu: `${USAGE_METRICS.gpu}${sel}`,
  };
}

/**
 * Range answers as usage samples, one per point in time, each pod's reading by rank (pure). A pod is
 * in a point only with both its CPU and its memory there: its first scrape has memory but no CPU
 * rate yet (a rate needs two), and a 0 in its place would be a reading nobody took.
 */
export function usageSamplesFrom(series: Record<keyof typeof USAGE_METRICS, RangeSeries[]>): MetricsSample[] {
  type Reading = { pod: string; rank: number; cpu?: number; memory?: number; gpu?: number };
  const byTime = new Map<number, Map<string, Reading>>();
  for (const [what, list] of Object.entries(series) as [keyof typeof USAGE_METRICS, RangeSeries[]][]) {
    for (const s of list) {
      const pod = s.metric[SERIES_LABELS.pod] ?? '';
      for (const [t, v] of s.values) {
        const pods = byTime.get(t) ?? new Map<string, Reading>();
        byTime.set(t, pods);
        const reading = pods.get(pod) ?? { pod, rank: Number(s.metric[SERIES_LABELS.rank] ?? 0) };
        pods.set(pod, reading);
        reading[what] = Number(v);
      }
    }
  }
  const usage = ({ pod, rank, cpu, memory, gpu }: Reading): PodUsage[] =>
    cpu === undefined || memory === undefined ? [] : [{ pod, rank, cpuCores: cpu, memoryBytes: memory, ...(gpu === undefined ? {} : { gpuUtilization: gpu }) }];
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, pods]) => ({
      type: 'usage' as const,
      time: new Date(t * 1000).toISOString(),
      pods: [...pods.values()].flatMap(usage).sort((a, b) => a.rank - b.rank || a.pod.localeCompare(b.pod)),
    }))
    .filter((sample) => sample.pods.length > 0);
}

/** The job's usage over the range, from Prometheus' store: what the kubelet can no longer tell once the pods are gone. */
export async function usageHistory(kc: KubeConfig, namespace: string, job: string, range: TimeRange): Promise<MetricsSample[]> {
  const step = stepFor(range);
  const queries = usageQueries(namespace, job, step);
  const [cpu, memory, gpu] = await Promise.all([queries.cpu, queries.memory, queries.gpu].map((q) => queryRange(kc, q, { ...range, step })));
  return usageSamplesFrom({ cpu, memory, gpu });
}
