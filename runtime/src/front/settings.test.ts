import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readEditorSettings, SHARED_SETTINGS } from './settings.js';

describe('readEditorSettings', () => {
  it('fills the defaults, takes valid values, and names each value it did not take with the default used', () => {
    const shape = { ...SHARED_SETTINGS, servePort: z.number().int().min(1).default(8000) };
    expect(readEditorSettings(shape, {})).toEqual({
      settings: { profile: 'cpu', nodes: 2, workers: 2, gpusPerWorker: 0, gpuSharing: 1, addons: [], image: '', servePort: 8000 },
      problems: [],
    });
    const read = readEditorSettings(shape, { profile: 'tpu', workers: 4, nodes: 0, gpusPerWorker: 1.5, gpuSharing: 16, addons: ['mlflow'], image: 'my/img:1', servePort: '80' });
    expect(read.settings).toEqual({ profile: 'cpu', nodes: 2, workers: 4, gpusPerWorker: 0, gpuSharing: 1, addons: ['mlflow'], image: 'my/img:1', servePort: 8000 });
    expect(read.problems).toHaveLength(5);
    expect(read.problems).toContain('gpuSharing: Number must be less than or equal to 8 (using 1)');
    expect(readEditorSettings(shape, { addons: ['grafana'] }).problems[0]).toMatch(/^addons: .*'mlflow' \| 'prometheus' \| 'kueue'.* \(using \[\]\)$/);
    expect(read.problems[0]).toMatch(/^profile: .*'cpu' \| 'fake-gpu' \| 'gpu'.* \(using "cpu"\)$/);
    expect(read.problems).toContain('nodes: Number must be greater than or equal to 1 (using 2)');
    expect(read.problems.some((p) => p.startsWith('gpusPerWorker: ') && p.endsWith('(using 0)'))).toBe(true);
    expect(read.problems.some((p) => p.startsWith('servePort: ') && p.endsWith('(using 8000)'))).toBe(true);
  });
});
