// Python packages for a job without building an image. A set of requirements is resolved once, by
// pip inside a throwaway container of the job's own image (so wheels match its Python and glibc and
// what the image already has, torch and numpy, is kept), with the host's index settings and CA
// bundle: pods cannot verify the package index here, and users behind proxies configure the host.
// The result is cached under the data folder by a hash of the image and the requirements, and
// reaches every pod read-only through the folder the cluster shares with the host.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../errors.js';
import { run, RunError, type Runner } from '../exec/run.js';
import { PACKAGES_DIR } from '../workspace/layout.js';

export interface ResolvedPackages {
  hash: string;
  /** The requirements as resolved (sorted, deduplicated). */
  requirements: string[];
  /** The site-packages folder on the host: what goes on the job's PYTHONPATH. */
  siteDir: string;
  /** What pip installed there (the image's own packages are not repeated). */
  installed: { name: string; version: string }[];
  /** Packages installed over a different version in the image (e.g. numpy), which jobs then see. */
  shadowed: string[];
  cached: boolean;
}

interface PackagesRecord {
  requirements: string[];
  image: string;
  site: string;
  installed: { name: string; version: string }[];
  shadowed: string[];
  createdAt: string;
}

const RECORD = 'skiff-packages.json';
/** pip resolving and downloading a large set (a few hundred MB) on a slow link. */
const INSTALL_TIMEOUT_MS = 20 * 60_000;
/** Settings that say where the index is and how to reach it: passed on from the host. */
const PASSED_ENV = [
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_TRUSTED_HOST',
  'PIP_DEFAULT_TIMEOUT',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];
const CONTAINER_CA = '/etc/skiff/ca-bundle.crt';
/**
 * Packages of the image that stay at the image's version unless a requirement names them: its
 * torch is built against its numpy, so a numpy 2 pulled in for matplotlib left torch without numpy
 * ("RuntimeError: Numpy is not available" at tensor.numpy()).
 */
export const KEPT_IMAGE_PACKAGES = ['numpy', 'torch'];
/** Writes "name==version" for each kept package the image has, for pip's -c. */
const PIN_SCRIPT = [
  'import importlib.metadata as m, os',
  'for name in os.environ.get("SKIFF_KEEP", "").split():',
  '    try: print(f"{name}=={m.version(name)}")',
  '    except m.PackageNotFoundError: pass',
].join('\n');

export interface ResolveOptions {
  dataRoot: string;
  /** The job's image, which must be in this machine's Docker engine. */
  image: string;
  onProgress?: (line: string) => void;
  runner?: Runner;
  env?: NodeJS.ProcessEnv;
}

export function normalizeRequirements(requirements: string[]): string[] {
  return [...new Set(requirements.map((r) => r.trim()).filter(Boolean))].sort();
}

/** The cache key: the same requirements for the same image, keeping the same image packages, are resolved once. */
export function packagesHash(image: string, requirements: string[]): string {
  const reqs = normalizeRequirements(requirements);
  return createHash('sha256').update(image).update('\0').update(reqs.join('\n')).update('\0keeps ').update(keptImagePackages(reqs).join(' ')).digest('hex').slice(0, 16);
}

/** The image packages kept as they are: KEPT_IMAGE_PACKAGES less those a requirement names. */
export function keptImagePackages(requirements: string[]): string[] {
  const named = new Set(requirements.map(requirementName));
  return KEPT_IMAGE_PACKAGES.filter((p) => !named.has(p));
}

/** A requirement's project name, normalised as pip compares them ("Torch_Vision>=1" -> "torch-vision"). */
function requirementName(requirement: string): string {
  return (/^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(requirement.trim())?.[0] ?? '').toLowerCase().replace(/[-_.]+/g, '-');
}

export const packagesRoot = (dataRoot: string) => path.join(dataRoot, PACKAGES_DIR);

/** The packages for these requirements, from the cache or resolved now; nothing is left half made. */
export async function resolvePackages(requirements: string[], opts: ResolveOptions): Promise<ResolvedPackages> {
  const reqs = normalizeRequirements(requirements);
  const hash = packagesHash(opts.image, reqs);
  const dir = path.join(packagesRoot(opts.dataRoot), hash);
  const cached = await readPackagesRecord(dir);
  if (cached) return resolved(hash, dir, cached, true);

  const progress = opts.onProgress ?? (() => {});
  const tmp = path.join(packagesRoot(opts.dataRoot), `.tmp-${hash}-${process.pid}-${Date.now()}`);
  await mkdir(path.join(tmp, 'prefix'), { recursive: true });
  try {
    await writeFile(path.join(tmp, 'requirements.txt'), reqs.join('\n') + '\n');
    progress(`resolving ${reqs.length} package${reqs.length === 1 ? '' : 's'} for ${opts.image}: ${reqs.join(', ')}`);
    const output = await pipInContainer(tmp, opts, keptImagePackages(reqs), progress);
    const site = await findSiteDir(path.join(tmp, 'prefix'));
    const record: PackagesRecord = {
      requirements: reqs,
      image: opts.image,
      site: site ? path.join('prefix', site) : 'prefix',
      installed: site ? await distributionsIn(path.join(tmp, 'prefix', site)) : [],
      shadowed: shadowedIn(output),
      createdAt: new Date().toISOString(),
    };
    await writeFile(path.join(tmp, RECORD), JSON.stringify(record, null, 2) + '\n');
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another submit resolved the same set meanwhile: theirs is as good as ours.
      if (!(await readPackagesRecord(dir))) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
    return resolved(hash, dir, record, false);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function resolved(hash: string, dir: string, record: PackagesRecord, cached: boolean): ResolvedPackages {
  return { hash, requirements: record.requirements, siteDir: path.join(dir, record.site), installed: record.installed, shadowed: record.shadowed, cached };
}

async function readPackagesRecord(dir: string): Promise<PackagesRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, RECORD), 'utf8')) as PackagesRecord;
  } catch {
    return undefined;
  }
}

/** The `docker run` that resolves and installs the requirements written in `tmp`. */
export function pipContainerArgs(tmp: string, image: string, env: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }, keep: string[] = KEPT_IMAGE_PACKAGES): string[] {
  const args = ['run', '--rm', '-v', `${tmp}:/out`];
  // Files the user can delete later; pip's cache goes with the throwaway container.
  if (ids && ids.uid !== 0) args.push('--user', `${ids.uid}:${ids.gid}`, '-e', 'HOME=/tmp');
  const ca = hostCaBundle(env);
  if (ca) args.push('-v', `${ca}:${CONTAINER_CA}:ro`, '-e', `PIP_CERT=${CONTAINER_CA}`);
  for (const name of PASSED_ENV) if (env[name]) args.push('-e', `${name}=${env[name]}`);
  // The kept packages' versions are read in the image itself, then pinned with pip's -c.
  args.push('-e', `SKIFF_KEEP=${keep.join(' ')}`);
  // Into a venv that sees the image's packages: pip then installs a newer version of one beside it
  // ("outside environment") instead of uninstalling Debian's copy, which it cannot (no RECORD file:
  // `--prefix` failed on trixie's typing_extensions under MLflow).
  const install = [
    'python3 -c "$0" > /out/constraints.txt',
    'python3 -m venv --system-site-packages --without-pip /out/prefix',
    'exec /out/prefix/bin/python3 -m pip install -c /out/constraints.txt "$@"',
  ].join(' && ');
  return [
    ...args,
    image,
    ...['sh', '-c', install, PIN_SCRIPT],
    ...['-r', '/out/requirements.txt'],
    ...['--no-warn-script-location', '--disable-pip-version-check', '--progress-bar', 'off', '--no-cache-dir'],
  ];
}

async function pipInContainer(tmp: string, opts: ResolveOptions, keep: string[], progress: (line: string) => void): Promise<string> {
  const uid = process.getuid?.();
  const ids = uid === undefined ? undefined : { uid, gid: process.getgid?.() ?? uid };
  const runner = opts.runner ?? run;
  try {
    const result = await runner('docker', pipContainerArgs(tmp, opts.image, opts.env ?? process.env, ids, keep), {
      timeoutMs: INSTALL_TIMEOUT_MS,
      onLine: (line) => {
        if (/^(Collecting|Downloading|Installing collected|Successfully installed)/.test(line.trim())) progress(line.trim());
      },
    });
    return result.stdout + '\n' + result.stderr;
  } catch (err) {
    throw pipError(err, opts.image, keep);
  }
}

/** The CA bundle the host trusts, which containers here lack. */
export function hostCaBundle(env: NodeJS.ProcessEnv): string | undefined {
  for (const candidate of [env.PIP_CERT, env.REQUESTS_CA_BUNDLE, env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** pip's own ERROR lines, turned into what the user should do. */
export function pipError(err: unknown, image: string, kept: string[] = []): unknown {
  if (!(err instanceof RunError)) return err;
  if (err.notFound) return new SkiffError('NO_DOCKER', 'docker not found: Skiff resolves packages in a container of the job image', { hint: 'install Docker', cause: err });
  const text = `${err.stdout}\n${err.stderr}`;
  if (/Unable to find image|No such image|pull access denied/i.test(text)) {
    return new SkiffError('IMAGE_MISSING', `image ${image} is not in this machine's Docker engine, so its packages cannot be resolved`, {
      hint: 'run `skiff images build job`, or docker pull/build the --image first',
      cause: err,
    });
  }
  const errors = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('ERROR:'))
    .map((l) => l.replace(/^ERROR:\s*/, ''));
  const missing = /No matching distribution found for (\S+)/.exec(text)?.[1];
  if (missing) {
    return new SkiffError('PACKAGES_FAILED', `package '${missing}' was not found on the package index, or has no version for the job image's Python`, {
      hint: 'check the name and version (`pip index versions NAME`); nothing was submitted',
      cause: err,
    });
  }
  if (/ResolutionImpossible|conflicting dependencies/i.test(text)) {
    const keptHint =
      kept.length > 0
        ? `the job image's ${kept.join(' and ')} stay at its own version${kept.length > 1 ? 's' : ''} (its torch is built against its numpy): name one in the requirements to replace it, or `
        : '';
    return new SkiffError('PACKAGES_FAILED', `the packages conflict: ${errors.join('; ') || 'pip found no set of versions that fits'}`, {
      hint: `${keptHint}loosen a version pin; nothing was submitted`,
      cause: err,
    });
  }
  return new SkiffError('PACKAGES_FAILED', `pip could not install the job's packages: ${errors.join('; ') || err.message}`, {
    hint: 'check the package names and that this machine reaches the package index (or its proxy); nothing was submitted',
    cause: err,
  });
}

/** "Attempting uninstall: numpy" means pip replaced a package the image has. */
function shadowedIn(output: string): string[] {
  return [...output.matchAll(/Attempting uninstall: (\S+)/g)].map((m) => m[1]);
}

/** Where pip put the packages under /out/prefix (a venv's lib/pythonX.Y/site-packages; Debian's pip with --prefix used local/lib/…/dist-packages). */
async function findSiteDir(prefix: string, depth = 4, rel = ''): Promise<string | undefined> {
  if (depth === 0) return undefined;
  const entries = await readdir(path.join(prefix, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory() && (e.name === 'site-packages' || e.name === 'dist-packages')) return path.join(rel, e.name);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const found = await findSiteDir(prefix, depth - 1, path.join(rel, e.name));
    if (found) return found;
  }
  return undefined;
}

async function distributionsIn(site: string): Promise<{ name: string; version: string }[]> {
  const names = (await readdir(site).catch(() => [] as string[])).filter((n) => n.endsWith('.dist-info')).sort();
  return names.map((n) => {
    const stem = n.slice(0, -'.dist-info'.length);
    const dash = stem.lastIndexOf('-');
    return { name: stem.slice(0, dash), version: stem.slice(dash + 1) };
  });
}

/** Every resolved set in the cache, newest first, with its size on disk. */
export async function listPackageSets(dataRoot: string): Promise<{ hash: string; image: string; requirements: string[]; createdAt: string; bytes: number }[]> {
  const root = packagesRoot(dataRoot);
  const sets = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const record = name.startsWith('.') ? undefined : await readPackagesRecord(path.join(root, name));
    if (record) sets.push({ hash: name, image: record.image, requirements: record.requirements, createdAt: record.createdAt, bytes: await treeBytes(path.join(root, name)) });
  }
  return sets.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  return total;
}

/** Deletes every resolved package set (with the other caches); what jobs wrote is not touched. */
export async function clearPackages(dataRoot: string): Promise<void> {
  const root = packagesRoot(dataRoot);
  for (const name of await readdir(root).catch(() => [] as string[])) await rm(path.join(root, name), { recursive: true, force: true });
}
