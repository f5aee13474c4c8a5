import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { KUEUE_IMAGE, KUEUE_RECIPE, KUEUE_VERSION } from '../manifests/kueue.js';
import { PROMETHEUS_IMAGE, PROMETHEUS_MODULE_VERSION } from '../manifests/prometheus.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../errors.js';
import { RunError } from '../exec/run.js';
import { buildImages, clearCache, imageExists, imagesRecipeDir, JOB_IMAGE, recipeVersions } from './images.js';
import { OFFLINE_NODE_IMAGE } from '../exec/tools.js';
import { FAKE_GPU_PLUGIN_IMAGE } from '../manifests/gpu.js';
import { DRA_DRIVER_IMAGE } from '../manifests/dra.js';
import type Dockerode from 'dockerode';

const tmp = () => mkdtempSync(join(tmpdir(), 'skiff-images-'));

describe('imagesRecipeDir', () => {
  it('is runtime/images', () => {
    expect(imagesRecipeDir()).toBe(resolve(fileURLToPath(import.meta.url), '../../../images'));
    expect(existsSync(join(imagesRecipeDir(), 'versions.env'))).toBe(true);
  });

  it('builds the images under the names the runtime uses (versions.env and the code agree)', () => {
    const env = recipeVersions();
    expect(env.NODE_IMAGE).toBe(OFFLINE_NODE_IMAGE);
    expect(env.JOB_IMAGE).toBe(JOB_IMAGE);
    expect(env.FAKE_GPU_PLUGIN_IMAGE).toBe(FAKE_GPU_PLUGIN_IMAGE);
    expect(env.DRA_DRIVER_IMAGE).toBe(DRA_DRIVER_IMAGE);
    expect([env.KUEUE_VERSION, env.KUEUE_IMAGE, env.KUEUE_RECIPE]).toEqual([KUEUE_VERSION, KUEUE_IMAGE, String(KUEUE_RECIPE)]);
    expect([env.PROMETHEUS_MODULE_VERSION, env.PROMETHEUS_IMAGE]).toEqual([PROMETHEUS_MODULE_VERSION, PROMETHEUS_IMAGE]);
  });
});

describe('buildImages', () => {
  function recipe(body: string): string {
    const dir = tmp();
    writeFileSync(join(dir, 'build.sh'), `set -eu\n${body}\n`);
    return dir;
  }

  it('runs build.sh with the cache folder and relays its progress lines', async () => {
    const dir = recipe(`echo "[skiff images] building $1 into $SKIFF_CACHE_DIR" >&2\necho "go: downloading stuff" >&2\necho "[skiff images] done" >&2`);
    const progress: string[] = [];
    await buildImages('node', (m) => progress.push(m), undefined, dir);
    expect(progress).toHaveLength(2);
    expect(progress[0]).toMatch(/^building node into \/.+skiff$/);
    expect(progress[1]).toBe('done');
  });

  it('fails with the recipe output when the recipe fails', async () => {
    const dir = recipe('echo "skiff images: Go is needed" >&2\nexit 3');
    const err = await buildImages('binaries', undefined, undefined, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).exitCode).toBe(3);
    expect((err as RunError).message).toContain('Go is needed');
  });

  it('says so when the recipes are missing', async () => {
    const err = await buildImages('all', undefined, undefined, tmp()).catch((e: unknown) => e);
    expect((err as SkiffError).code).toBe('IMAGE_MISSING');
  });
});

describe('imageExists', () => {
  const docker = (result: () => Promise<unknown>) => ({ getImage: () => ({ inspect: result }) }) as unknown as Dockerode;

  it('is true for an image the engine has and false for a 404', async () => {
    expect(
      await imageExists(
        docker(async () => ({ Id: 'sha256:1' })),
        'a',
      ),
    ).toBe(true);
    expect(
      await imageExists(
        docker(() => Promise.reject(Object.assign(new Error('no such image'), { statusCode: 404 }))),
        'a',
      ),
    ).toBe(false);
  });

  it('passes other engine errors on', async () => {
    await expect(
      imageExists(
        docker(() => Promise.reject(new Error('connect ENOENT'))),
        'a',
      ),
    ).rejects.toThrow('ENOENT');
  });
});

describe('clearCache', () => {
  it('removes the cache, read-only Go module folders included', async () => {
    const cache = join(tmp(), 'skiff');
    const modules = join(cache, 'gopath', 'pkg', 'mod', 'k8s.io', 'api@v0.34.1');
    mkdirSync(modules, { recursive: true });
    writeFileSync(join(modules, 'go.mod'), 'module k8s.io/api\n');
    chmodSync(modules, 0o555);
    await clearCache(cache);
    expect(existsSync(cache)).toBe(false);
    await clearCache(cache);
  });

  it('refuses to delete the home folder or /', async () => {
    await expect(clearCache('/')).rejects.toThrow(SkiffError);
  });
});
