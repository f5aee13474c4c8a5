// Facts about the machine first, decisions second: preflight() only gathers (Docker engine,
// kind binary, NVIDIA runtime and GPUs) and assertReady() turns missing pieces into errors with
// the fix in the hint. Every probe is injectable so the decisions are testable without Docker.
import Docker from 'dockerode';
import { SkiffError } from '../errors.js';
import { run, withTimeout, type Runner } from '../exec/run.js';
import type { ClusterProfile } from '../types.js';
import { cachedKindPath, findKind, KIND_VERSION } from '../exec/tools.js';

export interface PreflightReport {
  docker: {
    ok: boolean;
    /** Where Skiff looked for the engine ($DOCKER_HOST or the default socket). */
    endpoint?: string;
    version?: string;
    runtimes: string[];
    defaultRuntime?: string;
    error?: string;
  };
  kind: { ok: boolean; path?: string };
  /** Probed only for the gpu profile (nvidia-smi is slow to start); zero otherwise. */
  gpus: { count: number; nvidiaRuntime: boolean };
}

/** The part of Dockerode preflight reads. */
export interface DockerInfoSource {
  info(): Promise<unknown>;
}

export interface PreflightDeps {
  docker?: DockerInfoSource;
  findKind?: () => Promise<string | undefined>;
  runner?: Runner;
  /** Shown in messages; default $DOCKER_HOST or /var/run/docker.sock, as Dockerode resolves it. */
  dockerEndpoint?: string;
}

const DOCKER_INFO_TIMEOUT_MS = 10_000;
const NVIDIA_SMI_TIMEOUT_MS = 20_000;
export const NVIDIA_RUNTIME = 'nvidia';
export const DOCKER_HINT = 'start Docker (sudo systemctl start docker) or set DOCKER_HOST';
export const FAKE_GPU_HINT = 'use --profile fake-gpu to test GPU scheduling without a GPU';

export function dockerEndpoint(env: Record<string, string | undefined> = process.env): string {
  return env.DOCKER_HOST || '/var/run/docker.sock';
}

export async function preflight(profile: ClusterProfile, deps: PreflightDeps = {}): Promise<PreflightReport> {
  const docker = deps.docker ?? new Docker();
  const [dockerFacts, kindPath, gpuCount] = await Promise.all([
    dockerReport(docker, deps.dockerEndpoint ?? dockerEndpoint()),
    (deps.findKind ?? findKind)(),
    profile === 'gpu' ? countGpus(deps.runner ?? run) : Promise.resolve(0),
  ]);
  return {
    docker: dockerFacts,
    kind: kindPath ? { ok: true, path: kindPath } : { ok: false },
    gpus: { count: gpuCount, nvidiaRuntime: dockerFacts.runtimes.includes(NVIDIA_RUNTIME) },
  };
}

/** GPUs a cluster asks for: `gpusPerNode` on each of its job nodes; 0 per node means "all, shared". */
export interface GpuDemand {
  jobNodes: number;
  gpusPerNode: number;
}

export function assertReady(report: PreflightReport, profile: ClusterProfile, demand?: GpuDemand): void {
  const { docker, kind, gpus } = report;
  if (!docker.ok) {
    throw new SkiffError('NO_DOCKER', `Docker engine not reachable at ${docker.endpoint ?? dockerEndpoint()}: ${docker.error ?? 'unknown error'}`, {
      hint: DOCKER_HINT,
    });
  }
  if (!kind.ok) {
    throw new SkiffError('NO_KIND', `kind not found ($SKIFF_KIND, PATH, ${cachedKindPath()})`, {
      hint: `run \`skiff images build binaries\` or install kind ${KIND_VERSION}`,
    });
  }
  if (profile !== 'gpu') return;
  if (gpus.count === 0) {
    throw new SkiffError('NO_GPU', 'the gpu profile needs an NVIDIA GPU, and `nvidia-smi -L` lists none', { hint: FAKE_GPU_HINT });
  }
  if (!gpus.nvidiaRuntime) {
    throw new SkiffError('NO_GPU', 'the gpu profile needs the NVIDIA container runtime, and Docker has none registered', {
      hint: `install the NVIDIA Container Toolkit and run \`sudo nvidia-ctk runtime configure --runtime=docker --set-as-default\`, or ${FAKE_GPU_HINT}`,
    });
  }
  // nvkind's approach: kind nodes get their GPUs only when Docker starts them with the NVIDIA runtime.
  if (docker.defaultRuntime !== NVIDIA_RUNTIME) {
    throw new SkiffError('NO_GPU', `the gpu profile needs nvidia as Docker's default runtime, and it is ${docker.defaultRuntime ?? 'unknown'}`, {
      hint: `run \`sudo nvidia-ctk runtime configure --runtime=docker --set-as-default && sudo systemctl restart docker\`, or ${FAKE_GPU_HINT}`,
    });
  }
  const wanted = demand && demand.gpusPerNode > 0 ? demand.gpusPerNode * demand.jobNodes : 0;
  if (wanted > gpus.count) {
    throw new SkiffError('NO_GPU', `${demand!.gpusPerNode} GPUs on each of ${demand!.jobNodes} nodes is ${wanted} GPUs, and \`nvidia-smi -L\` lists ${gpus.count}`, {
      hint: 'lower --gpus-per-node or --workers, or leave --gpus-per-node out to give every node all the GPUs',
    });
  }
}

async function dockerReport(docker: DockerInfoSource, endpoint: string): Promise<PreflightReport['docker']> {
  try {
    const info = (await withTimeout(docker.info(), DOCKER_INFO_TIMEOUT_MS, 'no answer')) as {
      ServerVersion?: string;
      Runtimes?: Record<string, unknown>;
      DefaultRuntime?: string;
    };
    return {
      ok: true,
      endpoint,
      version: info.ServerVersion,
      runtimes: Object.keys(info.Runtimes ?? {}).sort(),
      defaultRuntime: info.DefaultRuntime,
    };
  } catch (err) {
    return { ok: false, endpoint, runtimes: [], error: err instanceof Error ? err.message : String(err) };
  }
}

/** GPUs the NVIDIA driver sees; 0 without nvidia-smi or when it fails. */
export async function countGpus(runner: Runner = run): Promise<number> {
  try {
    return parseGpuList((await runner('nvidia-smi', ['-L'], { timeoutMs: NVIDIA_SMI_TIMEOUT_MS })).stdout);
  } catch {
    return 0;
  }
}

/** Counts "GPU 0: NVIDIA H100 (UUID: GPU-…)" lines of `nvidia-smi -L` (MIG devices are indented). */
export function parseGpuList(stdout: string): number {
  return stdout.split('\n').filter((line) => /^GPU \d+:/.test(line)).length;
}
