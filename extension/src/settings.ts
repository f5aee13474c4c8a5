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
  /** Notebook sessions: show other ranks' output, and the minutes without a cell before the ranks stop. */
  sessionShowOtherRanks: boolean;
  sessionIdleMinutes: number;
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
    sessionShowOtherRanks: get<boolean>('session.showOtherRanks') ?? true,
    sessionIdleMinutes: get<number>('session.idleMinutes') ?? 60,
  };
}

export { cellJobOptions, jobNameFrom, type CellJobOptions } from '@skiff/runtime/front';
import { cellTrainingSpec, type CellJobOptions } from '@skiff/runtime/front';

/** The raw training spec for a cell or file: cell choices over settings; the runtime validates it. */
export function trainingSpecInput(settings: SkiffSettings, script: string, name: string, cell: CellJobOptions = {}): Record<string, unknown> {
  return cellTrainingSpec(settings, script, name, cell);
}
