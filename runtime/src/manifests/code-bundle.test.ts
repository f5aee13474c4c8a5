import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CodeFile } from '../types.js';
import { SpecError, parseTrainingSpec } from '../spec/job-spec.js';
import { MAX_BUNDLE_BYTES, codeConfigMap, codeVolumeItems, configMapKeyFor, jobEnv, libConfigMap, libVolumeItems } from './code-bundle.js';
import { collectCodeFiles, leftOutText, pythonLibDir, pythonLibFiles, scanCodeFolder } from './collect.js';

const spec = parseTrainingSpec({ name: 'train-a1b2c', script: 'train.py' });
const file = (p: string, content: string | Buffer): CodeFile => ({ path: p, content: Buffer.isBuffer(content) ? content : Buffer.from(content) });
const KEY_RE = /^[-._a-zA-Z0-9]+$/;

describe('configMapKeyFor', () => {
  it('produces valid, distinct keys', () => {
    const paths = ['train.py', 'data/a.csv', 'data__a.csv', 'data_a.csv', 'my file.py', 'ü.py', 'a/b/c.py', '..hidden', '_', '__'];
    const keys = paths.map(configMapKeyFor);
    for (const key of keys) {
      expect(key).toMatch(KEY_RE);
      expect(key.startsWith('..')).toBe(false);
      expect(key.length).toBeLessThanOrEqual(253);
    }
    expect(new Set(keys).size).toBe(paths.length);
    expect(configMapKeyFor('train.py')).toBe('train.py');
    expect(configMapKeyFor('data/a.csv')).toBe('data__a.csv');
  });

  it('hashes over-long paths', () => {
    const key = configMapKeyFor('d/'.repeat(200) + 'x.py');
    expect(key).toMatch(/^h-[0-9a-f]{64}$/);
  });
});

describe('codeConfigMap', () => {
  it('puts text in data and binary in binaryData, with labels', () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    const cm = codeConfigMap(spec, [file('train.py', 'print(1)\n'), file('pkg/util.py', 'X=1\n'), file('w.bin', binary)]);
    expect(cm.metadata?.name).toBe('train-a1b2c-code');
    expect(cm.metadata?.namespace).toBe('skiff');
    expect(cm.metadata?.labels?.['skiff.dev/job']).toBe('train-a1b2c');
    expect(cm.data).toEqual({ 'train.py': 'print(1)\n', 'pkg__util.py': 'X=1\n' });
    expect(cm.binaryData).toEqual({ 'w.bin': binary.toString('base64') });
  });

  it('keeps a UTF-8 byte order mark', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x=1')]);
    const cm = codeConfigMap(spec, [file('a.py', bom)]);
    expect(Buffer.from(cm.data!['a.py'], 'utf8').equals(bom)).toBe(true);
  });

  it('refuses a bundle that cannot fit, naming the biggest files', () => {
    const files = [file('train.py', 'x'), file('data/big.csv', 'a'.repeat(600 * 1024)), file('model.bin', Buffer.alloc(300 * 1024, 0xff))];
    let err: unknown;
    try {
      codeConfigMap(spec, files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    const message = (err as Error).message;
    expect(message).toContain('data/big.csv (600 KiB)');
    expect(message).toContain('model.bin (400 KiB)'); // base64 costs 4/3
    expect(message).toContain('--image');
    expect(message.indexOf('data/big.csv')).toBeLessThan(message.indexOf('model.bin'));
    expect(() => codeConfigMap(spec, [file('ok.txt', 'a'.repeat(MAX_BUNDLE_BYTES - 100))])).not.toThrow();
  });

  it('rejects paths that would escape the mount', () => {
    expect(() => codeConfigMap(spec, [file('../x.py', '')])).toThrow(SpecError);
    expect(() => codeConfigMap(spec, [file('/x.py', '')])).toThrow(SpecError);
  });
});

describe('volume items', () => {
  it('restore every path from its key', () => {
    const files = [file('train.py', ''), file('data/a b.csv', '')];
    const cm = codeConfigMap(spec, files);
    const items = codeVolumeItems(files);
    expect(items).toEqual([
      { key: 'train.py', path: 'train.py' },
      { key: configMapKeyFor('data/a b.csv'), path: 'data/a b.csv' },
    ]);
    for (const item of items) expect(Object.keys(cm.data!)).toContain(item.key);
  });

  it('put lib files inside the skiff package folder', () => {
    const lib = [file('skiff/__init__.py', ''), file('launch.py', '')];
    expect(libVolumeItems(lib).map((i) => i.path)).toEqual(['skiff/__init__.py', 'skiff/launch.py']);
    const cm = libConfigMap(spec, lib);
    expect(cm.metadata?.name).toBe('train-a1b2c-lib');
    expect(Object.keys(cm.data!)).toEqual(libVolumeItems(lib).map((i) => i.key));
  });
});

describe('jobEnv', () => {
  it('sets the lib path, merges a user PYTHONPATH, and limits threads to --cpu', () => {
    const s = parseTrainingSpec({ name: 't', script: 'a.py', resources: { cpu: '2500m' }, env: { PYTHONPATH: '/extra', FOO: 'bar' } });
    const env = jobEnv(s);
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName).toMatchObject({ PYTHONUNBUFFERED: { value: '1' }, SKIFF_JOB: { value: 't' }, OMP_NUM_THREADS: { value: '2' } });
    // The user's part of PYTHONPATH comes from the Secret, through a variable listed before it.
    expect(byName.SKIFF_USER_PYTHONPATH).toEqual({ name: 'SKIFF_USER_PYTHONPATH', valueFrom: { secretKeyRef: { name: 't-env', key: 'PYTHONPATH' } } });
    expect(byName.PYTHONPATH).toEqual({ name: 'PYTHONPATH', value: '/skiff/lib:$(SKIFF_USER_PYTHONPATH)' });
    expect(env.findIndex((e) => e.name === 'SKIFF_USER_PYTHONPATH')).toBeLessThan(env.findIndex((e) => e.name === 'PYTHONPATH'));
    expect(byName.FOO).toEqual({ name: 'FOO', valueFrom: { secretKeyRef: { name: 't-env', key: 'FOO' } } });
    expect(env.filter((e) => e.name === 'PYTHONPATH')).toHaveLength(1);
    expect(JSON.stringify(env)).not.toContain('/extra');
  });

  it('leaves a user OMP_NUM_THREADS alone', () => {
    const s = parseTrainingSpec({ name: 't', script: 'a.py', resources: { cpu: '4' }, env: { OMP_NUM_THREADS: '8' } });
    expect(jobEnv(s).filter((e) => e.name === 'OMP_NUM_THREADS')).toEqual([{ name: 'OMP_NUM_THREADS', valueFrom: { secretKeyRef: { name: 't-env', key: 'OMP_NUM_THREADS' } } }]);
  });
});

describe('collectCodeFiles', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'skiff-collect-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const put = async (rel: string, content: string | Buffer = 'x') => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  };

  it('collects the script and its siblings of any size; hidden files and junk folders stay home, each reported', async () => {
    await put('train.py', 'print(1)');
    await put('lib/model.py');
    await put('.env.example');
    await put('.git/config');
    await put('.cache/x');
    await put('node_modules/a/index.js');
    await put('lib/__pycache__/model.cpython-311.pyc');
    await put('.venv/bin/python');
    await put('.ipynb_checkpoints/nb.ipynb');
    await put('data/huge.bin', Buffer.alloc(512 * 1024 + 1));
    await symlink(root, path.join(root, 'loop'));
    const files = await collectCodeFiles(root, 'train.py');
    expect(files.map((f) => f.path)).toEqual(['data/huge.bin', 'lib/model.py', 'train.py']);
    expect(files.find((f) => f.path === 'train.py')?.content.toString()).toBe('print(1)');
    const { leftOut } = await scanCodeFolder(root, 'train.py');
    expect(leftOut).toEqual([
      { path: '.cache/', reason: 'hidden' },
      { path: '.env.example', reason: 'hidden' },
      { path: '.git/', reason: 'not code' },
      { path: '.ipynb_checkpoints/', reason: 'not code' },
      { path: '.venv/', reason: 'not code' },
      { path: 'lib/__pycache__/', reason: 'not code' },
      { path: 'loop/', reason: 'link outside the folder' },
      { path: 'node_modules/', reason: 'not code' },
    ]);
    expect(leftOutText(leftOut, 3)).toBe(
      'left out: .cache/, .env.example (hidden: --include-hidden sends them); .git/, .ipynb_checkpoints/, .venv/ and 2 more (not code); loop/ (link outside the folder)',
    );
  });

  it('sends hidden files when asked (--include-hidden), never VCS or virtualenv folders', async () => {
    await put('train.py');
    await put('.config/model.yaml');
    await put('.env');
    await put('.git/config');
    await put('.venv/bin/python');
    const folder = await scanCodeFolder(root, 'train.py', { includeHidden: true });
    expect(folder.files.map((f) => f.rel)).toEqual(['.config/model.yaml', '.env', 'train.py']);
    expect(folder.leftOut).toEqual([
      { path: '.git/', reason: 'not code' },
      { path: '.venv/', reason: 'not code' },
    ]);
    expect((await collectCodeFiles(root, 'train.py', { includeHidden: true })).map((f) => f.path)).toEqual(['.config/model.yaml', '.env', 'train.py']);
  });

  it('follows .gitignore and .skiffignore in every folder; .skiffignore can bring back what .gitignore leaves out', async () => {
    await put('serve.py');
    await put('.gitignore', '*.pt\ncheckpoints/\n');
    await put('.skiffignore', '!weights.pt\n');
    await put('weights.pt', Buffer.alloc(1200 * 1024));
    await put('old.pt');
    await put('checkpoints/epoch1.pt');
    await put('sub/.gitignore', 'scratch.txt\n');
    await put('sub/scratch.txt');
    await put('sub/keep.txt');
    const folder = await scanCodeFolder(root, 'serve.py');
    expect(folder.files.map((f) => f.rel)).toEqual(['serve.py', 'sub/keep.txt', 'weights.pt']);
    expect(folder.bytes).toBe(1 + 1 + 1200 * 1024);
    expect(folder.leftOut.filter((l) => l.reason === 'ignored').map((l) => l.path)).toEqual(['checkpoints/', 'old.pt', 'sub/scratch.txt']);
  });

  it('always takes the script, even when an ignore file matches it; a link to a file inside the folder is followed', async () => {
    await put('.gitignore', '*.py\n');
    await put('train.py');
    await put('real/data.txt', 'd');
    await symlink(path.join(root, 'real/data.txt'), path.join(root, 'data.txt'));
    const folder = await scanCodeFolder(root, 'train.py');
    expect(folder.files.map((f) => f.rel)).toEqual(['data.txt', 'real/data.txt', 'train.py']);
  });

  it('scans a whole folder without a script (a notebook cell comes as content)', async () => {
    await put('helpers.py');
    await put('nb.ipynb');
    expect((await scanCodeFolder(root)).files.map((f) => f.rel)).toEqual(['helpers.py', 'nb.ipynb']);
    await expect(scanCodeFolder(path.join(root, 'nope'))).rejects.toThrow(/code folder not found/);
  });

  it('accepts a script in a subfolder or as an absolute path', async () => {
    await put('src/train.py');
    expect((await collectCodeFiles(root, 'src/train.py')).map((f) => f.path)).toEqual(['src/train.py']);
    expect((await collectCodeFiles(root, path.join(root, 'src/train.py'))).map((f) => f.path)).toEqual(['src/train.py']);
  });

  it('says which script is missing', async () => {
    await expect(collectCodeFiles(root, 'nope.py')).rejects.toThrow(`script not found: ${path.join(root, 'nope.py')}`);
  });

  it('fails before reading when the folder is too big', async () => {
    await put('train.py');
    for (let i = 0; i < 3; i++) await put(`data/part${i}.csv`, Buffer.alloc(400 * 1024, 0x61));
    await expect(collectCodeFiles(root, 'train.py')).rejects.toThrow(/biggest files: data\/part/);
  });
});

describe('pythonLibFiles', () => {
  it('ships the skiff package', async () => {
    const files = await pythonLibFiles();
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['skiff/__init__.py', 'skiff/launch.py']));
    expect(files.every((f) => f.path.endsWith('.py'))).toBe(true);
  });

  it('reads a bundled copy where $SKIFF_PYTHON_DIR points', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-pylib-'));
    await writeFile(path.join(dir, '__init__.py'), 'x = 1\n');
    expect(pythonLibDir({ SKIFF_PYTHON_DIR: dir })).toBe(dir);
    expect((await pythonLibFiles(dir)).map((f) => f.path)).toEqual(['skiff/__init__.py']);
  });
});
