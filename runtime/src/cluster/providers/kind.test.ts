import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SkiffError } from '../../errors.js';
import { RunError, type RunOptions, type Runner } from '../../exec/run.js';
import { createClusterArgs, KindProvider, kindProgressMessage, parseNames } from './kind.js';

interface Call {
  cmd: string;
  args: string[];
  opts?: RunOptions;
}

function fakeRunner(respond: (call: Call) => { stdout?: string; stderr?: string; lines?: string[] } = () => ({})) {
  const calls: Call[] = [];
  const runner: Runner = async (cmd, args, opts) => {
    const call = { cmd, args, opts };
    calls.push(call);
    const { stdout = '', stderr = '', lines = [] } = respond(call);
    for (const line of lines) opts?.onLine?.(line, 'stderr');
    return { stdout, stderr };
  };
  return { runner, calls };
}

describe('KindProvider', () => {
  it("asks a node's containerd whether it holds an image, by its exact name", async () => {
    const { runner, calls } = fakeRunner((call) => ({ stdout: call.args.at(-1) === 'name==skiff.local/job:3' ? 'skiff.local/job:3\n' : '' }));
    const kind = new KindProvider({ kindPath: '/k/kind', runner });
    expect(await kind.nodeHasImage('skiff-worker', 'skiff.local/job:3')).toBe(true);
    expect(await kind.nodeHasImage('skiff-worker', 'skiff.local/job:4')).toBe(false);
    expect(calls[0].args).toEqual(['exec', 'skiff-worker', 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q', 'name==skiff.local/job:3']);
  });

  it('creates a cluster from a temporary kind config, with its node image and kubeconfig', async () => {
    let config: unknown;
    let configPath = '';
    const nodeList = {
      items: ['skiff-control-plane', 'skiff-worker'].map((name, i) => ({
        metadata: { name },
        spec: { podCIDR: `10.244.${i}.0/24` },
        status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${i + 2}` }] },
      })),
    };
    const { runner, calls } = fakeRunner((call) => {
      if (call.args[0] === 'get') return { stdout: 'skiff-control-plane\nskiff-worker' };
      if (call.cmd === 'docker') return { stdout: call.args.includes('kubectl') ? JSON.stringify(nodeList) : '' };
      configPath = call.args[call.args.indexOf('--config') + 1];
      config = parse(readFileSync(configPath, 'utf8'));
      return { lines: [' • Ensuring node image (skiff.local/node:v1.34.1-6) 🖼  ...', ' ✓ Ensuring node image (skiff.local/node:v1.34.1-6) 🖼', 'Thanks for using kind! 😊'] };
    });
    const progress: string[] = [];
    const kind = new KindProvider({ kindPath: '/k/kind', runner, kubeconfigPath: '/home/u/.kube/config' });
    await kind.create({ name: 'skiff', profile: 'fake-gpu', workers: 2, gpusPerNode: 1, nodeImage: 'skiff.local/node:v1.34.1-6' }, (m) => progress.push(m));

    expect(calls[0].cmd).toBe('/k/kind');
    // then the pod network: each node's CNI config and a route to the other node's pods
    const routes = calls.filter((c) => c.args.includes('route')).map((c) => c.args.slice(1).join(' '));
    expect(routes).toEqual(['skiff-control-plane ip route replace 10.244.1.0/24 via 172.18.0.3', 'skiff-worker ip route replace 10.244.0.0/24 via 172.18.0.2']);
    expect(calls.filter((c) => c.opts?.input).map((c) => JSON.parse(String(c.opts!.input)).plugins[0].type)).toEqual(['ptp', 'ptp']);
    expect(calls[0].args).toEqual([
      'create',
      'cluster',
      '--name',
      'skiff',
      '--config',
      configPath,
      '--image',
      'skiff.local/node:v1.34.1-6',
      '--wait',
      '0s',
      '--kubeconfig',
      '/home/u/.kube/config',
    ]);
    expect(config).toMatchObject({ kind: 'Cluster', name: 'skiff', nodes: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker' }] });
    expect(existsSync(configPath)).toBe(false);
    expect(progress).toEqual(['Ensuring node image (skiff.local/node:v1.34.1-6)', 'Configuring the pod network']);
  });

  it('removes the temporary config when kind fails', async () => {
    let configPath = '';
    const runner: Runner = async (cmd, args) => {
      configPath = args[args.indexOf('--config') + 1];
      throw new RunError({ argv: [cmd, ...args], problem: 'failed with exit code 1', exitCode: 1, stderr: 'ERROR: failed to create cluster' });
    };
    const kind = new KindProvider({ kindPath: 'kind', runner, kubeconfigPath: '/kc' });
    await expect(kind.create({ name: 'x', profile: 'cpu', workers: 0, gpusPerNode: 0 })).rejects.toThrow(/failed to create cluster/);
    expect(configPath).not.toBe('');
    expect(existsSync(configPath)).toBe(false);
  });

  it('builds the other kind commands', async () => {
    const { runner, calls } = fakeRunner((call) => (call.args[1] === 'clusters' ? { stdout: 'skiff\nother' } : { stdout: 'skiff-control-plane\nskiff-worker' }));
    const kind = new KindProvider({ kindPath: 'kind', runner, kubeconfigPath: '/kc' });
    expect(await kind.list()).toEqual(['skiff', 'other']);
    expect(await kind.nodeContainers('skiff')).toEqual(['skiff-control-plane', 'skiff-worker']);
    await kind.delete('skiff');
    await kind.kubeconfig('skiff');
    await kind.loadImageArchive('skiff', '/cache/job.tar');
    expect(calls.map((c) => c.args)).toEqual([
      ['get', 'clusters'],
      ['get', 'nodes', '--name', 'skiff'],
      ['delete', 'cluster', '--name', 'skiff', '--kubeconfig', '/kc'],
      ['get', 'kubeconfig', '--name', 'skiff'],
      ['get', 'nodes', '--name', 'skiff'],
      ['load', 'image-archive', '/cache/job.tar', '--name', 'skiff', '--nodes', 'skiff-worker'],
    ]);
  });

  it("sets up the NVIDIA runtime in the gpu profile's GPU nodes, nvkind's way, and says which step failed", async () => {
    const gpuMounts = JSON.stringify([{ Source: '/dev/null', Destination: '/var/run/nvidia-container-devices/0' }]);
    const nodeList = {
      items: ['gpu-control-plane', 'gpu-worker'].map((name, i) => ({
        metadata: { name },
        spec: { podCIDR: `10.244.${i}.0/24` },
        status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${i + 2}` }] },
      })),
    };
    const respond = (failInstall: boolean) => (call: Call) => {
      if (call.args[0] === 'get') return { stdout: 'gpu-control-plane\ngpu-worker' };
      if (call.args.includes('kubectl')) return { stdout: JSON.stringify(nodeList) };
      if (call.args[0] === 'inspect') return { stdout: call.args.at(-1) === 'gpu-worker' ? gpuMounts : '[]' };
      if (failInstall && call.args.join(' ').includes('apt-get install -y nvidia-container-toolkit')) throw new Error('exit code 100: could not resolve nvidia.github.io');
      return {};
    };
    const { runner, calls } = fakeRunner(respond(false));
    const progress: string[] = [];
    const kind = new KindProvider({ kindPath: 'kind', runner, kubeconfigPath: '/kc' });
    await kind.create({ name: 'gpu', profile: 'gpu', workers: 1, gpusPerNode: 1 }, (m) => progress.push(m));
    const inNode = calls.filter((c) => c.args[0] === 'exec' && c.args[2] === 'bash').map((c) => [c.args[1], c.args.at(-1)!.split('\n')[1]]);
    expect(inNode).toEqual([
      ['gpu-worker', "if ! grep -q '^ModifyDeviceFiles: 0' /proc/driver/nvidia/params; then"],
      ['gpu-worker', 'command -v nvidia-ctk >/dev/null && exit 0'],
      ['gpu-worker', 'nvidia-ctk runtime configure --runtime=containerd --config-source=file'],
    ]);
    expect(progress).toContain('Setting up the NVIDIA runtime on gpu-worker (GPUs 0)');

    const failing = new KindProvider({ kindPath: 'kind', runner: fakeRunner(respond(true)).runner, kubeconfigPath: '/kc' });
    const err = await failing.create({ name: 'gpu', profile: 'gpu', workers: 1, gpusPerNode: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_GPU', message: expect.stringMatching(/installing NVIDIA's container toolkit on node gpu-worker failed: .*nvidia\.github\.io/) });
  });

  it('loads images onto the control plane only when it is the one node', async () => {
    const { runner, calls } = fakeRunner(() => ({ stdout: 'solo-control-plane' }));
    await new KindProvider({ kindPath: 'kind', runner, kubeconfigPath: '/kc' }).loadImageArchive('solo', '/cache/job.tar');
    expect(calls.at(-1)?.args).toEqual(['load', 'image-archive', '/cache/job.tar', '--name', 'solo', '--nodes', 'solo-control-plane']);
  });

  it('reports a missing kind binary as NO_KIND', async () => {
    const runner: Runner = async (cmd, args) => {
      throw new RunError({ argv: [cmd, ...args], problem: `command not found: ${cmd}`, notFound: true });
    };
    const err = await new KindProvider({ kindPath: '/nope/kind', runner }).list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkiffError);
    expect((err as SkiffError).code).toBe('NO_KIND');
    expect((err as SkiffError).hint).toContain('skiff images build binaries');
  });

  it('looks kind up at its first use, again after a failed lookup', async () => {
    const { runner, calls } = fakeRunner();
    const found: (string | undefined)[] = [undefined, '/later/kind'];
    const kind = new KindProvider({
      runner,
      kubeconfigPath: '/kc',
      kindPath: async () => {
        const path = found.shift();
        if (!path) throw new SkiffError('NO_KIND', 'kind not found');
        return path;
      },
    });
    // Naming a cluster's context runs nothing.
    expect(kind.contextName('skiff')).toBe('kind-skiff');
    expect(kind.clusterLabel).toBe('io.x-k8s.kind.cluster');
    await expect(kind.list()).rejects.toMatchObject({ code: 'NO_KIND' });
    await kind.list();
    expect(calls.map((c) => c.cmd)).toEqual(['/later/kind']);
  });
});

describe('createClusterArgs', () => {
  it('leaves the image to the config when none is given', () => {
    expect(createClusterArgs({ name: 'a', profile: 'cpu', workers: 1, gpusPerNode: 0 }, '/c.yaml', '/kc')).toEqual([
      'create',
      'cluster',
      '--name',
      'a',
      '--config',
      '/c.yaml',
      '--wait',
      '0s',
      '--kubeconfig',
      '/kc',
    ]);
  });
});

describe('parseNames', () => {
  it('reads one name per line and ignores the "none found" notice', () => {
    expect(parseNames('skiff\nkind\n')).toEqual(['skiff', 'kind']);
    expect(parseNames('')).toEqual([]);
    expect(parseNames('No kind clusters found.\n')).toEqual([]);
    expect(parseNames('No kind nodes found for cluster "x".')).toEqual([]);
  });
});

describe('kindProgressMessage', () => {
  it("keeps kind's step names without decoration", () => {
    expect(kindProgressMessage('Creating cluster "skiff" ...')).toBe('Creating cluster "skiff"');
    expect(kindProgressMessage(' • Preparing nodes 📦 📦 📦   ...')).toBe('Preparing nodes');
    expect(kindProgressMessage(' • Starting control-plane 🕹️  ...')).toBe('Starting control-plane');
    expect(kindProgressMessage(' ✗ Starting control-plane 🕹️')).toBe('failed: Starting control-plane');
    expect(kindProgressMessage('\u001b[32m • Installing CNI 🔌  ...\u001b[0m')).toBe('Installing CNI');
    expect(kindProgressMessage('Set kubectl context to "kind-skiff"')).toBe('Set kubectl context to "kind-skiff"');
  });

  it('drops finished steps, blank lines and closing advice', () => {
    for (const line of [' ✓ Preparing nodes 📦', '', '   ', 'You can now use your cluster with:', 'kubectl cluster-info --context kind-skiff', 'Have a nice day! 👋']) {
      expect(kindProgressMessage(line)).toBeUndefined();
    }
  });
});
