// A notebook file on this machine as a session request: the CLI and the API (the JupyterLab
// kernel) start a notebook's session the same way.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SkiffError } from '../errors.js';
import { mergeRequirements, notebookPipRequirements } from '../packages/sources.js';
import { sessionNameFor } from '../spec/names.js';
import { notebookCellSources, type NotebookSessionRequest } from './notebook.js';

export type NotebookFileChoices = Partial<Omit<NotebookSessionRequest, 'notebook' | 'codeRoot' | 'namespace'>> & { namespace?: string };

/**
 * The session of the notebook at `file` (an absolute path): named after its path, run in its
 * folder, with every `%pip` line of its code cells plus `packages` installed. A file that is not
 * an .ipynb names the folder only; so does a notebook not saved yet (its folder must exist).
 */
export async function notebookFileSession(file: string, choices: NotebookFileChoices = {}): Promise<Omit<NotebookSessionRequest, 'namespace'> & { namespace?: string }> {
  let pipLines: string[] = [];
  const folder = await stat(dirname(file)).catch(() => undefined);
  if (!folder?.isDirectory()) throw new SkiffError('BAD_INPUT', `the notebook's folder ${dirname(file)} does not exist`, { hint: 'give the path of a notebook on this machine' });
  if (file.endsWith('.ipynb')) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new SkiffError('BAD_INPUT', `cannot read the notebook ${file}: ${err.message}`);
    });
    if (text !== undefined) pipLines = notebookPipRequirements(notebookCellSources(text, file));
  }
  return {
    ...choices,
    name: choices.name ?? sessionNameFor(file),
    notebook: basename(file),
    codeRoot: dirname(file),
    packages: mergeRequirements(pipLines, choices.packages ?? []),
  };
}
