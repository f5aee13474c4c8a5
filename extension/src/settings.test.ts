import { describe, expect, it } from 'vitest';
import { parseTrainingSpec } from '@skiff/runtime';
import { cellJobOptions, jobNameFrom, readSettings, trainingSpecInput } from './settings.js';

const settings = readSettings(<T>(key: string) => ({ workers: 3, image: '', clusterName: 'dev' }) [key as 'workers'] as T | undefined);

describe('settings', () => {
  it('fills defaults for what is not set', () => {
    expect(settings).toEqual({ clusterName: 'dev', profile: 'cpu', nodes: 2, workers: 3, gpusPerWorker: 0, image: '', namespace: 'skiff', kubeconfig: '' });
  });

  it('lets a cell choose workers, GPUs, name and env through metadata.skiff (also nested as .ipynb metadata)', () => {
    expect(cellJobOptions({ skiff: { workers: 2, gpusPerWorker: 1, env: { LR: 0.1 } } })).toEqual({ workers: 2, gpusPerWorker: 1, env: { LR: '0.1' } });
    expect(cellJobOptions({ metadata: { skiff: { name: 'exp-1' } } })).toEqual({ name: 'exp-1' });
    expect(cellJobOptions({ skiff: 'nonsense' })).toEqual({});
    expect(cellJobOptions(undefined)).toEqual({});
  });

  it('builds a spec the runtime accepts, cell choices over settings', () => {
    const spec = parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb-abcde', { workers: 2, env: { A: '1' } }));
    expect(spec).toMatchObject({ name: 'nb-abcde', script: 'cell.py', workers: 2, namespace: 'skiff', env: { A: '1' } });
    expect(() => parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb', { workers: 0 }))).toThrow(/--workers/);
  });

  it('derives DNS-safe job names from file names', () => {
    expect(jobNameFrom('My Experiment_v2.ipynb', 'x1y2z')).toBe('my-experiment-v2-x1y2z');
    expect(jobNameFrom('__.py', 'abcde')).toBe('job-abcde');
  });
});
