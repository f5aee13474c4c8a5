import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, readSettings } from './settings';

describe('readSettings', () => {
  it('takes valid values and falls back to the defaults for missing or invalid ones', () => {
    expect(readSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ profile: 'fake-gpu', workers: 4, nodes: 0, gpusPerWorker: -1, image: 'my/img:1', servePort: 8080 })).toEqual({
      ...DEFAULT_SETTINGS,
      profile: 'fake-gpu',
      workers: 4,
      image: 'my/img:1',
      servePort: 8080,
    });
    expect(readSettings({ profile: 'tpu', workers: 2.5 })).toEqual(DEFAULT_SETTINGS);
  });
});
