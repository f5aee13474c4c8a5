// Text the CLI prints. Pure functions of the data (and "now"), so tests pin the shapes down.
import type { ClusterInfo, JobStatus, MetricsSample, PodUsage, TrainingMetric } from '../types.js';
import type { UpResult } from '../cluster/cluster.js';
import { clusterGpusText } from '../front/cluster-text.js';
import { stringify } from 'yaml';
import { displayLogLine, metricValuesText } from '../logs/parse.js';
import { describeText, firstLine, formatAge, indent, table } from '../front/describe-text.js';

export { describeText, formatAge, table };

/** How the CLI prints a log line (the editors print them the same way). */
export const logLineText = displayLogLine;
export const metricValues = metricValuesText;

/** "1m05s", "42s", "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)}Gi`;
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)}Mi`;
  return `${Math.round(bytes / 2 ** 10)}Ki`;
}

export function jobsTable(jobs: JobStatus[], now: Date = new Date()): string {
  if (jobs.length === 0) return 'no jobs yet; submit one with `skiff run train.py`\n';
  const rows = [['NAME', 'KIND', 'PHASE', 'WORKERS', 'AGE', 'REASON']];
  for (const j of jobs) rows.push([j.name, j.kind, j.phase, String(j.workers), formatAge(j.createdAt, now), firstLine(j.reason)]);
  return table(rows);
}

/** A log line for the terminal; metric lines become "step=3 loss=0.5" instead of raw JSON. */
export function trainingMetricText(m: TrainingMetric): string {
  return `[rank ${m.rank}] ${metricValues(m.values)}`;
}

export function usageText(time: string, pods: PodUsage[], note?: string): string {
  if (pods.length === 0) return `${time.slice(11, 19)} no running pods${note ? `; ${note}` : ''}\n`;
  const rows = pods.map((p) => [
    time.slice(11, 19),
    `rank ${p.rank}`,
    p.pod,
    `cpu ${p.cpuCores.toFixed(2)}`,
    `mem ${formatBytes(p.memoryBytes)}`,
    p.gpuUtilization === undefined ? '' : `gpu ${Math.round(p.gpuUtilization)}%`,
  ]);
  return table(rows);
}

export function metricsSampleText(sample: MetricsSample): string {
  return sample.type === 'usage' ? usageText(sample.time, sample.pods, sample.note) : trainingMetricText(sample.metric) + '\n';
}

export function clusterText(c: ClusterInfo): string {
  const head = `cluster '${c.name}' (context ${c.context}, profile ${c.profile}, ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}${gpusText(c)})\n`;
  if (c.nodes.length === 0) return head + '  not answering; `skiff up` repairs it\n';
  const rows = [['NODE', 'ROLE', 'READY', 'GPUS'], ...c.nodes.map((n) => [n.name, n.role, n.ready ? 'yes' : 'no', String(n.gpus)])];
  return head + indent(table(rows).trimEnd()) + '\n';
}

/** ", 2 GPUs", ", 1 GPU shared 2 ways" under time-slicing; empty without GPUs. */
function gpusText(c: ClusterInfo): string {
  const gpus = clusterGpusText(c);
  return gpus ? `, ${gpus}` : '';
}

export function upText(r: UpResult): string {
  const c = r.cluster;
  const workers = c.nodes.filter((n) => n.role === 'worker').length;
  const what = `${workers} worker${workers === 1 ? '' : 's'}, profile ${c.profile}${gpusText(c)}`;
  const ui = r.addons?.includes('mlflow') ? ' (`skiff ui mlflow` opens MLflow)' : '';
  const addons = r.addons?.length ? `; with ${r.addons.join(', ')}${ui}` : '';
  return `cluster '${c.name}' is ${r.reused ? 'already up' : 'ready'} (${what}) after ${formatDuration(r.seconds)}; context ${c.context}${addons}\n`;
}

/** The one status line printed while following a job, e.g. "job train-x: Pending — rank 1: needs 2 CPU…". */
export function statusLine(s: JobStatus): string {
  return `job ${s.name}: ${s.phase}${s.reason ? ` — ${s.reason}` : ''}`;
}

/** Objects as a multi-document YAML stream, the form `kubectl apply -f` takes. */
export function manifestsYaml(objects: object[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
