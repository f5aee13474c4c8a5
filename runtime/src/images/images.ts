// A thin wrapper around the image recipes in runtime/images: the shell scripts hold the
// knowledge (what to build, how to cache it); this module only runs them and relays progress.
import type Dockerode from 'dockerode';
import { readFileSync } from 'node:fs';
import { access, chmod, readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../exec/tools.js';
import { SkiffError } from '../errors.js';
import { run, type Runner } from '../exec/run.js';
import { DEFAULT_JOB_IMAGE } from '../spec/job-spec.js';

/** The image every job runs in (versions.env's JOB_IMAGE: JOB_DEBIAN_SUITE, then JOB_RECIPE). */
export const JOB_IMAGE = DEFAULT_JOB_IMAGE;

export type ImageSet = 'all' | 'binaries' | 'node' | 'job' | 'kueue' | 'prometheus';

/** The recipes' progress lines on stderr start with this. */
export const PROGRESS_PREFIX = '[skiff images] ';

/**
 * runtime/images: two levels up from both src/images/images.ts and dist/images/images.js, unless
 * $SKIFF_IMAGES_DIR says otherwise (a bundle, e.g. the VS Code extension, ships its own copy).
 */
export function imagesRecipeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SKIFF_IMAGES_DIR || fileURLToPath(new URL('../../images', import.meta.url));
}

/** The pinned versions and image names the recipes build (versions.env), by name. */
export function recipeVersions(recipeDir: string = imagesRecipeDir()): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(recipeDir, 'versions.env'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

export async function buildImages(what: ImageSet, onProgress?: (msg: string) => void, runner: Runner = run, recipeDir: string = imagesRecipeDir()): Promise<void> {
  const script = join(recipeDir, 'build.sh');
  try {
    await access(script);
  } catch {
    throw new SkiffError('IMAGE_MISSING', `the image recipes are missing (${script})`, { hint: 'reinstall Skiff' });
  }
  await runner('bash', [script, what], {
    env: { SKIFF_CACHE_DIR: cacheDir() },
    onLine: (line, stream) => {
      if (stream === 'stderr' && line.startsWith(PROGRESS_PREFIX)) onProgress?.(line.slice(PROGRESS_PREFIX.length));
    },
  });
}

/** Whether the local Docker engine has the image (by name or ID). */
export async function imageExists(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Deletes Skiff's build cache (built binaries, Go module and build caches). Images stay in Docker. */
export async function clearCache(folder: string = cacheDir()): Promise<void> {
  const dir = resolve(folder);
  if (dir === '/' || dir === resolve(homedir())) {
    throw new SkiffError('BAD_INPUT', `refusing to delete ${dir} as Skiff's cache`, { hint: 'set SKIFF_CACHE_DIR to a dedicated folder' });
  }
  await makeFoldersWritable(dir);
  await rm(dir, { recursive: true, force: true });
}

// Go's module cache is read-only by design; files can only be removed from writable folders.
async function makeFoldersWritable(dir: string): Promise<void> {
  let entries;
  try {
    await chmod(dir, 0o755);
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await makeFoldersWritable(join(dir, entry.name));
}
