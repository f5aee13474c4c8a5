// Where a local cluster's jobs keep their files. One host folder (the data folder) is shared into
// every kind node at `skiff up`, so a hostPath volume in any pod reaches the same files on the host:
// each job runs in its own run folder there (writable, shared by all its ranks, kept after the job),
// and resolved Python packages sit beside the runs, read-only to pods.
import { homedir } from 'node:os';
import path from 'node:path';

type Env = Record<string, string | undefined>;

/** Where the data folder appears inside every node (kind extraMounts). */
export const NODE_DATA_DIR = '/skiff/host';
/** Where the user's home folder appears inside every node, read-only: `--data` folders come from it. */
export const NODE_HOME_DIR = '/skiff/home';
/** The job's working directory inside its containers. */
export const WORK_MOUNT = '/skiff/work';
/** Resolved Python packages inside the containers (on PYTHONPATH). */
export const PACKAGES_MOUNT = '/skiff/packages';
/**
 * Every resolved package set, read-only, in a notebook session's ranks: a `%pip install` run while
 * the session lives resolves a new set on the host, and the ranks add it to sys.path from here.
 */
export const PACKAGE_SETS_MOUNT = '/skiff/package-sets';

/** Where a pod keeps its own output (runtime/python/skiff/keep_logs.py), a folder beside the run folder on the host. */
export const LOGS_MOUNT = '/skiff/logs';

export const RUNS_DIR = 'runs';
export const PACKAGES_DIR = 'packages';

/** $SKIFF_DATA_DIR, else $XDG_DATA_HOME/skiff, else ~/.local/share/skiff: results, not a cache. */
export function dataDir(env: Env = process.env): string {
  if (env.SKIFF_DATA_DIR) return path.resolve(env.SKIFF_DATA_DIR);
  return path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'skiff');
}

/** The folders a local cluster shares with the host: the data folder and, for `--data`, the home folder. */
export interface SharedFolders {
  /** Host path of the data folder (mounted at NODE_DATA_DIR). */
  data: string;
  /** Host path of the folder mounted read-only at NODE_HOME_DIR, when the cluster has it. */
  home?: string;
}

/** Every job's runs in a namespace: `<data>/runs/<cluster>/<namespace>/`. */
export function namespaceRunsDir(dataRoot: string, cluster: string, namespace: string): string {
  return path.join(dataRoot, RUNS_DIR, cluster, namespace);
}

/** Every run of one job, newest last: `<data>/runs/<cluster>/<namespace>/<job>/`. */
export function jobRunsDir(dataRoot: string, cluster: string, namespace: string, job: string): string {
  return path.join(namespaceRunsDir(dataRoot, cluster, namespace), job);
}

/**
 * Where a run's pods keep their output: `<run folder>.logs/`, beside the run folder rather than in
 * it, so that logs are not outputs (`--from`, promotion and `skiff outputs --copy-to` take the run
 * folder alone) and outlive the pods that wrote them.
 */
export function runLogsDir(runDir: string): string {
  return `${runDir}.logs`;
}

/** Whether `target` is `root` or lies beneath it: both absolute, any links already resolved by the caller. */
export function isWithin(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** A host path under the data folder as the nodes see it; undefined when it is outside it. */
export function nodePathOf(shared: SharedFolders, hostPath: string): string | undefined {
  for (const [root, nodeRoot] of [
    [shared.data, NODE_DATA_DIR],
    [shared.home, NODE_HOME_DIR],
  ] as const) {
    if (!root || !isWithin(root, hostPath)) continue;
    const rel = path.relative(root, hostPath);
    return rel === '' ? nodeRoot : path.posix.join(nodeRoot, ...rel.split(path.sep));
  }
  return undefined;
}

/** A run id that sorts by time: 20261202-061530-123. */
export function runIdFor(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-12-02T06:15:30.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}`;
}

/** The host user's ids, for pods that write into the data folder (undefined when that is root, which pods are already). */
export function hostUserIds(): { uid: number; gid: number } | undefined {
  const uid = process.getuid?.();
  return uid !== undefined && uid !== 0 ? { uid, gid: process.getgid?.() ?? uid } : undefined;
}
