// Reads the files that travel with a job: the script and everything beside it, except what the user
// or convention keeps out (VCS and virtualenv folders, hidden files, .gitignore and .skiffignore
// patterns). Whatever is left out is reported, never dropped silently.
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ignore, { type Ignore } from 'ignore';
import type { CodeFile } from '../types.js';
import { SpecError } from '../spec/job-spec.js';
import { LIB_PACKAGE_DIR, MAX_BUNDLE_BYTES, bundleTooBigError } from './code-bundle.js';
import { isWithin } from '../workspace/layout.js';

/** Folders that are never code: version control, virtualenvs, caches, dependencies. */
const SKIPPED_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', 'venv', '.ipynb_checkpoints', '.mypy_cache', '.pytest_cache']);
/** Ignore files read in every folder; a later file's `!pattern` re-includes what an earlier one left out. */
export const IGNORE_FILES = ['.gitignore', '.skiffignore'];

/** A file that travels: its path relative to the code root ('/'-separated), where it is, its size. */
export interface FoundFile {
  rel: string;
  abs: string;
  size: number;
}

/** Something under the code root that stays behind, and why (a folder is reported once, with a trailing '/'). */
export interface LeftOut {
  path: string;
  reason: 'hidden' | 'ignored' | 'not code' | 'link outside the folder' | 'not a regular file';
}

export interface ScanOptions {
  /** Hidden files and folders travel too (--include-hidden); VCS and virtualenv folders still do not. */
  includeHidden?: boolean;
}

export interface CodeFolder {
  root: string;
  files: FoundFile[];
  leftOut: LeftOut[];
  bytes: number;
}

/**
 * The script plus its siblings under `root` (recursively), sorted by path; without a script, the
 * whole folder (a notebook's, whose cell comes as content). The script itself is always included,
 * whatever the ignore rules say. Symlinks to files inside the folder are followed;
 * links that leave it, and links to folders, are left out (cycles, or a link to $HOME).
 */
export async function scanCodeFolder(root: string, script?: string, opts: ScanOptions = {}): Promise<CodeFolder> {
  const absRoot = path.resolve(root);
  if (script === undefined) {
    const info = await stat(absRoot).catch(() => undefined);
    if (!info?.isDirectory()) throw new SpecError(`code folder not found: ${absRoot}`, 'script');
    const out: CodeFolder = { root: absRoot, files: [], leftOut: [], bytes: 0 };
    await walk(absRoot, absRoot, '', [], out, opts);
    return finish(out);
  }
  const absScript = path.resolve(absRoot, script);
  const scriptStat = await stat(absScript).catch(() => undefined);
  if (!scriptStat?.isFile()) throw new SpecError(`script not found: ${absScript}`, 'script');
  const scriptRel = path.relative(absRoot, absScript);
  if (scriptRel.startsWith('..') || path.isAbsolute(scriptRel)) {
    throw new SpecError(`script ${absScript} is outside the code folder ${absRoot}`, 'script');
  }
  const out: CodeFolder = { root: absRoot, files: [], leftOut: [], bytes: 0 };
  await walk(absRoot, absRoot, '', [], out, opts);
  const scriptPosix = toPosix(scriptRel);
  if (!out.files.some((f) => f.rel === scriptPosix)) {
    out.files.push({ rel: scriptPosix, abs: absScript, size: scriptStat.size });
    out.leftOut = out.leftOut.filter((l) => l.path !== scriptPosix);
  }
  return finish(out);
}

function finish(out: CodeFolder): CodeFolder {
  out.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  out.bytes = out.files.reduce((sum, f) => sum + f.size, 0);
  return out;
}

interface Rules {
  /** Folder (relative to the root, '' for the root) the patterns are relative to. */
  base: string;
  ig: Ignore;
}

async function rulesIn(absDir: string, relDir: string): Promise<Rules | undefined> {
  const texts = await Promise.all(IGNORE_FILES.map((name) => readFile(path.join(absDir, name), 'utf8').catch(() => '')));
  if (texts.every((t) => t.trim() === '')) return undefined;
  return { base: relDir, ig: ignore().add(texts.join('\n')) };
}

/** Whether the rules of any enclosing folder ignore `rel`; the innermost folder's rules decide last. */
function ignored(rules: Rules[], rel: string, isDir: boolean): boolean {
  let result = false;
  for (const r of rules) {
    const sub = r.base ? rel.slice(r.base.length + 1) : rel;
    const verdict = r.ig.test(isDir ? `${sub}/` : sub);
    if (verdict.ignored) result = true;
    else if (verdict.unignored) result = false;
  }
  return result;
}

async function walk(absRoot: string, absDir: string, relDir: string, parentRules: Rules[], out: CodeFolder, opts: ScanOptions): Promise<void> {
  const own = await rulesIn(absDir, relDir);
  const rules = own ? [...parentRules, own] : parentRules;
  const entries = await readdir(absDir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const abs = path.join(absDir, entry.name);
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    const info = entry.isSymbolicLink() ? await stat(abs).catch(() => undefined) : entry;
    if (!info) {
      out.leftOut.push({ path: rel, reason: 'link outside the folder' });
      continue;
    }
    const isDir = info.isDirectory();
    const shown = isDir ? `${rel}/` : rel;
    if (entry.isSymbolicLink() && (isDir || !(await linksInside(absRoot, abs)))) {
      out.leftOut.push({ path: shown, reason: 'link outside the folder' });
    } else if (SKIPPED_DIRS.has(entry.name) && isDir) {
      out.leftOut.push({ path: shown, reason: 'not code' });
    } else if (entry.name.startsWith('.') && !opts.includeHidden) {
      // Hidden files are where credentials live (.env, .npmrc, .git-credentials): they stay home
      // unless the user asks for them.
      out.leftOut.push({ path: shown, reason: 'hidden' });
    } else if (ignored(rules, rel, isDir)) {
      out.leftOut.push({ path: shown, reason: 'ignored' });
    } else if (isDir) {
      await walk(absRoot, abs, rel, rules, out, opts);
    } else if (info.isFile()) {
      out.files.push({ rel, abs, size: (await stat(abs)).size });
    } else {
      out.leftOut.push({ path: shown, reason: 'not a regular file' });
    }
  }
}

async function linksInside(absRoot: string, link: string): Promise<boolean> {
  const [target, root] = await Promise.all([realpath(link), realpath(absRoot)]);
  return isWithin(root, target);
}

/** One line for the user: what stayed behind, by reason, e.g. "left out: .git/, .env (hidden); data/ (ignored)". */
export function leftOutText(leftOut: LeftOut[], max = 8): string | undefined {
  if (leftOut.length === 0) return undefined;
  const byReason = new Map<string, string[]>();
  for (const l of leftOut) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l.path]);
  const parts = [...byReason].map(([reason, paths]) => {
    const shown = paths.slice(0, max).join(', ');
    const why = reason === 'hidden' ? 'hidden: --include-hidden sends them' : reason;
    return `${shown}${paths.length > max ? ` and ${paths.length - max} more` : ''} (${why})`;
  });
  return `left out: ${parts.join('; ')}`;
}

/**
 * The code as files in memory, for clusters that get it in a ConfigMap (any context but a local
 * cluster's shared folder). Sizes are checked before anything is read, so a huge folder fails fast
 * with the biggest files named.
 */
export async function collectCodeFiles(root: string, script: string, opts: ScanOptions = {}): Promise<CodeFile[]> {
  return readCodeFolder(await scanCodeFolder(root, script, opts));
}

/** A scanned folder's files in memory, for a ConfigMap: over its limit, an error naming the biggest. */
export async function readCodeFolder(folder: CodeFolder): Promise<CodeFile[]> {
  if (folder.bytes > MAX_BUNDLE_BYTES) throw bundleTooBigError(folder.files.map((f) => ({ path: f.rel, bytes: f.size })));
  return readFoundFiles(folder.files);
}

export function readFoundFiles(files: FoundFile[]): Promise<CodeFile[]> {
  return Promise.all(files.map(async (f) => ({ path: f.rel, content: await readFile(f.abs) })));
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
