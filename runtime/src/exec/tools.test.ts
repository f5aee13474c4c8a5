import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDir, cachedKindPath, defaultKubeconfigPath, findKind, kindCandidates } from './tools.js';

describe('cacheDir', () => {
  it('prefers SKIFF_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheDir({ SKIFF_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/skiff');
    expect(cacheDir({})).toBe(join(homedir(), '.cache', 'skiff'));
  });
});

describe('findKind', () => {
  const env = { SKIFF_KIND: '/opt/kind', PATH: '/usr/bin:/bin', SKIFF_CACHE_DIR: '/c' };

  it('tries $SKIFF_KIND, PATH, then the cached pinned build', () => {
    expect(kindCandidates(env)).toEqual(['/opt/kind', '/usr/bin/kind', '/bin/kind', '/c/bin/kind-v0.30.0/kind']);
    expect(kindCandidates({ PATH: '', SKIFF_CACHE_DIR: '/c' })).toEqual(['/c/bin/kind-v0.30.0/kind']);
  });

  it('returns the first executable candidate', async () => {
    expect(await findKind(env, async (p) => p === '/bin/kind' || p === cachedKindPath(env))).toBe('/bin/kind');
    expect(await findKind(env, async (p) => p === '/c/bin/kind-v0.30.0/kind')).toBe('/c/bin/kind-v0.30.0/kind');
    expect(await findKind(env, async () => false)).toBeUndefined();
  });

  it('checks real files without spawning anything', async () => {
    expect(await findKind({ SKIFF_KIND: process.execPath, PATH: '' })).toBe(process.execPath);
    expect(await findKind({ SKIFF_KIND: '/', PATH: '', SKIFF_CACHE_DIR: '/nonexistent' })).toBeUndefined();
  });
});

describe('kubeconfig', () => {
  it("uses kind's default file", () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: '/a:/b' })).toBe('/a');
    expect(defaultKubeconfigPath({})).toBe(join(homedir(), '.kube', 'config'));
  });
});
