import { describe, expect, it } from 'vitest';
import { SkiffError } from '../errors.js';
import { RunError, type Runner } from '../exec/run.js';
import { assertReady, parseGpuList, preflight, type PreflightReport } from './preflight.js';

const dockerInfo = (info: object) => ({ info: async () => info });
const unreachableDocker = { info: async () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) };
const nvidiaSmi =
  (stdout: string): Runner =>
  async () => ({ stdout, stderr: '' });
const noNvidiaSmi: Runner = async (cmd, args) => {
  throw new RunError({ argv: [cmd, ...args], problem: `command not found: ${cmd}`, notFound: true });
};

const healthy: PreflightReport = {
  docker: { ok: true, endpoint: '/var/run/docker.sock', version: '28.0.0', runtimes: ['runc'], defaultRuntime: 'runc' },
  kind: { ok: true, path: '/usr/local/bin/kind' },
  gpus: { count: 0, nvidiaRuntime: false },
};
const gpuHost: PreflightReport = {
  ...healthy,
  docker: { ...healthy.docker, runtimes: ['nvidia', 'runc'], defaultRuntime: 'nvidia' },
  gpus: { count: 2, nvidiaRuntime: true },
};

function thrown(fn: () => void): SkiffError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SkiffError);
    return err as SkiffError;
  }
  throw new Error('expected an error');
}

describe('preflight', () => {
  it('gathers Docker, kind and GPU facts', async () => {
    const report = await preflight('gpu', {
      docker: dockerInfo({ ServerVersion: '28.1.1', Runtimes: { runc: {}, nvidia: {} }, DefaultRuntime: 'nvidia' }),
      findKind: async () => '/bin/kind',
      runner: nvidiaSmi('GPU 0: NVIDIA H100 (UUID: GPU-1)\n  MIG 1g.10gb Device 0: (UUID: MIG-1)\nGPU 1: NVIDIA H100 (UUID: GPU-2)\n'),
      dockerEndpoint: '/var/run/docker.sock',
    });
    expect(report).toEqual({
      docker: { ok: true, endpoint: '/var/run/docker.sock', version: '28.1.1', runtimes: ['nvidia', 'runc'], defaultRuntime: 'nvidia' },
      kind: { ok: true, path: '/bin/kind' },
      gpus: { count: 2, nvidiaRuntime: true },
    });
  });

  it('reports an unreachable engine and a missing kind', async () => {
    const report = await preflight('cpu', { docker: unreachableDocker, findKind: async () => undefined, dockerEndpoint: 'unix:///run/user/1000/docker.sock' });
    expect(report).toEqual({
      docker: { ok: false, endpoint: 'unix:///run/user/1000/docker.sock', runtimes: [], error: 'connect ENOENT /var/run/docker.sock' },
      kind: { ok: false },
      gpus: { count: 0, nvidiaRuntime: false },
    });
  });

  it('counts no GPUs without nvidia-smi, and does not run it for other profiles', async () => {
    const deps = { docker: dockerInfo({ Runtimes: { runc: {} } }), findKind: async () => 'kind' };
    expect((await preflight('gpu', { ...deps, runner: noNvidiaSmi })).gpus.count).toBe(0);
    let ran = false;
    const spy: Runner = async () => {
      ran = true;
      return { stdout: 'GPU 0: x', stderr: '' };
    };
    expect((await preflight('fake-gpu', { ...deps, runner: spy })).gpus.count).toBe(0);
    expect(ran).toBe(false);
  });
});

describe('assertReady', () => {
  it('passes a ready machine', () => {
    expect(() => assertReady(healthy, 'cpu')).not.toThrow();
    expect(() => assertReady(healthy, 'fake-gpu')).not.toThrow();
    expect(() => assertReady(gpuHost, 'gpu')).not.toThrow();
  });

  it('asks to start Docker when the engine is unreachable', () => {
    const err = thrown(() => assertReady({ ...healthy, docker: { ok: false, endpoint: '/var/run/docker.sock', runtimes: [], error: 'connect ECONNREFUSED' } }, 'cpu'));
    expect(err.code).toBe('NO_DOCKER');
    expect(err.message).toBe('Docker engine not reachable at /var/run/docker.sock: connect ECONNREFUSED');
    expect(err.hint).toBe('start Docker (sudo systemctl start docker) or set DOCKER_HOST');
  });

  it('points at the kind build when kind is missing', () => {
    const err = thrown(() => assertReady({ ...healthy, kind: { ok: false } }, 'cpu'));
    expect(err.code).toBe('NO_KIND');
    expect(err.hint).toBe('run `skiff images build binaries` or install kind v0.30.0');
  });

  it('needs a GPU, the NVIDIA runtime, and that runtime as default for the gpu profile', () => {
    const noGpu = thrown(() => assertReady(healthy, 'gpu'));
    expect(noGpu.code).toBe('NO_GPU');
    expect(noGpu.hint).toBe('use --profile fake-gpu to test GPU scheduling without a GPU');

    const noRuntime = thrown(() => assertReady({ ...healthy, gpus: { count: 1, nvidiaRuntime: false } }, 'gpu'));
    expect(noRuntime.code).toBe('NO_GPU');
    expect(noRuntime.message).toContain('NVIDIA container runtime');
    expect(noRuntime.hint).toContain('use --profile fake-gpu to test GPU scheduling without a GPU');

    const notDefault = thrown(() => assertReady({ ...gpuHost, docker: { ...gpuHost.docker, defaultRuntime: 'runc' } }, 'gpu'));
    expect(notDefault.code).toBe('NO_GPU');
    expect(notDefault.message).toContain("nvidia as Docker's default runtime");
    expect(notDefault.hint).toContain('--set-as-default');
  });

  it('refuses to split more GPUs over the nodes than the machine has', () => {
    expect(() => assertReady(gpuHost, 'gpu', { jobNodes: 2, gpusPerNode: 0 })).not.toThrow();
    const tooMany = thrown(() => assertReady(gpuHost, 'gpu', { jobNodes: 2, gpusPerNode: gpuHost.gpus.count }));
    expect(tooMany.code).toBe('NO_GPU');
    expect(tooMany.message).toMatch(/on each of 2 nodes is \d+ GPUs, and `nvidia-smi -L` lists \d+/);
    expect(tooMany.hint).toContain('leave --gpus-per-node out');
  });
});

describe('parseGpuList', () => {
  it('counts physical GPUs only', () => {
    expect(parseGpuList('')).toBe(0);
    expect(parseGpuList('GPU 0: A (UUID: 1)\n  MIG 3g.40gb Device 0: (UUID: M)\nGPU 1: B (UUID: 2)')).toBe(2);
  });
});
