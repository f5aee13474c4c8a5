// Where Skiff finds its tools (kind) and keeps its cache. Versions match runtime/images/versions.env. A leaf:
// the cluster layer and the image builds below it both read it.
import { access, constants, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const KIND_VERSION = 'v0.30.0';
export const KUBERNETES_VERSION = 'v1.34.1';
/** Node image built offline by runtime/images/build.sh (tag suffix: NODE_RECIPE). */
export const OFFLINE_NODE_IMAGE = 'skiff.local/node:v1.34.1-7';
/** kind v0.30.0's default node image. */
export const UPSTREAM_NODE_IMAGE = 'kindest/node:v1.34.0';

type Env = Record<string, string | undefined>;

/** $SKIFF_CACHE_DIR, else $XDG_CACHE_HOME/skiff, else ~/.cache/skiff. */
export function cacheDir(env: Env = process.env): string {
  if (env.SKIFF_CACHE_DIR) return env.SKIFF_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'skiff');
}

/** Where `skiff images build binaries` leaves the pinned kind. */
export function cachedKindPath(env: Env = process.env): string {
  return join(cacheDir(env), 'bin', `kind-${KIND_VERSION}`, 'kind');
}

/** The kind binaries to try, in order: $SKIFF_KIND, `kind` on PATH, the cached pinned build. */
export function kindCandidates(env: Env = process.env): string[] {
  const candidates: string[] = [];
  if (env.SKIFF_KIND) candidates.push(env.SKIFF_KIND);
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'kind'));
  candidates.push(cachedKindPath(env));
  return candidates;
}

/** The first kind binary that exists and is executable; looked up without spawning anything. */
export async function findKind(env: Env = process.env, isExecutable: (path: string) => Promise<boolean> = executable): Promise<string | undefined> {
  for (const candidate of kindCandidates(env)) if (await isExecutable(candidate)) return candidate;
  return undefined;
}

/** The kubeconfig kind writes by default: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: Env = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find(Boolean);
  return first ?? join(homedir(), '.kube', 'config');
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
