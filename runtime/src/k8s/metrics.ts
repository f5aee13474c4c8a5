// Metrics of a set of pods: CPU/memory from each node's kubelet summary API through the API server
// proxy, GPU utilisation from the GPU pods themselves (gpu-usage.ts), plus the training metrics
// scripts print with `skiff.log()`. jobs/job-metrics.ts puts them together for one job.
import type { KubeConfig } from '@kubernetes/client-node';
import type { LogLine, MetricsSample, PodUsage, TrainingMetric } from '../types.js';
import { parseMetricLine } from '../logs/parse.js';
import { kubeRequest } from './client.js';
import type { JobPodSource, PodRef } from './log-merge.js';
import { sleep } from './streams.js';

export interface MetricsOptions {
  follow: boolean;
  /** Between usage samples (default 5000). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** GET /api/v1/nodes/NODE/proxy/stats/summary: the kubelet's own resource accounting. */
export async function nodeSummary(kc: KubeConfig, node: string, signal?: AbortSignal): Promise<KubeletSummary> {
  const res = await kubeRequest(kc, { path: `/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/summary`, signal, timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`kubelet summary of node ${node}: HTTP ${res.status}`);
  return JSON.parse(res.body.toString('utf8')) as KubeletSummary;
}

/** Where usage comes from: each node's kubelet summary, and each GPU pod's own reading. */
export interface UsageReaders {
  summaryOf(node: string): Promise<KubeletSummary>;
  /** Undefined when the pod has no reading (see podGpuUtilization). */
  gpuOf?(pod: PodRef): Promise<number | undefined>;
}

/**
 * One sample per interval for the job's pods that run on a node. Nodes whose summary cannot be
 * read are left out of that sample rather than ending the stream. Pods that asked for GPUs get
 * their utilisation, unless a first try found none to read (asking again would not change that).
 * Ends (following) once the job is finished, or after one sample without follow.
 */
export async function* usageSamples(pods: JobPodSource, readers: UsageReaders, namespace: string, opts: MetricsOptions): AsyncGenerator<MetricsSample> {
  const signal = opts.signal ?? new AbortController().signal;
  const withoutGpuReading = new Set<string>();
  while (!signal.aborted) {
    const { pods: current, finished } = await pods.list();
    const nodes = [...new Set(current.map((p) => p.node).filter((n): n is string => !!n))];
    const gpuPods = readers.gpuOf ? current.filter((p) => p.node && (p.gpus ?? 0) > 0 && !withoutGpuReading.has(p.uid)) : [];
    const [summaries, gpuReadings] = await Promise.all([
      Promise.all(nodes.map((n) => readers.summaryOf(n).catch(() => undefined))),
      Promise.all(gpuPods.map((p) => readers.gpuOf!(p).catch(() => undefined))),
    ]);
    const usage = summaries.flatMap((s) => (s ? podUsageFromSummary(s, current, namespace) : []));
    gpuPods.forEach((pod, i) => {
      const reading = gpuReadings[i];
      const entry = usage.find((u) => u.pod === pod.name);
      if (reading === undefined) withoutGpuReading.add(pod.uid);
      else if (entry && entry.gpuUtilization === undefined) entry.gpuUtilization = reading;
    });
    if (signal.aborted) return;
    if (usage.length > 0 || !opts.follow) yield { type: 'usage', time: new Date().toISOString(), pods: usage.sort((a, b) => a.rank - b.rank) };
    if (!opts.follow || finished) return;
    await sleep(opts.intervalMs ?? 5000, signal);
  }
}

export async function* trainingSamples(lines: AsyncIterable<LogLine>): AsyncGenerator<MetricsSample> {
  for await (const line of lines) {
    const metric = trainingMetricOf(line);
    if (metric) yield { type: 'training', metric };
  }
}

export function trainingMetricOf(line: LogLine): TrainingMetric | undefined {
  const values = parseMetricLine(line.text);
  return values ? { rank: line.rank, time: line.time, values } : undefined;
}

/** The `SKIFF_METRIC` lines among `lines`, in order. */
export function collectTrainingMetrics(lines: LogLine[]): TrainingMetric[] {
  return lines.map(trainingMetricOf).filter((m): m is TrainingMetric => m !== undefined);
}

// The subset of the kubelet's stats/summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1) Skiff reads.
interface CpuStats {
  usageNanoCores?: number;
}
interface MemoryStats {
  workingSetBytes?: number;
}
interface AcceleratorStats {
  dutyCycle?: number;
}
interface ContainerStats {
  name: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
  accelerators?: AcceleratorStats[];
}
export interface KubeletSummary {
  pods?: {
    podRef: { name: string; namespace: string; uid?: string };
    containers?: ContainerStats[];
    cpu?: CpuStats;
    memory?: MemoryStats;
  }[];
}

/** Usage of the given pods found in one node's summary (pod totals, else the sum of containers). */
export function podUsageFromSummary(summary: KubeletSummary, pods: PodRef[], namespace: string): PodUsage[] {
  const out: PodUsage[] = [];
  for (const entry of summary.pods ?? []) {
    if (entry.podRef.namespace !== namespace) continue;
    const pod = pods.find((p) => p.name === entry.podRef.name);
    if (!pod) continue;
    const containers = entry.containers ?? [];
    const sum = (pick: (c: ContainerStats) => number | undefined) => containers.reduce((s, c) => s + (pick(c) ?? 0), 0);
    // Where the kubelet cannot read the pod's own cgroup (nested Docker on cgroup v1, as kind nodes
    // here) it reports the pod at 0 while its containers carry the real numbers: take those then.
    const podOr = (podValue: number | undefined, containerSum: number) => (podValue !== undefined && podValue > 0 ? podValue : containerSum);
    const usage: PodUsage = {
      pod: pod.name,
      rank: pod.rank,
      cpuCores:
        podOr(
          entry.cpu?.usageNanoCores,
          sum((c) => c.cpu?.usageNanoCores),
        ) / 1e9,
      memoryBytes: podOr(
        entry.memory?.workingSetBytes,
        sum((c) => c.memory?.workingSetBytes),
      ),
    };
    const duty = containers
      .flatMap((c) => c.accelerators ?? [])
      .map((a) => a.dutyCycle)
      .filter((d): d is number => typeof d === 'number');
    if (duty.length > 0) usage.gpuUtilization = duty.reduce((a, b) => a + b, 0) / duty.length;
    out.push(usage);
  }
  return out;
}
