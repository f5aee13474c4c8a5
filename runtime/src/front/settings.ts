// The editors' settings, read one way: the choices both editors offer (a new cluster's profile and
// nodes, a job's workers, GPUs and image), each editor's own beside them. A value of the wrong type
// or range falls back to its default and is named in `problems`, for the editor to show: a typo in
// settings.json must not pass unseen, nor reach the runtime as a job of -1 workers.
import { z } from 'zod';
import { ADDONS, CLUSTER_PROFILES } from '../types.js';

const count = (min: number, fallback: number) => z.number().int().min(min).default(fallback);

/** Kinds of setting for an editor's own, so the editors need no schema library of their own. */
export const settingFields = {
  count,
  /** `nonEmpty`: an emptied text means the default (a required name), as a settings editor shows it. */
  text: (fallback: string, opts: { nonEmpty?: boolean } = {}) =>
    opts.nonEmpty ? z.preprocess((v) => (v === '' ? undefined : v), z.string().default(fallback)) : z.string().default(fallback),
  flag: (fallback: boolean) => z.boolean().default(fallback),
};

/** The settings an editor's shape describes. */
export type SettingsOf<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** What VS Code and JupyterLab both let a user set, with the same defaults. */
export const SHARED_SETTINGS = {
  profile: z.enum(CLUSTER_PROFILES).default('cpu'),
  /** Worker nodes of a new cluster. */
  nodes: count(1, 2),
  workers: count(1, 2),
  gpusPerWorker: count(0, 0),
  /** How many ways each GPU of a new gpu or fake-gpu cluster is shared by time-slicing (1: whole GPUs). */
  gpuSharing: z.number().int().min(1).max(8).default(1),
  /** Add-ons a new cluster gets (`skiff up --with`): mlflow, prometheus, kueue. */
  addons: z.array(z.enum(ADDONS)).default([]),
  /** Empty: the runtime's default job image. */
  image: z.string().default(''),
};

export interface ReadSettings<T> {
  settings: T;
  /** One line per value not taken, e.g. "workers: Number must be greater than or equal to 1 (using 2)". */
  problems: string[];
}

/**
 * Each setting of `shape` from `raw` (absent: its default; invalid: its default, and a problem).
 * `label` names a setting in its problem as the user writes it (default: its key in the shape).
 */
export function readEditorSettings<S extends z.ZodRawShape>(shape: S, raw: Record<string, unknown>, label: (key: string) => string = (key) => key): ReadSettings<SettingsOf<S>> {
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const parsed = schema.safeParse(raw[key]);
    if (parsed.success) {
      settings[key] = parsed.data;
      continue;
    }
    settings[key] = schema.parse(undefined);
    problems.push(`${label(key)}: ${parsed.error.issues[0]?.message ?? 'not a valid value'} (using ${JSON.stringify(settings[key])})`);
  }
  return { settings: settings as SettingsOf<S>, problems };
}
