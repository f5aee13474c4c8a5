// A cluster as both editors start and show it: the up request built from the user's choices, and
// its GPUs in a few words.
import { clusterGpuSharing, type AddonName, type ClusterInfo, type ClusterProfile } from '../types.js';

/** How many ways a new GPU cluster's GPUs may be shared, as the editors offer it (1: whole GPUs). */
export const GPU_SHARING_CHOICES = [1, 2, 4] as const;

/** The profiles whose nodes have GPUs, so that sharing them means something. */
export const hasGpus = (profile: ClusterProfile) => profile !== 'cpu';

/** "each GPU whole", "each GPU shared 2 ways (a time-slice of 1/2 per job)". */
export function gpuSharingLabel(ways: number): string {
  return ways > 1 ? `each GPU shared ${ways} ways (a time-slice of 1/${ways} per job)` : 'each GPU whole';
}

/** One way a new cluster's GPUs may be handed out, as both editors list them. */
export interface GpuChoice {
  /** The value an editor's control keeps: the ways ("1", "2"), or "dra". */
  value: string;
  /** A few words for a drop-down. */
  short: string;
  /** The whole sentence, for a quick pick or a tooltip. */
  label: string;
  gpuSharing: number;
  dra?: true;
}

const DRA_CHOICE: GpuChoice = {
  value: 'dra',
  short: 'GPUs as DRA devices',
  label: 'each GPU a DRA device that jobs claim (a share is one claim its ranks hold together)',
  gpuSharing: 1,
  dra: true,
};

/**
 * The GPU choices for a profile: whole or time-sliced (with the setting's ways among them), and on
 * fake-gpu also DRA devices (`skiff up --dra`).
 */
export function gpuChoices(profile: ClusterProfile, settingWays: number): GpuChoice[] {
  const ways = [...new Set([...GPU_SHARING_CHOICES, settingWays])].sort((a, b) => a - b);
  const sliced = ways.map((n) => ({ value: String(n), short: n > 1 ? `GPUs shared ${n} ways` : 'whole GPUs', label: gpuSharingLabel(n), gpuSharing: n }));
  return profile === 'fake-gpu' ? [...sliced, DRA_CHOICE] : sliced;
}

/** A new cluster as an editor asks for it. */
export interface ClusterUpRequest {
  profile: ClusterProfile;
  /** Worker nodes. */
  workers: number;
  gpuSharing?: number;
  dra?: true;
  addons?: AddonName[];
}

/** What each add-on brings, as the editors offer them. */
export const ADDON_DESCRIPTIONS: Record<AddonName, string> = {
  mlflow: 'MLflow tracking: every job logs to an experiment of its own',
  prometheus: "Prometheus: every job's usage and logged values kept, charts after it ends",
  kueue: 'Kueue queue: jobs wait Queued until all their ranks fit',
};

/** The body of an up request: the nodes, and the GPU sharing (or DRA, on fake-gpu) only where the profile has GPUs. */
export function clusterUpRequest(profile: ClusterProfile, choices: { nodes: number; gpuSharing: number; dra?: boolean; addons?: readonly AddonName[] }): ClusterUpRequest {
  return {
    profile,
    workers: choices.nodes,
    ...(hasGpus(profile) ? { gpuSharing: choices.gpuSharing } : {}),
    ...(profile === 'fake-gpu' && choices.dra ? { dra: true as const } : {}),
    ...(choices.addons?.length ? { addons: [...choices.addons] } : {}),
  };
}

/** "2 GPUs", "2 GPUs shared 2 ways", "2 GPUs (DRA)", "1 GPU"; empty without GPUs. */
export function clusterGpusText(c: ClusterInfo): string {
  const gpus = c.nodes.reduce((s, n) => s + n.gpus, 0);
  if (!gpus) return '';
  const sharing = clusterGpuSharing(c);
  return `${gpus} GPU${gpus === 1 ? '' : 's'}${sharing > 1 ? ` shared ${sharing} ways` : ''}${c.gpuDriver === 'dra' ? ' (DRA)' : ''}`;
}
