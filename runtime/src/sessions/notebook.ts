// What a notebook session is made of: a training spec whose ranks run the agent, the notebook's
// folder as its code, and its cells as they may be sent to the agent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../errors.js';
import { DEFAULT_SESSION_IDLE_MINUTES, parseTrainingSpec, type Resources, type TrainingJobSpec } from '../spec/job-spec.js';
import type { CodeSource } from '../jobs/submit.js';
import { notebookPipRequirements, withoutPipMagics } from '../packages/sources.js';

export interface NotebookSessionRequest {
  /** The session's job name (one per notebook). */
  name: string;
  namespace: string;
  /** The notebook's file name, relative to codeRoot: recorded as the job's script, requirements.txt read beside it. */
  notebook: string;
  /** The notebook's folder: copied into the session's run folder, so sibling modules import and data files read. */
  codeRoot?: string;
  workers?: number;
  gpusPerWorker?: number;
  /** A time-slice of one GPU per rank (0.5: half), instead of whole GPUs: the spec's gpuShare. */
  gpuShare?: number;
  /** Every `%pip install` requirement of the notebook, installed before the ranks start. */
  packages?: string[];
  idleMinutes?: number;
  resources?: Resources;
  image?: string;
  env?: Record<string, string>;
}

export function notebookSessionSpec(req: NotebookSessionRequest): TrainingJobSpec {
  return parseTrainingSpec({
    name: req.name,
    namespace: req.namespace,
    script: req.notebook,
    workers: req.workers ?? 1,
    gpusPerWorker: req.gpusPerWorker ?? 0,
    gpuShare: req.gpuShare,
    resources: req.resources ?? {},
    image: req.image,
    env: req.env ?? {},
    packages: req.packages,
    session: { idleMinutes: req.idleMinutes ?? DEFAULT_SESSION_IDLE_MINUTES },
  });
}

/**
 * The session's code: the notebook's folder. A notebook not saved there yet (or one with no folder
 * at all) is an empty file in its name, so the session's recorded script exists in its run folder.
 */
export function notebookSessionCode(req: Pick<NotebookSessionRequest, 'codeRoot' | 'notebook'>, exists: (file: string) => boolean = existsSync): CodeSource {
  const placeholder = { files: [{ path: req.notebook, content: Buffer.alloc(0) }] };
  if (!req.codeRoot) return placeholder;
  return exists(join(req.codeRoot, req.notebook)) ? { codeRoot: req.codeRoot } : { codeRoot: req.codeRoot, ...placeholder };
}

/**
 * The cell as the agent runs it, with its `%pip install` lines dropped (the line numbers stay), and
 * the requirements among them the session does not have yet: those are installed first.
 */
export function cellForSession(code: string, sessionPackages: string[] = []): { code: string; missing: string[] } {
  const wanted = notebookPipRequirements([code]);
  if (wanted.length === 0) return { code, missing: [] };
  const have = new Set(sessionPackages.map(requirementKey));
  return { code: withoutPipMagics(code), missing: wanted.filter((r) => !have.has(requirementKey(r))) };
}

/** A `%pip install` of a package the running session lacks, where its ranks cannot take one live. */
export function packagesNeedRestart(missing: string[], why: string): SkiffError {
  return new SkiffError('BAD_INPUT', `this cell installs ${missing.join(', ')}, which the running session does not have (${why})`, {
    hint: 'restart the session: it installs every %pip package of the notebook before its ranks start',
  });
}

const requirementKey = (r: string) => r.replace(/\s+/g, '').toLowerCase();

/** The code cells of an .ipynb file, in order (nbformat 4: `source` a string or a list of lines). */
export function notebookCellSources(ipynbText: string, file: string): string[] {
  let nb: { cells?: { cell_type?: string; source?: string | string[] }[] };
  try {
    nb = JSON.parse(ipynbText) as typeof nb;
  } catch (err) {
    throw new SkiffError('BAD_INPUT', `${file} is not a notebook: ${(err as Error).message}`, { hint: 'pass an .ipynb file saved by Jupyter or VS Code' });
  }
  return (nb.cells ?? []).filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')));
}
