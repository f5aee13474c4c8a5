// Reads the files that travel with a job: the script and everything beside it that looks like code.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeFile } from '../types.js';
import { SpecError } from '../spec/job-spec.js';
import { LIB_PACKAGE_DIR, MAX_BUNDLE_BYTES, bundleTooBigError } from './code-bundle.js';

/** Single files above this are almost always data or checkpoints, not code. */
export const MAX_CODE_FILE_BYTES = 512 * 1024;
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', '.ipynb_checkpoints']);

interface Found {
  rel: string;
  abs: string;
  size: number;
}

/**
 * The script plus its sibling files under `root` (recursively), as paths relative to root with '/'.
 * Skips VCS, virtualenv and cache folders, hidden folders and files over 512 KiB (except the script).
 * Sizes are checked before anything is read, so pointing at a huge folder fails fast.
 */
export async function collectCodeFiles(root: string, script: string): Promise<CodeFile[]> {
  const absRoot = path.resolve(root);
  const absScript = path.resolve(absRoot, script);
  const scriptStat = await stat(absScript).catch(() => undefined);
  if (!scriptStat?.isFile()) throw new SpecError(`script not found: ${absScript}`, 'script');
  const scriptRel = path.relative(absRoot, absScript);
  if (scriptRel.startsWith('..') || path.isAbsolute(scriptRel)) {
    throw new SpecError(`script ${absScript} is outside the code folder ${absRoot}`, 'script');
  }

  const found: Found[] = [];
  await walk(absRoot, '', found);
  const scriptPosix = toPosix(scriptRel);
  if (!found.some((f) => f.rel === scriptPosix)) found.push({ rel: scriptPosix, abs: absScript, size: scriptStat.size });

  const total = found.reduce((sum, f) => sum + f.size, 0);
  if (total > MAX_BUNDLE_BYTES) throw bundleTooBigError(found.map((f) => ({ path: f.rel, bytes: f.size })));

  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return Promise.all(found.map(async (f) => ({ path: f.rel, content: await readFile(f.abs) })));
}

async function walk(absDir: string, relDir: string, out: Found[]): Promise<void> {
  const entries = await readdir(absDir, { withFileTypes: true });
  for (const entry of entries) {
    const abs = path.join(absDir, entry.name);
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    // Follow symlinks to files but never into directories (cycles, or a link to $HOME).
    const info = entry.isSymbolicLink() ? await stat(abs).catch(() => undefined) : entry;
    if (!info) continue;
    if (info.isDirectory()) {
      if (entry.isSymbolicLink() || SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
      await walk(abs, rel, out);
    } else if (info.isFile()) {
      const size = (await stat(abs)).size;
      if (size <= MAX_CODE_FILE_BYTES) out.push({ rel, abs, size });
    }
  }
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/**
 * Where Skiff's Python helper package lives: runtime/python/skiff (runtime/src/manifests/ and
 * runtime/dist/manifests/ both sit two levels below runtime/), unless $SKIFF_PYTHON_DIR says
 * otherwise (a bundle, e.g. the VS Code extension, ships its own copy).
 */
export function pythonLibDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SKIFF_PYTHON_DIR || fileURLToPath(new URL('../../python/skiff/', import.meta.url));
}

/** Skiff's Python helper package, as `skiff/<file>.py` entries. */
export async function pythonLibFiles(dir: string = pythonLibDir()): Promise<CodeFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.py')).sort();
  return Promise.all(names.map(async (n) => ({ path: `${LIB_PACKAGE_DIR}/${n}`, content: await readFile(path.join(dir, n)) })));
}
