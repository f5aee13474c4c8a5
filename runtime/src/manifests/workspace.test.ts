import { describe, expect, it } from 'vitest';
import { parseServingSpec, parseTrainingSpec } from '../spec/job-spec.js';
import { trainingManifests } from './training.js';
import { servingManifests } from './serving.js';
import { kindClusterConfig } from './kind-config.js';
import type { Workspace } from './code-bundle.js';
import { NODE_DATA_DIR, NODE_HOME_DIR } from '../workspace/layout.js';

const lib = [{ path: 'skiff/launch.py', content: Buffer.from('') }];
const ws: Workspace = {
  hostDir: '/home/u/.local/share/skiff/runs/skiff/skiff/train/20261202-000000-000',
  nodeDir: '/skiff/host/runs/skiff/skiff/train/20261202-000000-000',
  packagesNodeDir: '/skiff/host/packages/0123/prefix/lib/python3.11/site-packages',
  logsNodeDir: '/skiff/host/runs/skiff/skiff/train/20261202-000000-000.logs',
  data: [{ nodePath: '/skiff/home/datasets/mnist', mountPath: '/skiff/work/mnist' }],
  runAs: { uid: 1000, gid: 1000 },
};

describe('jobs in a run folder', () => {
  const spec = parseTrainingSpec({ name: 'train', script: 'src/train.py', workers: 2 });

  it('mounts the run folder writable as the working directory, packages and data read-only, and ships no code ConfigMap', () => {
    const m = trainingManifests(spec, [], lib, {}, ws);
    expect(m.configMaps.map((c) => c.metadata?.name)).toEqual(['train-lib']);
    const pod = m.job.spec!.template.spec!;
    const c = pod.containers[0];
    expect(c.workingDir).toBe('/skiff/work');
    expect(c.command).toEqual(['python3', '-u', '-m', 'skiff.launch', '/skiff/work/src/train.py']);
    expect(pod.volumes?.filter((v) => v.hostPath)).toEqual([
      { name: 'work', hostPath: { path: ws.nodeDir, type: 'Directory' } },
      { name: 'packages', hostPath: { path: ws.packagesNodeDir, type: 'Directory' } },
      { name: 'logs', hostPath: { path: ws.logsNodeDir, type: 'Directory' } },
      { name: 'data-0', hostPath: { path: '/skiff/home/datasets/mnist', type: 'Directory' } },
    ]);
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'work', mountPath: '/skiff/work' },
        { name: 'packages', mountPath: '/skiff/packages', readOnly: true },
        { name: 'logs', mountPath: '/skiff/logs' },
        { name: 'data-0', mountPath: '/skiff/work/mnist', readOnly: true },
      ]),
    );
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value]));
    expect(env.PYTHONPATH).toBe('/skiff/lib:/skiff/packages');
    expect(env.SKIFF_WORK_DIR).toBe('/skiff/work');
    expect(env.HOME).toBe('/tmp');
    // The launcher keeps each pod's output on the host under the pod's name, with its uid and node.
    expect(env.SKIFF_LOG_DIR).toBe('/skiff/logs');
    const fields = Object.fromEntries(c.env!.filter((e) => e.valueFrom?.fieldRef).map((e) => [e.name, e.valueFrom!.fieldRef!.fieldPath]));
    expect(fields).toMatchObject({ SKIFF_POD_NAME: 'metadata.name', SKIFF_POD_UID: 'metadata.uid', SKIFF_NODE_NAME: 'spec.nodeName' });
    expect(pod.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 1000 });
  });

  it('runs as the image user when the host user is root, with no packages volume when there are none', () => {
    const plain: Workspace = { hostDir: ws.hostDir, nodeDir: ws.nodeDir, data: [] };
    const m = servingManifests(parseServingSpec({ name: 'srv', script: 'app.py' }), [], lib, {}, plain);
    const pod = m.deployment.spec!.template.spec!;
    expect(pod.securityContext).toBeUndefined();
    expect(pod.volumes?.map((v) => v.name)).toEqual(['work', 'skiff-lib', 'dshm']);
    const env = Object.fromEntries(pod.containers[0].env!.map((e) => [e.name, e.value]));
    expect(env.PYTHONPATH).toBe('/skiff/lib');
    expect(env.HOME).toBeUndefined();
    expect(env.SKIFF_LOG_DIR).toBeUndefined();
  });

  it("keeps no log for a notebook session's ranks: they run the cell agent, whose output goes to the cells", () => {
    const session = parseTrainingSpec({ name: 'nb', script: 'cell.py', workers: 2, session: { idleMinutes: 30 } });
    const c = trainingManifests(session, [], lib, {}, ws).job.spec!.template.spec!;
    expect(c.containers[0].env!.map((e) => e.name)).not.toContain('SKIFF_LOG_DIR');
    expect(c.volumes!.map((v) => v.name)).not.toContain('logs');
    expect(c.containers[0].volumeMounts!.map((m) => m.name)).not.toContain('logs');
  });

  it("shows a notebook session's ranks every package set, read-only, for a %pip install while they run", () => {
    const session = parseTrainingSpec({ name: 'nb', script: 'nb.ipynb', workers: 2, session: { idleMinutes: 30 } });
    const pod = trainingManifests(session, [], lib, {}, { ...ws, packageSetsNodeDir: '/skiff/host/packages' }).job.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'package-sets', hostPath: { path: '/skiff/host/packages', type: 'Directory' } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'package-sets', mountPath: '/skiff/package-sets', readOnly: true });
    // A plain job is given none.
    expect(trainingManifests(spec, [], lib, {}, ws).job.spec!.template.spec!.volumes!.map((v) => v.name)).not.toContain('package-sets');
  });

  it('keeps the ConfigMap form without a workspace (other contexts)', () => {
    const m = trainingManifests(spec, [{ path: 'src/train.py', content: Buffer.from('x') }], lib);
    expect(m.configMaps.map((c) => c.metadata?.name)).toEqual(['train-code', 'train-lib']);
    expect(m.job.spec!.template.spec!.containers[0].workingDir).toBe('/skiff/code');
  });
});

describe('kind config', () => {
  it('shares the data folder (writable) and the home folder (read-only) with every node', () => {
    const config = kindClusterConfig({ name: 'skiff', profile: 'cpu', workers: 2, gpusPerNode: 0, shared: { data: '/d', home: '/home/u' } });
    for (const node of config.nodes) {
      expect(node.extraMounts).toEqual([
        { hostPath: '/d', containerPath: NODE_DATA_DIR },
        { hostPath: '/home/u', containerPath: NODE_HOME_DIR, readOnly: true },
      ]);
    }
  });
});
