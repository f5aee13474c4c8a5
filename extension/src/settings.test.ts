import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLUSTER_PROFILES } from '@skiff/runtime/front';
import { parseTrainingSpec } from '@skiff/runtime';
import { readSettings, trainingSpecInput } from './settings.js';

const given = (values: Record<string, unknown>) => readSettings(<T>(key: string) => values[key] as T | undefined);
const { settings } = given({ workers: 3, image: '', clusterName: 'dev', 'session.showOtherRanks': false });

describe('settings', () => {
  it('fills defaults for what is not set', () => {
    expect(settings).toEqual({
      clusterName: 'dev',
      profile: 'cpu',
      nodes: 2,
      workers: 3,
      gpusPerWorker: 0,
      gpuSharing: 1,
      addons: [],
      image: '',
      namespace: 'skiff',
      kubeconfig: '',
      sessionShowOtherRanks: false,
      sessionIdleMinutes: 60,
    });
  });

  it('names a value it did not take, using the default (an emptied name is the default, not a problem)', () => {
    const read = given({ workers: -1, namespace: '', 'session.idleMinutes': 'soon' });
    expect(read.settings).toMatchObject({ workers: 2, namespace: 'skiff', sessionIdleMinutes: 60 });
    expect(read.problems).toEqual(['workers: Number must be greater than or equal to 1 (using 2)', 'session.idleMinutes: Expected number, received string (using 60)']);
  });

  it('builds a spec the runtime accepts, cell choices over settings', () => {
    const spec = parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb-abcde', { workers: 2, env: { A: '1' } }));
    expect(spec).toMatchObject({ name: 'nb-abcde', script: 'cell.py', workers: 2, namespace: 'skiff', env: { A: '1' } });
    expect(() => parseTrainingSpec(trainingSpecInput(settings, 'cell.py', 'nb', { workers: 0 }))).toThrow(/--workers/);
  });

  it("offers in package.json's settings the profiles the runtime has", () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const properties = manifest.contributes.configuration.properties ?? Object.assign({}, ...manifest.contributes.configuration.map((c: { properties: object }) => c.properties));
    expect([...properties['skiff.profile'].enum].sort()).toEqual([...CLUSTER_PROFILES].sort());
  });
});
