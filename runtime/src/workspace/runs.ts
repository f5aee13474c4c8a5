// A job's run folders on the host. Each submit gets a fresh folder that starts as a snapshot of the
// code folder (so a job never writes the user's own files) or, with --from, as a copy of an earlier
// run with the code copied over it (so a script that resumes from its checkpoint resumes). The
// folder outlives the job and its pods; only `skiff outputs JOB --remove` deletes it.
import { constants } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CodeFile } from '../types.js';
import type { FoundFile } from '../manifests/collect.js';
import { SkiffError } from '../errors.js';
import { jobRunsDir, namespaceRunsDir, runIdFor, runLogsDir } from './layout.js';

/** Written beside each run folder: what went in, so promotion can bake exactly the code. */
export interface RunRecord {
  job: string;
  namespace: string;
  cluster: string;
  runId: string;
  createdAt: string;
  script: string;
  /** Code files copied in, relative to the run folder. */
  codeFiles: string[];
  /** The run this one started from (its folder), when --from was given. */
  from?: string;
  packages?: string[];
}

export interface Run {
  runId: string;
  /** The run folder on the host. */
  dir: string;
  record: RunRecord;
}

const RECORD_SUFFIX = '.json';
/** Files copied at once: enough to keep a disk busy, few enough not to exhaust file descriptors. */
const COPY_CONCURRENCY = 16;

export interface NewRun {
  dataRoot: string;
  cluster: string;
  namespace: string;
  job: string;
  script: string;
  /** Files from the code folder, copied by path (no size limit, never read into memory). */
  files: FoundFile[];
  /** Files given as content (a notebook cell), written after the folder's files. */
  extraFiles?: CodeFile[];
  /** An earlier run folder to start from. */
  from?: string;
  packages?: string[];
  now?: Date;
}

/** Makes the run folder; on any failure nothing is left behind. */
export async function createRun(req: NewRun): Promise<Run> {
  const runId = runIdFor(req.now);
  const dir = path.join(jobRunsDir(req.dataRoot, req.cluster, req.namespace, req.job), runId);
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await mkdir(dir);
    await mkdir(runLogsDir(dir), { recursive: true });
    if (req.from) await cp(req.from, dir, { recursive: true, preserveTimestamps: true, errorOnExist: false, force: true });
    await copyFiles(req.files, dir);
    for (const f of req.extraFiles ?? []) {
      const target = path.join(dir, ...f.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, f.content);
    }
    const record: RunRecord = {
      job: req.job,
      namespace: req.namespace,
      cluster: req.cluster,
      runId,
      createdAt: (req.now ?? new Date()).toISOString(),
      script: req.script,
      codeFiles: [...new Set([...req.files.map((f) => f.rel), ...(req.extraFiles ?? []).map((f) => f.path)])].sort(),
      ...(req.from ? { from: req.from } : {}),
      ...(req.packages?.length ? { packages: req.packages } : {}),
    };
    await writeFile(dir + RECORD_SUFFIX, JSON.stringify(record, null, 2) + '\n');
    return { runId, dir, record };
  } catch (err) {
    await removeRun(dir);
    throw diskError(err, dir);
  }
}

/** Deletes a run folder, its record and its kept logs. */
export async function removeRun(dir: string): Promise<void> {
  await Promise.all([rm(dir, { recursive: true, force: true }), rm(dir + RECORD_SUFFIX, { force: true }), rm(runLogsDir(dir), { recursive: true, force: true })]);
}

async function copyFiles(files: FoundFile[], dir: string): Promise<void> {
  const dirs = new Set(files.map((f) => path.dirname(path.join(dir, ...f.rel.split('/')))));
  for (const d of [...dirs].sort()) await mkdir(d, { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++];
      // A copy-on-write clone where the file system has them, a plain copy elsewhere.
      await copyFile(f.abs, path.join(dir, ...f.rel.split('/')), constants.COPYFILE_FICLONE);
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, files.length) }, worker));
}

/** The runs of a job, oldest first. */
export async function listRuns(dataRoot: string, cluster: string, namespace: string, job: string): Promise<Run[]> {
  const parent = jobRunsDir(dataRoot, cluster, namespace, job);
  const names = await readdir(parent).catch(() => [] as string[]);
  const runs: Run[] = [];
  for (const name of names.filter((n) => n.endsWith(RECORD_SUFFIX)).sort()) {
    const dir = path.join(parent, name.slice(0, -RECORD_SUFFIX.length));
    const record = await readRecord(dir);
    if (record && (await stat(dir).catch(() => undefined))?.isDirectory()) runs.push({ runId: record.runId, dir, record });
  }
  return runs;
}

export async function readRecord(dir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(dir + RECORD_SUFFIX, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** The runs of a job, oldest first, or a clear error when it has none. */
export async function jobRuns(dataRoot: string, cluster: string, namespace: string, job: string): Promise<Run[]> {
  const runs = await listRuns(dataRoot, cluster, namespace, job);
  if (runs.length === 0) {
    throw new SkiffError('JOB_NOT_FOUND', `job '${job}' has no outputs on cluster '${cluster}' (namespace ${namespace})`, {
      hint: 'outputs are kept for jobs run on a local cluster; see `skiff outputs` for the jobs that have some',
    });
  }
  return runs;
}

/** The newest run of a job, or a clear error when it has none. */
export async function latestRun(dataRoot: string, cluster: string, namespace: string, job: string): Promise<Run> {
  return (await jobRuns(dataRoot, cluster, namespace, job)).at(-1)!;
}

/** Every job with outputs in a namespace, each with its runs (oldest first). */
export async function jobsWithRuns(dataRoot: string, cluster: string, namespace: string): Promise<{ job: string; runs: Run[] }[]> {
  const parent = namespaceRunsDir(dataRoot, cluster, namespace);
  const jobs = (await readdir(parent, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
  const found = await Promise.all(jobs.sort().map(async (job) => ({ job, runs: await listRuns(dataRoot, cluster, namespace, job) })));
  return found.filter((j) => j.runs.length > 0);
}

/** Copies a run folder elsewhere (`skiff outputs JOB --copy-to DIR`). */
export async function copyRun(run: Run, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  try {
    await cp(run.dir, to, { recursive: true, preserveTimestamps: true });
  } catch (err) {
    throw diskError(err, to);
  }
}

/** A full disk or a permission problem in plain words. */
export function diskError(err: unknown, where: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SkiffError('DISK_FULL', `the disk holding ${where} is full`, { hint: 'free some space (old runs: `skiff outputs JOB --remove`), then try again', cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SkiffError('BAD_INPUT', `no permission to write ${where}`, { hint: 'check the owner of the folder, or set $SKIFF_DATA_DIR to a folder of yours', cause: err });
  }
  return err;
}

/** Files of a run folder listed at once (API, editors): a checkpoint folder may hold thousands. */
export const MAX_LISTED_RUN_FILES = 500;

/** The files in a run folder, relative to it ('/'-separated, sorted), at most `max`. */
export async function runFiles(run: Run, max = MAX_LISTED_RUN_FILES): Promise<{ files: string[]; truncated: boolean }> {
  const entries = await readdir(run.dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(run.dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  return { files: files.slice(0, max), truncated: files.length > max };
}
