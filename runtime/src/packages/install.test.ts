import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { RunError, type Runner } from '../exec/run.js';
import { clearPackages, keptImagePackages, listPackageSets, packagesHash, packagesRoot, pipContainerArgs, pipError, resolvePackages } from './install.js';
import { SkiffError } from '../errors.js';

/** Stands in for `docker run … pip install` into the venv at /out/prefix: lays out what pip would. */
function fakePip(onRun: (outDir: string) => Promise<void>, calls: string[][] = []): Runner {
  return (async (_cmd: string, args: string[]) => {
    calls.push(args);
    const out = args[args.indexOf('-v') + 1].split(':')[0];
    await onRun(out);
    return { stdout: 'Successfully installed flask-3.1.3', stderr: '' };
  }) as Runner;
}

const installFlask = async (out: string) => {
  const site = path.join(out, 'prefix', 'lib', 'python3.13', 'site-packages');
  await mkdir(path.join(site, 'flask-3.1.3.dist-info'), { recursive: true });
  await mkdir(path.join(site, 'flask'), { recursive: true });
};

describe('resolvePackages', () => {
  let data: string;
  beforeEach(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'skiff-pkgs-'));
  });
  afterEach(async () => {
    await rm(data, { recursive: true, force: true });
  });

  it('resolves a set once, keyed by image and requirements, and answers from the cache after', async () => {
    const calls: string[][] = [];
    const runner = fakePip(installFlask, calls);
    const first = await resolvePackages(['flask', 'flask '], { dataRoot: data, image: 'img:1', runner });
    expect(first).toMatchObject({ cached: false, requirements: ['flask'], installed: [{ name: 'flask', version: '3.1.3' }] });
    expect(first.siteDir).toBe(path.join(packagesRoot(data), packagesHash('img:1', ['flask']), 'prefix', 'lib', 'python3.13', 'site-packages'));
    const again = await resolvePackages(['flask'], { dataRoot: data, image: 'img:1', runner });
    expect(again.cached).toBe(true);
    expect(calls).toHaveLength(1);
    expect(await listPackageSets(data)).toEqual([expect.objectContaining({ hash: first.hash, image: 'img:1', requirements: ['flask'] })]);
    expect(packagesHash('img:2', ['flask'])).not.toBe(packagesHash('img:1', ['flask']));
    await clearPackages(data);
    expect(await readdir(packagesRoot(data))).toEqual([]);
  });

  it('leaves nothing half made when pip fails', async () => {
    const runner = (async () => {
      throw new RunError({
        argv: ['docker'],
        problem: 'exit 1',
        exitCode: 1,
        stderr: 'ERROR: Could not find a version that satisfies the requirement nosuchpkg\nERROR: No matching distribution found for nosuchpkg',
      });
    }) as unknown as Runner;
    await expect(resolvePackages(['nosuchpkg'], { dataRoot: data, image: 'img:1', runner })).rejects.toThrow("package 'nosuchpkg' was not found on the package index");
    expect(await readdir(packagesRoot(data))).toEqual([]);
  });

  it("passes the host's CA bundle and index settings to pip, never its own cache", async () => {
    const ca = path.join(data, 'ca.crt');
    await writeFile(ca, 'x');
    const args = pipContainerArgs('/tmp/t', 'img:1', { PIP_CERT: ca, PIP_INDEX_URL: 'https://mirror/simple', HTTPS_PROXY: 'http://proxy:3128' }, { uid: 1000, gid: 100 });
    expect(args.join(' ')).toContain(`-v ${ca}:/etc/skiff/ca-bundle.crt:ro -e PIP_CERT=/etc/skiff/ca-bundle.crt`);
    expect(args).toEqual(expect.arrayContaining(['--user', '1000:100', 'PIP_INDEX_URL=https://mirror/simple', 'HTTPS_PROXY=http://proxy:3128', '--no-cache-dir']));
    const afterImage = args.slice(args.indexOf('img:1'));
    expect(afterImage.slice(0, 3)).toEqual(['img:1', 'sh', '-c']);
    // A venv over the image's packages, so a newer one goes beside Debian's instead of uninstalling it.
    expect(afterImage[3]).toContain('python3 -m venv --system-site-packages --without-pip /out/prefix && exec /out/prefix/bin/python3 -m pip install -c /out/constraints.txt "$@"');
    expect(afterImage.slice(5, 7)).toEqual(['-r', '/out/requirements.txt']);
    expect(args).not.toContain('--break-system-packages');
    expect(args).toContain('SKIFF_KEEP=numpy torch');
  });

  it("keeps the image's numpy and torch unless a requirement names them, and resolves again when that changes", () => {
    expect(keptImagePackages(['matplotlib', 'flask==3.1'])).toEqual(['numpy', 'torch']);
    expect(keptImagePackages(['NumPy>=2', 'matplotlib'])).toEqual(['torch']);
    expect(keptImagePackages(['torch==2.5 ; sys_platform == "linux"', 'numpy'])).toEqual([]);
    expect(pipContainerArgs('/tmp/t', 'img:1', {}, undefined, ['torch'])).toContain('SKIFF_KEEP=torch');
    expect(packagesHash('img:1', ['matplotlib'])).not.toBe(packagesHash('img:1', ['matplotlib', 'numpy']));
  });

  it('pins what the image has, as the script in the container writes it', () => {
    // The pin script itself, run by this machine's Python against a stand-in package list.
    const script = pipContainerArgs('/tmp/t', 'img:1', {})[pipContainerArgs('/tmp/t', 'img:1', {}).indexOf('sh') + 3];
    const out = execFileSync('python3', ['-c', script], { env: { ...process.env, SKIFF_KEEP: 'pip no-such-dist-xyz' }, encoding: 'utf8' });
    expect(out).toMatch(/^pip==\d+[.\d]*\n$/);
  });
});

describe('pipError', () => {
  const failed = (stderr: string) => new RunError({ argv: ['docker'], problem: 'exit 1', exitCode: 1, stderr });
  it('names the image when Docker does not have it', () => {
    expect(String(pipError(failed("Unable to find image 'x:1' locally"), 'x:1'))).toContain('image x:1 is not in');
  });
  it('says which image packages a conflict may come from', () => {
    const conflict = pipError(failed('ERROR: ResolutionImpossible'), 'i', ['numpy', 'torch']) as SkiffError;
    expect(conflict.hint).toContain("the job image's numpy and torch stay at its own versions");
    expect(conflict.hint).toContain('name one in the requirements to replace it');
  });

  it('explains conflicts and other failures with pip’s own words', () => {
    const conflict = pipError(failed('ERROR: Cannot install a and b because these package versions have conflicting dependencies.\nERROR: ResolutionImpossible'), 'i') as Error;
    expect(conflict.message).toContain('the packages conflict: Cannot install a and b');
    expect((pipError(failed('ERROR: Invalid requirement: flask=='), 'i') as Error).message).toContain('Invalid requirement: flask==');
  });
});
