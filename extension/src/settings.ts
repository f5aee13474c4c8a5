// Settings and notebook-cell metadata -> what the runtime takes. Pure: VS Code's configuration is
// passed in as a plain getter.
import type { ClusterProfile } from '@skiff/runtime';

export interface SkiffSettings {
  clusterName: string;
  profile: ClusterProfile;
  nodes: number;
  workers: number;
  gpusPerWorker: number;
  image: string;
  namespace: string;
  kubeconfig: string;
}

type Get = <T>(key: string) => T | undefined;

export function readSettings(get: Get): SkiffSettings {
  return {
    clusterName: get<string>('clusterName') || 'skiff',
    profile: (get<ClusterProfile>('profile') ?? 'cpu') as ClusterProfile,
    nodes: get<number>('nodes') ?? 2,
    workers: get<number>('workers') ?? 2,
    gpusPerWorker: get<number>('gpusPerWorker') ?? 0,
    image: get<string>('image') ?? '',
    namespace: get<string>('namespace') || 'skiff',
    kubeconfig: get<string>('kubeconfig') ?? '',
  };
}

/** A cell's own choices: `metadata.skiff = { workers, gpusPerWorker, name, env }` (Jupyter keeps it in the .ipynb). */
export interface CellJobOptions {
  workers?: number;
  gpusPerWorker?: number;
  name?: string;
  env?: Record<string, string>;
}

export function cellJobOptions(metadata: Record<string, unknown> | undefined): CellJobOptions {
  // VS Code's Jupyter serializer nests .ipynb cell metadata under `metadata`.
  const raw = (metadata?.skiff ?? (metadata?.metadata as Record<string, unknown> | undefined)?.skiff) as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object') return {};
  const out: CellJobOptions = {};
  if (typeof raw.workers === 'number') out.workers = raw.workers;
  if (typeof raw.gpusPerWorker === 'number') out.gpusPerWorker = raw.gpusPerWorker;
  if (typeof raw.name === 'string') out.name = raw.name;
  if (raw.env && typeof raw.env === 'object') out.env = Object.fromEntries(Object.entries(raw.env).map(([k, v]) => [k, String(v)]));
  return out;
}

/** The raw training spec for a cell or file: cell choices over settings; the runtime validates it. */
export function trainingSpecInput(settings: SkiffSettings, script: string, name: string, cell: CellJobOptions = {}): Record<string, unknown> {
  const input: Record<string, unknown> = {
    name: cell.name ?? name,
    script,
    namespace: settings.namespace,
    workers: cell.workers ?? settings.workers,
    gpusPerWorker: cell.gpusPerWorker ?? settings.gpusPerWorker,
  };
  if (settings.image) input.image = settings.image;
  if (cell.env) input.env = cell.env;
  return input;
}

/** A job name from a file or notebook name: lower-case DNS label, ending in a short random suffix. */
export function jobNameFrom(base: string, suffix: string = Math.random().toString(36).slice(2, 7)): string {
  const stem = base
    .replace(/\.[^.]*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${stem || 'job'}-${suffix}`;
}
