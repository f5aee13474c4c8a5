// A notebook cell as a job, the same way in every editor: the cell's own choices (its metadata's
// `skiff` entry) and a job name from the notebook's name. Pure and browser-safe: the VS Code and
// JupyterLab extensions both use it through `@skiff/runtime/front`.
export { jobNameFrom, sessionNameFor } from '../spec/names.js';

/** A cell's choices: `metadata.skiff = { workers, gpusPerWorker, name, env }` (kept in the .ipynb; gpusPerWorker below 1 is a share). */
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

/**
 * The cell's metadata with its `skiff` choices replaced by `options`, written where cellJobOptions
 * reads them: under `metadata` where the editor nests the .ipynb's cell metadata (VS Code's
 * Jupyter serializer), else at the top. Unset fields are dropped; other metadata is kept.
 */
export function withCellJobOptions(metadata: Record<string, unknown> | undefined, options: CellJobOptions): Record<string, unknown> {
  const choices = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const nested = metadata?.metadata;
  if (nested && typeof nested === 'object' && !Array.isArray(nested)) {
    const { skiff: _old, ...rest } = metadata as Record<string, unknown>;
    return { ...rest, metadata: { ...(nested as Record<string, unknown>), skiff: choices } };
  }
  return { ...metadata, skiff: choices };
}

/**
 * A cell's GPUs per worker below 1 (e.g. 0.5) is a share of one GPU: a time-slice of a GPU the
 * cluster shares (the spec's gpuShare). Whole numbers are whole GPUs.
 */
export function isGpuShare(gpusPerWorker: number): boolean {
  return gpusPerWorker > 0 && gpusPerWorker < 1;
}

/** The spec's fields for a GPUs-per-worker choice: a share below 1, whole GPUs otherwise. */
export function gpuFields(gpusPerWorker: number): { gpusPerWorker: number } | { gpuShare: number } {
  return isGpuShare(gpusPerWorker) ? { gpuShare: gpusPerWorker } : { gpusPerWorker };
}

/** A running session's GPUs per rank as the editors choose them: its share when it has one (0.5), else whole GPUs. */
export function sessionGpus(info: { gpusPerWorker: number; gpuShare?: number }): number {
  return info.gpuShare ?? info.gpusPerWorker;
}

/** "1 rank", "2 ranks × 1 GPU", "2 ranks × 0.5 GPU (a time-slice)": a session's size in a few words. */
export function sessionSizeText(workers: number, gpus: number): string {
  const ranks = `${workers} rank${workers === 1 ? '' : 's'}`;
  if (isGpuShare(gpus)) return `${ranks} × ${gpus} GPU (a time-slice)`;
  return gpus > 0 ? `${ranks} × ${gpus} GPU${gpus === 1 ? '' : 's'}` : ranks;
}

/** "2 workers · 1 GPU each", "2 workers · 0.5 GPU each (a time-slice)", "1 worker": a cell's resources in a few words. */
export function cellResourcesText(workers: number, gpusPerWorker: number): string {
  const who = `${workers} worker${workers === 1 ? '' : 's'}`;
  if (isGpuShare(gpusPerWorker)) return `${who} · ${gpusPerWorker} GPU each (a time-slice)`;
  return gpusPerWorker > 0 ? `${who} · ${gpusPerWorker} GPU${gpusPerWorker === 1 ? '' : 's'} each` : who;
}

/** The raw training spec for a cell: its choices over the defaults given; the runtime validates it. */
export function cellTrainingSpec(
  defaults: { workers: number; gpusPerWorker: number; namespace?: string; image?: string },
  script: string,
  name: string,
  cell: CellJobOptions = {},
): Record<string, unknown> {
  const input: Record<string, unknown> = {
    kind: 'training',
    name: cell.name ?? name,
    script,
    workers: cell.workers ?? defaults.workers,
  };
  Object.assign(input, gpuFields(cell.gpusPerWorker ?? defaults.gpusPerWorker));
  if (defaults.namespace) input.namespace = defaults.namespace;
  if (defaults.image) input.image = defaults.image;
  if (cell.env) input.env = cell.env;
  return input;
}

/** The raw serving spec for a cell or file: a Deployment of `replicas` answering on `port`. */
export function cellServingSpec(
  defaults: { namespace?: string; image?: string },
  script: string,
  name: string,
  serve: { port: number; replicas?: number; env?: Record<string, string> },
): Record<string, unknown> {
  const input: Record<string, unknown> = { kind: 'serving', name, script, port: serve.port, replicas: serve.replicas ?? 1 };
  if (defaults.namespace) input.namespace = defaults.namespace;
  if (defaults.image) input.image = defaults.image;
  if (serve.env) input.env = serve.env;
  return input;
}

// IPython-only lines (magics, shell escapes) mean nothing to plain Python in a pod.
const IPYTHON_LINE = /^\s*(%|!)/;
// `%pip install` and `!pip install` lines: the runtime reads them as the job's packages at submit.
const PIP_LINE = /^\s*[%!]\s*(pip3?|python3?\s+-m\s+pip|\{sys\.executable\}\s+-m\s+pip)(\s|$)/;

/**
 * Cells' sources as one plain Python script, in order: IPython-only lines (`%magic`, `%%cell`,
 * `!shell`) are kept as comments so line numbers in tracebacks still point at the user's code;
 * pip lines stay as they are, for the runtime to install their packages.
 */
export function scriptFromCells(sources: string[]): string {
  return sources
    .map((source) =>
      source
        .split('\n')
        .map((line) => (IPYTHON_LINE.test(line) && !PIP_LINE.test(line) ? `# (IPython only) ${line}` : line))
        .join('\n'),
    )
    .filter((source) => source.trim() !== '')
    .join('\n\n')
    .concat('\n');
}
