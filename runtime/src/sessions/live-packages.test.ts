import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotebookSessionInfo } from '../types.js';
import { packagesHash, packagesRoot } from '../packages/install.js';
import { livePackageSet } from './live-packages.js';

const IMAGE = 'skiff.local/job-python:trixie-2';
const session: NotebookSessionInfo = {
  name: 'nb-s1',
  namespace: 'skiff',
  workers: 2,
  gpusPerWorker: 0,
  phase: 'Running',
  image: IMAGE,
  packages: ['matplotlib'],
  livePackages: true,
};

let data: string;
beforeEach(async () => {
  data = await mkdtemp(path.join(tmpdir(), 'skiff-live-packages-'));
});
afterEach(() => rm(data, { recursive: true, force: true }));

/** A set resolved before, as resolvePackages leaves it in the cache. */
async function cachedSet(requirements: string[]): Promise<string> {
  const hash = packagesHash(IMAGE, requirements);
  const dir = path.join(packagesRoot(data), hash);
  await mkdir(dir, { recursive: true });
  const record = {
    requirements,
    image: IMAGE,
    site: 'prefix/lib/python3.11/site-packages',
    installed: [{ name: 'tabulate', version: '0.9.0' }],
    shadowed: [],
    createdAt: '2026-12-03T00:00:00Z',
  };
  await writeFile(path.join(dir, 'skiff-packages.json'), JSON.stringify(record));
  return hash;
}

describe('livePackageSet', () => {
  it("resolves the session's packages and the new ones as one set, and names its site folder as the ranks see it", async () => {
    const hash = await cachedSet(['matplotlib', 'tabulate']);
    const added = await livePackageSet(session, ['tabulate'], { data });
    expect(added.resolved).toMatchObject({ hash, requirements: ['matplotlib', 'tabulate'], cached: true });
    expect(added.rankPath).toBe(`/skiff/package-sets/${hash}/prefix/lib/python3.11/site-packages`);
  });

  it('asks for a restart where the ranks cannot take packages while they run', async () => {
    await expect(livePackageSet(session, ['tabulate'], undefined)).rejects.toMatchObject({ code: 'BAD_INPUT', hint: expect.stringMatching(/^restart the session/) });
    await expect(livePackageSet({ ...session, livePackages: undefined }, ['tabulate'], { data })).rejects.toThrow(
      /installs tabulate, which the running session does not have \(it was started by an older Skiff/,
    );
  });
});
