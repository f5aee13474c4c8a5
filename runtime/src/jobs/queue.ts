// Why a queued job waits, in plain words: its place in the queue (Kueue's Workloads, oldest first) and what
// Kueue says about admitting it ("insufficient unused quota for nvidia.com/gpu…, 2 more needed").
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import { kubeClients } from '../k8s/client.js';
import { KUEUE_API, QUEUE_LABEL } from '../manifests/kueue.js';

export interface Workload {
  metadata?: { name?: string; labels?: Record<string, string>; creationTimestamp?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const [GROUP, VERSION] = KUEUE_API.split('/');
const JOB_UID_LABEL = 'kueue.x-k8s.io/job-uid';

/**
 * Every Kueue Workload of the cluster: read once for all the queued jobs a listing explains. Empty
 * when they cannot be read; the reason then says only that the job waits in its queue.
 */
export async function listWorkloads(kc: KubeConfig): Promise<Workload[]> {
  const list = (await kubeClients(kc)
    .custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'workloads' })
    .catch(() => ({ items: [] }))) as { items: Workload[] };
  return list.items;
}

/** "waiting in queue skiff, 2nd of 3: needs 2 more nvidia.com/gpu than the queue has free now; it starts when running jobs finish". */
export function queuedReason(job: V1Job, workloads: Workload[]): string {
  const queue = job.metadata?.labels?.[QUEUE_LABEL] ?? '';
  const workload = workloads.find((w) => w.metadata?.labels?.[JOB_UID_LABEL] === job.metadata?.uid);
  // Kueue takes a queue's workloads first come, first served (StrictFIFO): the waiting ones, oldest first.
  const waiting = workloads
    .filter((w) => !w.status?.conditions?.some((c) => (c.type === 'QuotaReserved' || c.type === 'Finished') && c.status === 'True'))
    .sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''));
  const index = workload ? waiting.indexOf(workload) : -1;
  const where = `waiting in queue ${queue}${index >= 0 ? `, ${ordinal(index + 1)} of ${waiting.length}` : ''}`;
  const pending = workload?.status?.conditions?.find((c) => c.type === 'QuotaReserved' && c.status === 'False');
  if (pending?.message) return `${where}: ${plainKueueMessage(pending.message)}`;
  // First come, first served: Kueue tries only the head of the queue, so those behind it have no word of their own.
  return index > 0 ? `${where}: the jobs ahead of it go first` : `${where} until the cluster can take every rank at once`;
}

/** Kueue's admission message with its jargon turned into what the user can act on. */
export function plainKueueMessage(message: string): string {
  const quota = /insufficient unused quota for ([\w./-]+) in flavor [\w.-]+, (\S+) more needed/.exec(message);
  if (quota) return `needs ${quota[2]} more ${quota[1]} than the queue has free now; it starts when running jobs finish`;
  const over = /insufficient quota for ([\w./-]+) in flavor [\w.-]+, .*current podset request \((\S+)\) > maximum capacity \((\S+)\)/.exec(message);
  if (over) return `asks for ${over[2]} ${over[1]}, more than the queue can ever give (${over[3]}): it cannot start; cancel it and ask for less`;
  return message;
}

function ordinal(n: number): string {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] ?? s[v] ?? s[0]);
}
