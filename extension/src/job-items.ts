// How jobs and clusters look in the Skiff view: pure data, so the look is tested without VS Code.
import type { ClusterInfo, JobPhase, JobStatus } from '@skiff/runtime';
import { jobSizeText, podLines, promotedTargetLabel, type PromotedTarget } from '@skiff/runtime/front';

export interface ItemModel {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id; `color` is a theme color id. */
  icon: { id: string; color?: string };
  /** Matched by the `viewItem` clauses of package.json's menus. */
  contextValue: string;
}

const PHASE_ICONS: Record<JobPhase, { id: string; color?: string }> = {
  Queued: { id: 'watch', color: 'charts.purple' },
  Pending: { id: 'clock', color: 'charts.yellow' },
  Running: { id: 'sync~spin', color: 'charts.blue' },
  Succeeded: { id: 'pass', color: 'testing.iconPassed' },
  Failed: { id: 'error', color: 'testing.iconFailed' },
  Cancelled: { id: 'circle-slash' },
  Unknown: { id: 'question' },
};

/** A job of the local cluster, or (with `target`) one promoted to another context. */
export function jobItem(job: JobStatus, target?: PromotedTarget): ItemModel {
  const size = jobSizeText(job);
  const runsAs = job.workload && job.workload !== 'Job' && job.workload !== 'Deployment' ? ` (a ${job.workload})` : '';
  const lines = [`${job.name} — ${job.kind} job${runsAs}, ${size}, ${job.script}`, `phase: ${job.phase}`];
  if (job.reason) lines.push(job.reason);
  lines.push(...podLines(job));
  return {
    id: target ? `job/${target.context}/${job.namespace}/${job.name}` : `job/${job.namespace}/${job.name}`,
    label: job.name,
    description: `${job.phase} · ${size}${job.reason ? ` · ${job.reason}` : ''}`,
    tooltip: lines.join('\n'),
    icon: PHASE_ICONS[job.phase],
    // Promoted jobs are not promoted again: `job.training.remote` matches no promote menu.
    contextValue: `job.${job.kind}${target ? '.remote' : ''}`,
  };
}

/** The heading of a promotion target's jobs: the context and namespace, how many run, or why it cannot be read. */
export function targetItem(target: PromotedTarget, jobs: JobStatus[], problem?: string): ItemModel {
  const running = jobs.filter((j) => j.phase === 'Running' || j.phase === 'Pending' || j.phase === 'Queued').length;
  return {
    id: `target/${target.context}/${target.namespace}`,
    label: promotedTargetLabel(target),
    description: problem ? `cannot be read: ${problem}` : `promoted · ${jobs.length} job(s)${running ? `, ${running} running` : ''}`,
    tooltip: `Jobs promoted to context '${target.context}', namespace ${target.namespace}${problem ? `\n${problem}` : ''}`,
    icon: problem ? { id: 'cloud', color: 'charts.yellow' } : { id: 'cloud' },
    contextValue: 'target',
  };
}

export function clusterItem(cluster: ClusterInfo): ItemModel {
  const ready = cluster.nodes.filter((n) => n.ready).length;
  const gpus = cluster.nodes.reduce((sum, n) => sum + n.gpus, 0);
  const healthy = cluster.nodes.length > 0 && ready === cluster.nodes.length;
  return {
    id: `cluster/${cluster.name}`,
    label: cluster.name,
    description: `${cluster.profile} · ${ready}/${cluster.nodes.length} nodes Ready${gpus ? ` · ${gpus} GPUs` : ''}`,
    tooltip: [`context ${cluster.context}`, ...cluster.nodes.map((n) => `${n.name} (${n.role})${n.ready ? '' : ' not Ready'}${n.gpus ? `, ${n.gpus} GPUs` : ''}`)].join('\n'),
    icon: healthy ? { id: 'server-environment', color: 'testing.iconPassed' } : { id: 'warning', color: 'charts.yellow' },
    contextValue: 'cluster',
  };
}

/** The status bar's text: cluster state and how many jobs run. */
export function statusBarText(cluster: ClusterInfo | undefined, jobs: JobStatus[]): { text: string; tooltip: string } {
  if (!cluster) return { text: '$(circle-slash) Skiff: no cluster', tooltip: 'Start a local cluster: Skiff: Start Local Cluster…' };
  const running = jobs.filter((j) => j.phase === 'Running' || j.phase === 'Pending').length;
  const ready = cluster.nodes.filter((n) => n.ready).length;
  return {
    text: `$(server-environment) ${cluster.name}${running ? ` · $(sync~spin) ${running} running` : ''}`,
    tooltip: `Skiff cluster ${cluster.name} (${cluster.profile}): ${ready}/${cluster.nodes.length} nodes Ready, ${running} job(s) running`,
  };
}
