// The extension's settings (schema/plugin.json) as a typed object, defaults filled.
import type { ClusterProfile } from '@skiff/runtime/front';

export interface SkiffSettings {
  profile: ClusterProfile;
  /** Worker nodes of a new cluster. */
  nodes: number;
  workers: number;
  gpusPerWorker: number;
  /** Empty: the runtime's default job image. */
  image: string;
  servePort: number;
  metricsIntervalSeconds: number;
}

export const DEFAULT_SETTINGS: SkiffSettings = { profile: 'cpu', nodes: 2, workers: 2, gpusPerWorker: 0, image: '', servePort: 8000, metricsIntervalSeconds: 3 };

export function readSettings(composite: Partial<Record<keyof SkiffSettings, unknown>>): SkiffSettings {
  const pick = <K extends keyof SkiffSettings>(key: K, ok: (v: unknown) => boolean): SkiffSettings[K] =>
    ok(composite[key]) ? (composite[key] as SkiffSettings[K]) : DEFAULT_SETTINGS[key];
  const count = (min: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min;
  return {
    profile: pick('profile', (v) => v === 'cpu' || v === 'gpu' || v === 'fake-gpu'),
    nodes: pick('nodes', count(1)),
    workers: pick('workers', count(1)),
    gpusPerWorker: pick('gpusPerWorker', count(0)),
    image: pick('image', (v) => typeof v === 'string'),
    servePort: pick('servePort', count(1)),
    metricsIntervalSeconds: pick('metricsIntervalSeconds', count(1)),
  };
}
