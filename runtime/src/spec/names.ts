// Job and session names from file names: DNS labels Kubernetes accepts. Pure and browser-safe: the
// editors reach it through `@skiff/runtime/front`, the API uses it to name a notebook's session.

/** Job names are DNS labels of at most this many characters (the runtime's MAX_JOB_NAME_LENGTH). */
const MAX_JOB_NAME = 40;

/**
 * A job name from a file or notebook name: a lower-case DNS label that starts with a letter, at most
 * 40 characters with its short random suffix. Accents are dropped ("Über" → "uber"), other
 * characters become '-', and a name that starts with a digit ("2024-results") gets "nb-" before it.
 */
export function jobNameFrom(base: string, suffix: string = Math.random().toString(36).slice(2, 7)): string {
  let stem = base
    .replace(/\.[^.]*$/, '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (stem && !/^[a-z]/.test(stem)) stem = `nb-${stem}`;
  stem = stem.slice(0, MAX_JOB_NAME - suffix.length - 1).replace(/-+$/, '');
  return `${stem || 'job'}-${suffix}`;
}

/**
 * The session name of a notebook: stable for its path (an editor that reloads finds the same
 * session), distinct for same-named notebooks in different folders. "train.ipynb" -> "train-s1k2f9".
 */
export function sessionNameFor(notebookPath: string): string {
  let hash = 0x811c9dc5; // FNV-1a: a few lines, no Node crypto in the browser
  for (let i = 0; i < notebookPath.length; i++) hash = Math.imul(hash ^ notebookPath.charCodeAt(i), 0x01000193) >>> 0;
  const base = notebookPath.split(/[\\/]/).pop() ?? notebookPath;
  return jobNameFrom(base, `s${hash.toString(36).padStart(5, '0').slice(0, 5)}`);
}
