// A job's metrics: the usage of its pods (found as its logs find them) and the training metrics
// its ranks print, merged as they come. On a cluster with Prometheus they start with the job's
// usage history from its store, which outlives the pods the kubelet reads.
import type { KubeConfig, V1Deployment, V1Job } from '@kubernetes/client-node';
import type { MetricsSample } from '../types.js';
import { childController, fromArray, mergeStreams } from '../k8s/streams.js';
import { nodeSummary, trainingSamples, usageSamples, type MetricsOptions, type UsageReaders } from '../k8s/metrics.js';
import { podGpuUtilization } from '../k8s/gpu-usage.js';
import { kubeClients } from '../k8s/client.js';
import { findPrometheus, usageHistory, type TimeRange } from '../addons/prometheus.js';
import { SCRAPE_INTERVAL_SECONDS } from '../manifests/prometheus.js';
import { KubeJobPods, streamJobLogs } from './job-logs.js';
import { readJobObjects } from './jobs.js';

/** Usage samples and training metrics of a job, merged as they come. */
export async function* streamJobMetrics(
  kc: KubeConfig,
  namespace: string,
  job: string,
  opts: MetricsOptions & { /** On a local cluster, its name: its Prometheus gives the history; without one, a reading with no pods says how to keep it. */ cluster?: string },
): AsyncGenerator<MetricsSample> {
  const controller = childController(opts.signal);
  const signal = controller.signal;
  try {
    // Prometheus is a local cluster's add-on: another context's is not Skiff's to read.
    const prometheus = opts.cluster === undefined ? undefined : await findPrometheus(kc);
    // The job's own objects (a full listing) only where there is history to read.
    const snapshot = prometheus && (await readJobObjects(kubeClients(kc), namespace, job));
    if (snapshot) yield* await usageHistory(kc, namespace, job, runRange(snapshot.objects.owner, Date.now()));
    const readers: UsageReaders = { summaryOf: (node) => nodeSummary(kc, node, signal), gpuOf: (pod) => podGpuUtilization(kc, namespace, pod) };
    const live = usageSamples(new KubeJobPods(kc, namespace, job), readers, namespace, { ...opts, signal });
    const usage = prometheus || opts.cluster === undefined ? live : withNoPodsNote(live, prometheusHint(opts.cluster));
    const training = trainingSamples(streamJobLogs(kc, namespace, job, { follow: opts.follow, signal }));
    yield* mergeStreams(fromArray<AsyncIterable<MetricsSample>>([usage, training]));
  } finally {
    controller.abort();
  }
}

export const prometheusHint = (cluster: string) => `their usage is kept once they end with \`skiff up --cluster ${cluster} --with prometheus\``;

async function* withNoPodsNote(samples: AsyncIterable<MetricsSample>, note: string): AsyncGenerator<MetricsSample> {
  for await (const s of samples) yield s.type === 'usage' && s.pods.length === 0 ? { ...s, note } : s;
}

/** This run of the job (a name is reused by resubmits): from its creation to its end, or now while it runs (pure). */
export function runRange(owner: V1Job | V1Deployment, nowMs: number): TimeRange {
  const seconds = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).getTime() / 1000);
  const start = seconds(owner.metadata?.creationTimestamp) ?? nowMs / 1000;
  const conditions: { type: string; status: string; lastTransitionTime?: Date | string }[] = owner.status?.conditions ?? [];
  const ended = conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  // The last scrape may come a little after the end is recorded.
  const end = seconds(ended?.lastTransitionTime);
  return { start: Math.floor(start), end: Math.ceil(end === undefined ? nowMs / 1000 : Math.min(end + 2 * SCRAPE_INTERVAL_SECONDS, nowMs / 1000)) };
}
