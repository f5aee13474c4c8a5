import { describe, expect, it } from 'vitest';
import { parseJobSpec, parseTrainingSpec } from '../spec/job-spec.js';
import {
  cellJobOptions,
  cellResourcesText,
  cellServingSpec,
  cellTrainingSpec,
  gpuFields,
  jobNameFrom,
  scriptFromCells,
  sessionGpus,
  sessionSizeText,
  withCellJobOptions,
} from './cells.js';
import { clusterGpusText, clusterUpRequest, gpuChoices, gpuSharingLabel } from './cluster-text.js';

const defaults = { workers: 3, gpusPerWorker: 0, namespace: 'skiff' };

describe('cell jobs', () => {
  it('lets a cell choose workers, GPUs, name and env through metadata.skiff (also nested as .ipynb metadata)', () => {
    expect(cellJobOptions({ skiff: { workers: 2, gpusPerWorker: 1, env: { LR: 0.1 } } })).toEqual({ workers: 2, gpusPerWorker: 1, env: { LR: '0.1' } });
    expect(cellJobOptions({ metadata: { skiff: { name: 'exp-1' } } })).toEqual({ name: 'exp-1' });
    expect(cellJobOptions({ skiff: 'nonsense' })).toEqual({});
    expect(cellJobOptions(undefined)).toEqual({});
  });

  it('builds a spec the runtime accepts, cell choices over the defaults', () => {
    const spec = parseTrainingSpec(cellTrainingSpec(defaults, 'cell.py', 'nb-abcde', { workers: 2, env: { A: '1' } }));
    expect(spec).toMatchObject({ name: 'nb-abcde', script: 'cell.py', workers: 2, namespace: 'skiff', env: { A: '1' } });
    expect(parseTrainingSpec(cellTrainingSpec(defaults, 'cell.py', 'nb-x')).workers).toBe(3);
    // Below one GPU per worker, a cell asks for a share of one: a time-slice.
    expect(parseTrainingSpec(cellTrainingSpec(defaults, 'cell.py', 'nb-x', { gpusPerWorker: 0.5 }))).toMatchObject({ gpusPerWorker: 1, gpuShare: 0.5 });
    expect(() => parseTrainingSpec(cellTrainingSpec(defaults, 'cell.py', 'nb', { workers: 0 }))).toThrow(/--workers/);
  });

  it('derives DNS-safe job names from file names', () => {
    expect(jobNameFrom('My Experiment_v2.ipynb', 'x1y2z')).toBe('my-experiment-v2-x1y2z');
    expect(jobNameFrom('__.py', 'abcde')).toBe('job-abcde');
    // Names the spec would refuse: a leading digit, too long, not ASCII.
    expect(jobNameFrom('2024-results.ipynb', 'abcde')).toBe('nb-2024-results-abcde');
    const long = jobNameFrom('a-notebook-with-a-really-very-long-descriptive-name.ipynb', 'abcde');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toBe('a-notebook-with-a-really-very-long-abcde');
    expect(jobNameFrom('Über Résumé 数据.ipynb', 'abcde')).toBe('uber-resume-abcde');
    for (const name of ['2024-results.ipynb', 'Über Résumé 数据.ipynb', '----.ipynb', 'x'.repeat(300)]) {
      expect(() => parseJobSpec(cellTrainingSpec({ workers: 1, gpusPerWorker: 0 }, 'cell.py', jobNameFrom(name, 'abcde'))), name).not.toThrow();
    }
  });
});

describe('cells as scripts and serving jobs', () => {
  it('joins cells in order and keeps IPython-only lines as comments, pip lines as they are (the runtime installs them)', () => {
    expect(scriptFromCells(['%pip install x\nimport os', '', '!ls\nprint(os.getcwd())\n!pip install -q y'])).toBe(
      '%pip install x\nimport os\n\n# (IPython only) !ls\nprint(os.getcwd())\n!pip install -q y\n',
    );
  });

  it('builds a serving spec the runtime accepts', () => {
    const spec = parseJobSpec(cellServingSpec({ namespace: 'skiff' }, 'app.py', 'app-x1', { port: 8080, replicas: 2 }));
    expect(spec).toMatchObject({ kind: 'serving', name: 'app-x1', script: 'app.py', port: 8080, replicas: 2, namespace: 'skiff' });
    expect(() => parseJobSpec(cellServingSpec({}, 'app.py', 'app-x2', { port: 0 }))).toThrow(/--port/);
  });
});

describe("a cell's choices written back", () => {
  it('lands where cellJobOptions reads it, nested or not, keeping the other metadata', () => {
    const vscodeIpynb = { execution_count: 3, metadata: { tags: ['x'], skiff: { workers: 4, name: 'old' } } };
    const written = withCellJobOptions(vscodeIpynb, { workers: 2, gpusPerWorker: 1 });
    expect(written).toEqual({ execution_count: 3, metadata: { tags: ['x'], skiff: { workers: 2, gpusPerWorker: 1 } } });
    expect(cellJobOptions(written)).toEqual({ workers: 2, gpusPerWorker: 1 });
    const flat = withCellJobOptions({ tags: ['y'] }, { workers: 3, gpusPerWorker: undefined });
    expect(flat).toEqual({ tags: ['y'], skiff: { workers: 3 } });
    expect(cellJobOptions(withCellJobOptions(undefined, { workers: 1 }))).toEqual({ workers: 1 });
  });

  it('says the resources in a few words', () => {
    expect(cellResourcesText(1, 0)).toBe('1 worker');
    expect(cellResourcesText(2, 1)).toBe('2 workers · 1 GPU each');
    expect(cellResourcesText(4, 2)).toBe('4 workers · 2 GPUs each');
    expect(cellResourcesText(2, 0.5)).toBe('2 workers · 0.5 GPU each (a time-slice)');
  });

  it("turn a GPUs-per-rank choice below 1 into a share, and read a session's size back as the editors show it", () => {
    expect(gpuFields(0.5)).toEqual({ gpuShare: 0.5 });
    expect(gpuFields(2)).toEqual({ gpusPerWorker: 2 });
    expect(gpuFields(0)).toEqual({ gpusPerWorker: 0 });
    expect(sessionGpus({ gpusPerWorker: 1, gpuShare: 0.5 })).toBe(0.5);
    expect(sessionGpus({ gpusPerWorker: 2 })).toBe(2);
    expect(sessionSizeText(1, 0)).toBe('1 rank');
    expect(sessionSizeText(2, 1)).toBe('2 ranks × 1 GPU');
    expect(sessionSizeText(2, 0.5)).toBe('2 ranks × 0.5 GPU (a time-slice)');
  });

  it('ask a new cluster for GPU sharing only where its profile has GPUs, and say how its GPUs are shared', () => {
    expect(clusterUpRequest('cpu', { nodes: 2, gpuSharing: 2 })).toEqual({ profile: 'cpu', workers: 2 });
    expect(clusterUpRequest('fake-gpu', { nodes: 2, gpuSharing: 2 })).toEqual({ profile: 'fake-gpu', workers: 2, gpuSharing: 2 });
    const node = (gpus: number, gpuSharing?: number) => ({ name: 'n', role: 'worker' as const, ready: true, gpus, ...(gpuSharing ? { gpuSharing } : {}) });
    const cluster = (nodes: ReturnType<typeof node>[]) => ({ name: 'skiff', context: 'kind-skiff', profile: 'fake-gpu' as const, nodes });
    expect(clusterGpusText(cluster([node(0)]))).toBe('');
    expect(clusterGpusText(cluster([node(1), node(0)]))).toBe('1 GPU');
    expect(clusterGpusText(cluster([node(1, 2), node(1, 2)]))).toBe('2 GPUs shared 2 ways');
    expect(clusterGpusText({ ...cluster([node(1), node(1)]), gpuDriver: 'dra' })).toBe('2 GPUs (DRA)');
    // DRA devices are fake-gpu's only: the gpu profile's GPUs come from NVIDIA's device plugin.
    expect(gpuChoices('fake-gpu', 3).map((c) => c.value)).toEqual(['1', '2', '3', '4', 'dra']);
    expect(gpuChoices('gpu', 1).map((c) => c.short)).toEqual(['whole GPUs', 'GPUs shared 2 ways', 'GPUs shared 4 ways']);
    expect(clusterUpRequest('fake-gpu', { nodes: 2, gpuSharing: 1, dra: true })).toEqual({ profile: 'fake-gpu', workers: 2, gpuSharing: 1, dra: true });
    expect(clusterUpRequest('gpu', { nodes: 1, gpuSharing: 1, dra: true })).toEqual({ profile: 'gpu', workers: 1, gpuSharing: 1 });
    expect(gpuSharingLabel(1)).toBe('each GPU whole');
    expect(gpuSharingLabel(4)).toBe('each GPU shared 4 ways (a time-slice of 1/4 per job)');
  });
});
