import { describe, expect, it } from 'vitest';
import { parseTrainingSpec } from '@skiff/runtime';
import { readSettings, trainingSpecInput } from './settings.js';

const settings = readSettings(<T>(key: string) => ({ workers: 3, image: '', clusterName: 'dev', 'session.showOtherRanks': false })[key as 'workers'] as T | undefined);

describe('settings', () => {
  it('fills defaults for what is not set', () => {
    expect(settings).toEqual({
      clusterName: 'dev',
      profile: 'cpu',
      nodes: 2,
      workers: 3,
      gpusPerWorker: 0,
      image: '',
      namespace: 'skiff',
      kubeconfig: '',
      sessionShowOtherRanks: false,
      sessionIdleMinutes: 60,
    });
  });

  it('builds a spec the runtime accepts, cell choices over settings', () => {
    const spec = parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb-abcde', { workers: 2, env: { A: '1' } }));
    expect(spec).toMatchObject({ name: 'nb-abcde', script: 'cell.py', workers: 2, namespace: 'skiff', env: { A: '1' } });
    expect(() => parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb', { workers: 0 }))).toThrow(/--workers/);
  });
});
