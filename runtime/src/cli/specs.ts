// Command-line flags to validated specs. Everything goes through the spec parsers so that
// `--workers 0` fails with the same words from the CLI, the API and an editor.
import path from 'node:path';
import { CLUSTER_PROFILES, type ClusterProfile } from '../types.js';
import { SkiffError } from '../errors.js';
import type { UpRequest } from '../cluster/cluster.js';
import { parseEnvPairs, parseServingSpec, parseTrainingSpec, type DataMount, type ServingJobSpec, type TrainingJobSpec } from '../spec/job-spec.js';
import { WORK_MOUNT } from '../workspace/layout.js';

/** Flags shared by `skiff run` and `skiff serve` (commander hands them over as strings). */
export interface ResourceFlags {
  name?: string;
  gpusPerWorker?: string;
  gpus?: string;
  gpuShare?: string;
  cpu?: string;
  memory?: string;
  image?: string;
  env?: string[];
  codeDir?: string;
  pip?: string[];
  data?: string[];
}

export interface RunFlags extends ResourceFlags {
  workers?: string;
  retries?: string;
  masterPort?: string;
}

export interface ServeFlags extends ResourceFlags {
  port?: string;
  replicas?: string;
}

/**
 * Where the code comes from: --code-dir, else the script's own folder. The spec's script is the
 * path relative to that folder (posix), which the spec parser rejects if it climbs out of it.
 */
export function codeLocation(script: string, codeDir: string | undefined, cwd: string): { codeRoot: string; script: string } {
  const absScript = path.resolve(cwd, script);
  const codeRoot = codeDir ? path.resolve(cwd, codeDir) : path.dirname(absScript);
  return { codeRoot, script: path.relative(codeRoot, absScript).split(path.sep).join('/') };
}

function commonFields(flags: ResourceFlags, namespace: string | undefined, cwd: string) {
  const fields: Record<string, unknown> = {};
  if (flags.name !== undefined) fields.name = flags.name;
  if (namespace !== undefined) fields.namespace = namespace;
  const gpus = flags.gpusPerWorker ?? flags.gpus;
  if (gpus !== undefined) fields.gpusPerWorker = gpus;
  if (flags.gpuShare !== undefined) fields.gpuShare = flags.gpuShare;
  const resources: Record<string, string> = {};
  if (flags.cpu !== undefined) resources.cpu = flags.cpu;
  if (flags.memory !== undefined) resources.memory = flags.memory;
  fields.resources = resources;
  if (flags.image !== undefined) fields.image = flags.image;
  fields.env = parseEnvPairs(flags.env ?? []);
  if (flags.pip?.length) fields.packages = flags.pip;
  if (flags.data?.length) fields.data = flags.data.map((d) => parseDataFlag(d, cwd));
  return fields;
}

/**
 * `--data DIR[:PATH]`: DIR on this machine, mounted read-only at PATH in the container; PATH
 * defaults to DIR's name and a relative PATH is inside the job's working directory.
 */
export function parseDataFlag(value: string, cwd: string): DataMount {
  const colon = value.lastIndexOf(':');
  const [dir, target] = colon > 0 ? [value.slice(0, colon), value.slice(colon + 1)] : [value, ''];
  if (!dir) throw new SkiffError('BAD_INPUT', `--data expects DIR or DIR:PATH (got '${value}')`);
  const source = path.resolve(cwd, dir);
  const mountPath = target || path.basename(source);
  if (mountPath.split('/').includes('..')) throw new SkiffError('BAD_INPUT', `--data mount path must not contain '..' (got '${target}')`);
  return { source, target: path.posix.isAbsolute(mountPath) ? path.posix.normalize(mountPath) : path.posix.join(WORK_MOUNT, mountPath) };
}

export function trainingSpecFromFlags(script: string, args: string[], flags: RunFlags, ctx: { namespace?: string; cwd: string }): { spec: TrainingJobSpec; codeRoot: string } {
  const where = codeLocation(script, flags.codeDir, ctx.cwd);
  const input: Record<string, unknown> = { ...commonFields(flags, ctx.namespace, ctx.cwd), script: where.script, args };
  if (flags.workers !== undefined) input.workers = flags.workers;
  if (flags.retries !== undefined) input.backoffLimit = flags.retries;
  if (flags.masterPort !== undefined) input.masterPort = flags.masterPort;
  return { spec: parseTrainingSpec(input), codeRoot: where.codeRoot };
}

export function servingSpecFromFlags(script: string, args: string[], flags: ServeFlags, ctx: { namespace?: string; cwd: string }): { spec: ServingJobSpec; codeRoot: string } {
  const where = codeLocation(script, flags.codeDir, ctx.cwd);
  const input: Record<string, unknown> = { ...commonFields(flags, ctx.namespace, ctx.cwd), script: where.script, args };
  if (flags.port !== undefined) input.port = flags.port;
  if (flags.replicas !== undefined) input.replicas = flags.replicas;
  return { spec: parseServingSpec(input), codeRoot: where.codeRoot };
}

export interface UpFlags {
  profile?: string;
  workers?: string;
  gpusPerNode?: string;
  gpuSharing?: string;
  dra?: boolean;
  name?: string;
  image?: string;
  recreate?: boolean;
  /** Comma-separated add-ons, e.g. "mlflow". */
  with?: string;
}

const PROFILES: readonly ClusterProfile[] = CLUSTER_PROFILES;

export function upRequestFromFlags(flags: UpFlags, clusterName: string): UpRequest {
  const request: UpRequest = { name: flags.name ?? clusterName };
  if (flags.profile !== undefined) {
    if (!PROFILES.includes(flags.profile as ClusterProfile)) {
      throw new SkiffError('BAD_INPUT', `--profile must be one of ${PROFILES.join(', ')} (got '${flags.profile}')`);
    }
    request.profile = flags.profile as ClusterProfile;
  }
  if (flags.workers !== undefined) request.workers = wholeNumber('--workers', flags.workers);
  if (flags.gpusPerNode !== undefined) request.gpusPerNode = wholeNumber('--gpus-per-node', flags.gpusPerNode);
  if (flags.gpuSharing !== undefined) request.gpuSharing = wholeNumber('--gpu-sharing', flags.gpuSharing, 1);
  if (flags.dra !== undefined) request.dra = flags.dra;
  if (flags.image !== undefined) request.nodeImage = flags.image;
  if (flags.recreate) request.recreate = true;
  if (flags.with !== undefined)
    request.addons = flags.with
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
  return request;
}

/** A non-negative integer flag; anything else is BAD_INPUT naming the flag. */
export function wholeNumber(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new SkiffError('BAD_INPUT', `${flag} must be a whole number ≥ ${min} (got '${value}')`);
  }
  return n;
}

/** `-H 'Name: value'` pairs for `skiff call`. */
export function parseHeaders(pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new SkiffError('BAD_INPUT', `--header expects 'Name: value' (got '${pair}')`);
    headers[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return headers;
}
