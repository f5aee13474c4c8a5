import { describe, expect, it } from 'vitest';
import { trainingJob } from '../manifests/training.js';
import { AGENT_PORT } from '../manifests/code-bundle.js';
import { cellForSession, notebookCellSources, notebookSessionCode, notebookSessionSpec } from './notebook.js';

describe('notebook sessions', () => {
  const spec = notebookSessionSpec({ name: 'train-s1abcd', namespace: 'skiff', notebook: 'train.ipynb', workers: 2, packages: ['flask'] });

  it('are training specs whose ranks run the agent, with its port declared and the idle minutes passed', () => {
    expect(spec).toMatchObject({ kind: 'training', workers: 2, script: 'train.ipynb', packages: ['flask'], session: { idleMinutes: 60 } });
    const container = trainingJob(spec, [], []).spec!.template.spec!.containers[0];
    expect(container.command).toEqual(['python3', '-u', '-m', 'skiff.agent', '--port', String(AGENT_PORT), '--idle-minutes', '60']);
    expect(container.ports).toContainEqual({ name: 'agent', containerPort: AGENT_PORT, protocol: 'TCP' });
    expect(container.env).toContainEqual({ name: 'WORLD_SIZE', value: '2' });
  });

  it('give each rank a time-slice of one GPU when asked a share, and refuse a share time-slicing cannot give', () => {
    const shared = notebookSessionSpec({ name: 'a', namespace: 'skiff', notebook: 'n.ipynb', workers: 2, gpuShare: 0.5 });
    expect(shared).toMatchObject({ gpusPerWorker: 1, gpuShare: 0.5 });
    const pod = trainingJob(shared, [], []).spec!.template.spec!;
    expect(pod.containers[0].resources?.limits).toMatchObject({ 'nvidia.com/gpu': '1' });
    expect(JSON.stringify(pod.affinity)).toContain('nvidia.com/gpu.replicas');
    expect(() => notebookSessionSpec({ name: 'a', namespace: 'skiff', notebook: 'n.ipynb', gpuShare: 0.75 })).toThrow(/gives each job at most half of it/);
    expect(() => notebookSessionSpec({ name: 'a', namespace: 'skiff', notebook: 'n.ipynb', gpusPerWorker: 2, gpuShare: 0.5 })).toThrow(/a share of one GPU/);
  });

  it('refuse idle minutes that are not a number of minutes', () => {
    expect(() => notebookSessionSpec({ name: 'a', namespace: 'skiff', notebook: 'n.ipynb', idleMinutes: -1 })).toThrow(/--idle-minutes must be between 0 and 10080/);
  });

  it("run in the notebook's folder, or with an empty notebook file when it has none", () => {
    expect(notebookSessionCode({ codeRoot: '/home/me/proj', notebook: 'train.ipynb' }, () => true)).toEqual({ codeRoot: '/home/me/proj' });
    // Not saved in its folder yet: the folder, and an empty file in the notebook's name.
    expect(notebookSessionCode({ codeRoot: '/home/me/proj', notebook: 'new.ipynb' }, () => false)).toEqual({
      codeRoot: '/home/me/proj',
      files: [{ path: 'new.ipynb', content: Buffer.alloc(0) }],
    });
    expect(notebookSessionCode({ notebook: 'Untitled-1.ipynb' }).files).toEqual([{ path: 'Untitled-1.ipynb', content: Buffer.alloc(0) }]);
  });

  it('drop %pip lines, keeping line numbers, and name the packages the session lacks', () => {
    expect(cellForSession('%pip install flask\nimport flask', ['flask'])).toEqual({ code: 'pass  # %pip install flask\nimport flask', missing: [] });
    expect(cellForSession('import os', [])).toEqual({ code: 'import os', missing: [] });
    expect(cellForSession('%pip install requests Flask\nimport requests', ['flask'])).toEqual({
      code: 'pass  # %pip install requests Flask\nimport requests',
      missing: ['requests'],
    });
  });

  it('read the code cells of an .ipynb in order, and say plainly when a file is not one', () => {
    const nb = JSON.stringify({
      cells: [
        { cell_type: 'markdown', source: '# hi' },
        { cell_type: 'code', source: ['a = 1\n', 'b = 2'] },
        { cell_type: 'code', source: 'a + b' },
      ],
    });
    expect(notebookCellSources(nb, 'n.ipynb')).toEqual(['a = 1\nb = 2', 'a + b']);
    expect(() => notebookCellSources('nope', 'n.ipynb')).toThrow(/n.ipynb is not a notebook/);
  });
});

describe('lostRanks', () => {
  it('names ranks whose pod is gone, failed, pending or being deleted, and none while all run', async () => {
    const { lostRanks } = await import('./sessions.js');
    const pod = (rank: number, phase: string, reason?: string) => ({ name: `s-${rank}-abcde`, rank, phase, ...(reason ? { reason } : {}) });
    expect(lostRanks({ workers: 2, pods: [pod(0, 'Running'), pod(1, 'Running')] })).toEqual([]);
    expect(lostRanks({ workers: 3, pods: [pod(0, 'Running'), pod(1, 'Running', 'Terminating'), pod(2, 'Failed', 'OOMKilled')] })).toEqual([
      'rank 1 (its pod s-1-abcde is being deleted)',
      'rank 2 (its pod s-2-abcde is Failed: OOMKilled)',
    ]);
    expect(lostRanks({ workers: 2, pods: [pod(0, 'Running')] })).toEqual(['rank 1 (its pod was deleted)']);
  });
});
