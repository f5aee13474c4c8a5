// A job's metrics: the usage of its pods (found as its logs find them) and the training metrics
// its ranks print, merged as they come.
import type { KubeConfig } from '@kubernetes/client-node';
import type { MetricsSample } from '../types.js';
import { childController, fromArray, mergeStreams } from '../k8s/streams.js';
import { nodeSummary, trainingSamples, usageSamples, type MetricsOptions, type UsageReaders } from '../k8s/metrics.js';
import { podGpuUtilization } from '../k8s/gpu-usage.js';
import { KubeJobPods, streamJobLogs } from './job-logs.js';

/** Usage samples and training metrics of a job, merged as they come. */
export async function* streamJobMetrics(kc: KubeConfig, namespace: string, job: string, opts: MetricsOptions): AsyncGenerator<MetricsSample> {
  const controller = childController(opts.signal);
  const signal = controller.signal;
  try {
    const readers: UsageReaders = { summaryOf: (node) => nodeSummary(kc, node, signal), gpuOf: (pod) => podGpuUtilization(kc, namespace, pod) };
    const usage = usageSamples(new KubeJobPods(kc, namespace, job), readers, namespace, { ...opts, signal });
    const training = trainingSamples(streamJobLogs(kc, namespace, job, { follow: opts.follow, signal }));
    yield* mergeStreams(fromArray<AsyncIterable<MetricsSample>>([usage, training]));
  } finally {
    controller.abort();
  }
}
