// Settings and notebook-cell metadata -> what the runtime takes. Pure: VS Code's configuration is
// passed in as a plain getter.
import { readEditorSettings, settingFields as field, SHARED_SETTINGS, type ReadSettings, type SettingsOf } from '@skiff/runtime/front';

/** The `skiff.*` settings (package.json's contributes.configuration), by the names the code uses. */
const VSCODE_SETTINGS = {
  ...SHARED_SETTINGS,
  clusterName: field.text('skiff', { nonEmpty: true }),
  namespace: field.text('skiff', { nonEmpty: true }),
  /** Empty: the default kubeconfig. */
  kubeconfig: field.text(''),
  /** Notebook sessions: show other ranks' output, and the minutes without a cell before the ranks stop. */
  sessionShowOtherRanks: field.flag(true),
  sessionIdleMinutes: field.count(1, 60),
};

export type SkiffSettings = SettingsOf<typeof VSCODE_SETTINGS>;

type Get = <T>(key: string) => T | undefined;

/** VS Code's configuration keys of the settings not named as in the code. */
const KEYS: Partial<Record<keyof SkiffSettings, string>> = { sessionShowOtherRanks: 'session.showOtherRanks', sessionIdleMinutes: 'session.idleMinutes' };

export function readSettings(get: Get): ReadSettings<SkiffSettings> {
  // Read, and named in problems, by the keys a user writes in settings.json.
  const keyOf = (name: string) => KEYS[name as keyof SkiffSettings] ?? name;
  const raw = Object.fromEntries(Object.keys(VSCODE_SETTINGS).map((name) => [name, get<unknown>(keyOf(name))]));
  return readEditorSettings(VSCODE_SETTINGS, raw, keyOf);
}

export { cellJobOptions, jobNameFrom, type CellJobOptions } from '@skiff/runtime/front';
import { cellTrainingSpec, type CellJobOptions } from '@skiff/runtime/front';

/** The raw training spec for a cell or file: cell choices over settings; the runtime validates it. */
export function trainingSpecInput(settings: SkiffSettings, script: string, name: string, cell: CellJobOptions = {}): Record<string, unknown> {
  return cellTrainingSpec(settings, script, name, cell);
}
