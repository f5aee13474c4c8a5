import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLUSTER_PROFILES } from '@skiff/runtime/front';
import { DEFAULT_SETTINGS, readSettings } from './settings';

describe('readSettings', () => {
  it('takes valid values and falls back to the defaults for missing or invalid ones, naming those', () => {
    expect(readSettings({})).toEqual({ settings: DEFAULT_SETTINGS, problems: [] });
    expect(DEFAULT_SETTINGS).toEqual({ profile: 'cpu', nodes: 2, workers: 2, gpusPerWorker: 0, gpuSharing: 1, addons: [], image: '', servePort: 8000, metricsIntervalSeconds: 3 });
    const read = readSettings({ profile: 'fake-gpu', workers: 4, nodes: 0, gpusPerWorker: -1, gpuSharing: 2, addons: ['kueue'], image: 'my/img:1', servePort: 8080 });
    expect(read.settings).toEqual({ ...DEFAULT_SETTINGS, profile: 'fake-gpu', workers: 4, gpuSharing: 2, addons: ['kueue'], image: 'my/img:1', servePort: 8080 });
    expect(read.problems.map((p) => p.split(':')[0])).toEqual(['nodes', 'gpusPerWorker']);
    expect(readSettings({ profile: 'tpu', workers: 2.5 }).settings).toEqual(DEFAULT_SETTINGS);
  });

  it('offers in plugin.json the profiles the runtime has', () => {
    const schema = JSON.parse(readFileSync(new URL('../schema/plugin.json', import.meta.url), 'utf8'));
    expect([...schema.properties.profile.enum].sort()).toEqual([...CLUSTER_PROFILES].sort());
  });
});
