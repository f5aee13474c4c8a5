// A notebook file on this machine as a session request: the CLI and the API (the JupyterLab
// kernel) start a notebook's session the same way.
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SkiffError } from '../errors.js';
import { mergeRequirements, notebookPipRequirements } from '../packages/sources.js';
import { sessionNameFor } from '../spec/names.js';
import { notebookCellSources, type NotebookSessionRequest } from './notebook.js';

export type NotebookFileChoices = Partial<Omit<NotebookSessionRequest, 'notebook' | 'codeRoot' | 'namespace'>> & { namespace?: string };

/**
 * The session of the notebook at `file` (an absolute path): named after its path, run in its
 * folder, with every `%pip` line of its code cells plus `packages` installed. A file that is not
 * an .ipynb names the folder only.
 */
export async function notebookFileSession(file: string, choices: NotebookFileChoices = {}): Promise<Omit<NotebookSessionRequest, 'namespace'> & { namespace?: string }> {
  let pipLines: string[] = [];
  if (file.endsWith('.ipynb')) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new SkiffError('BAD_INPUT', `cannot read the notebook ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { hint: 'save the notebook first' });
    });
    pipLines = notebookPipRequirements(notebookCellSources(text, file));
  }
  return {
    ...choices,
    name: choices.name ?? sessionNameFor(file),
    notebook: basename(file),
    codeRoot: dirname(file),
    packages: mergeRequirements(pipLines, choices.packages ?? []),
  };
}
