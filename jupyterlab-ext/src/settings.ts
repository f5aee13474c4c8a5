// The extension's settings (schema/plugin.json) as a typed object, defaults filled, read as VS Code
// reads its own (`readEditorSettings`): the shared choices, and this editor's serving port and
// metrics interval.
import { readEditorSettings, settingFields as field, SHARED_SETTINGS, type ReadSettings, type SettingsOf } from '@skiff/runtime/front';

const JUPYTERLAB_SETTINGS = {
  ...SHARED_SETTINGS,
  servePort: field.count(1, 8000),
  metricsIntervalSeconds: field.count(1, 3),
};

export type SkiffSettings = SettingsOf<typeof JUPYTERLAB_SETTINGS>;

export const DEFAULT_SETTINGS: SkiffSettings = readEditorSettings(JUPYTERLAB_SETTINGS, {}).settings;

export function readSettings(composite: Partial<Record<keyof SkiffSettings, unknown>>): ReadSettings<SkiffSettings> {
  return readEditorSettings(JUPYTERLAB_SETTINGS, composite);
}
