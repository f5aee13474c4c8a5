// How a job's state reads in one line, the same in every editor: a cell's status line, a
// notification, a row of the JupyterLab sidebar. Pure and browser-safe.
import type { JobStatus } from '../types.js';

const PHASE_MARKS: Record<JobStatus['phase'], string> = { Queued: '⧗', Pending: '…', Running: '▶', Succeeded: '✓', Failed: '✗', Cancelled: '■', Unknown: '?' };

/** "2 workers" / "1 replica". */
export function jobSizeText(job: Pick<JobStatus, 'kind' | 'workers'>): string {
  const unit = job.kind === 'training' ? 'worker' : 'replica';
  return `${job.workers} ${unit}${job.workers === 1 ? '' : 's'}`;
}

/** The status line a cell shows: phase, where the ranks run, and the outcome with its reason. */
export function cellStatusText(job: JobStatus): string {
  const nodes = [...new Set(job.pods.map((p) => p.node).filter(Boolean))];
  const where = nodes.length ? ` on ${nodes.join(', ')}` : '';
  return `${PHASE_MARKS[job.phase]} job ${job.name}: ${job.phase} (${jobSizeText(job)}${where})${job.reason ? ` — ${job.reason}` : ''}`;
}

/** Every rank or replica on a line of its own: phase, node, exit code. */
export function podLines(job: JobStatus): string[] {
  const what = job.kind === 'training' ? 'rank' : 'replica';
  return job.pods.map((pod) => `${what} ${pod.rank}: ${pod.phase}${pod.node ? ` on ${pod.node}` : ''}${pod.exitCode !== undefined ? `, exit ${pod.exitCode}` : ''}`);
}
