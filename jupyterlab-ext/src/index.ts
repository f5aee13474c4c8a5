// Skiff in JupyterLab: the sidebar, the notebook commands and the metrics renderer, all on the
// runtime's API as the server extension serves it. No cluster logic here: it is all in runtime/.
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import skiffSvg from '@skiff/media/icons/skiff.svg';
import { createClient } from './api';
import { COMMANDS, registerCommands } from './commands';
import { SkiffModel } from './model';
import { DEFAULT_SETTINGS, readSettings, type SkiffSettings } from './settings';
import { SkiffSidebar } from './sidebar';

const PLUGIN_ID = '@skiff/jupyterlab:plugin';

export const skiffIcon = new LabIcon({ name: 'skiff:logo', svgstr: skiffSvg });

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Run notebook cells as distributed jobs on a local kind cluster, with live logs and metrics.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null, registry: ISettingRegistry | null, restorer: ILayoutRestorer | null) => {
    let settings: SkiffSettings = DEFAULT_SETTINGS;
    const model = new SkiffModel(createClient());
    const sidebar = new SkiffSidebar(model, () => settings, {
      notebookPath: () => tracker.currentWidget?.context.path ?? '',
      reveal: (folder) => void app.commands.execute('filebrowser:go-to-path', { path: folder }),
    });
    sidebar.title.icon = skiffIcon;
    app.shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, sidebar.id);

    registerCommands({ app, tracker, model, sidebar, settings: () => settings, icon: skiffIcon });
    for (const command of Object.values(COMMANDS)) palette?.addItem({ command, category: 'Skiff' });

    // Settings first: the sidebar's Start button waits for the model, so a cluster is never made
    // with defaults the user has overridden.
    const settingsLoaded = registry
      ? registry.load(PLUGIN_ID).then(
          (loaded) => {
            const apply = () => {
              const read = readSettings(loaded.composite as Record<string, unknown>);
              // JupyterLab's settings editor checks plugin.json's schema; this names what slipped past it.
              for (const problem of read.problems) console.warn(`Skiff: the setting ${problem}`);
              settings = read.settings;
            };
            apply();
            loaded.changed.connect(apply);
          },
          (err: unknown) => console.warn('Skiff: settings could not be loaded; using the defaults', err),
        )
      : Promise.resolve();
    void settingsLoaded.then(() => model.start());
  },
};

export default plugin;
