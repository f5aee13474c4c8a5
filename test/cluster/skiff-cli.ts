// Runs the built `skiff` CLI as a user would, in a child process, and captures what it prints.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../runtime/dist/cli/skiff.mjs', import.meta.url));
export const CLUSTER = process.env.SKIFF_E2E_CLUSTER ?? 'skiff-e2e';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function skiff(args: string[], timeoutMs = 10 * 60_000, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return skiffAt(CLUSTER, args, timeoutMs, env);
}

/** The CLI against another kind cluster (the promotion tests use two). */
export function skiffAt(cluster: string, args: string[], timeoutMs = 10 * 60_000, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, '--cluster', cluster, ...args], { cwd: REPO, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running command (e.g. `forward`), with its output as streams. */
export function spawnSkiff(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, '--cluster', CLUSTER, ...args], { cwd: REPO });
}

export async function skiffJson<T>(args: string[]): Promise<T> {
  const r = await skiff([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`skiff ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Streaming commands (`logs`, `metrics`) print one JSON object per line. */
export async function skiffJsonLines<T>(args: string[]): Promise<T[]> {
  const r = await skiff([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`skiff ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
