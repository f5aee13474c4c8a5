import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyRun, createRun, diskError, jobsWithRuns, latestRun, listRuns, removeRun } from './runs.js';
import { isWithin, jobRunsDir, nodePathOf, runIdFor, NODE_DATA_DIR, NODE_HOME_DIR } from './layout.js';
import { scanCodeFolder } from '../manifests/collect.js';

describe('run folders', () => {
  let tmp: string;
  let code: string;
  let data: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'skiff-runs-'));
    code = path.join(tmp, 'project');
    data = path.join(tmp, 'data');
    await mkdir(path.join(code, 'lib'), { recursive: true });
    await writeFile(path.join(code, 'train.py'), 'print("v1")');
    await writeFile(path.join(code, 'lib', 'model.py'), 'x = 1');
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const newRun = async (job: string, extra: Partial<Parameters<typeof createRun>[0]> = {}) =>
    createRun({ dataRoot: data, cluster: 'skiff', namespace: 'skiff', job, script: 'train.py', files: (await scanCodeFolder(code, 'train.py')).files, ...extra });

  it('copies the code folder into a new run folder, records what went in, and never touches the original', async () => {
    const run = await newRun('train-a', { now: new Date('2026-12-02T06:15:30.123Z') });
    expect(run.dir).toBe(path.join(jobRunsDir(data, 'skiff', 'skiff', 'train-a'), '20261202-061530-123'));
    expect(await readFile(path.join(run.dir, 'lib', 'model.py'), 'utf8')).toBe('x = 1');
    expect(run.record).toMatchObject({ job: 'train-a', script: 'train.py', codeFiles: ['lib/model.py', 'train.py'] });
    await writeFile(path.join(run.dir, 'train.py'), 'changed by the job');
    expect(await readFile(path.join(code, 'train.py'), 'utf8')).toBe('print("v1")');
  });

  it('--from starts in the earlier run (its checkpoint) with the new code copied over it', async () => {
    const first = await newRun('train-a', { now: new Date('2026-12-02T06:00:00.000Z') });
    await writeFile(path.join(first.dir, 'snapshot.pt'), 'epoch 3');
    await writeFile(path.join(code, 'train.py'), 'print("v2")');
    const second = await newRun('train-b', { from: first.dir });
    expect(await readFile(path.join(second.dir, 'snapshot.pt'), 'utf8')).toBe('epoch 3');
    expect(await readFile(path.join(second.dir, 'train.py'), 'utf8')).toBe('print("v2")');
    expect(second.record.from).toBe(first.dir);
  });

  it('writes files given as content after the folder (a cell in its notebook folder)', async () => {
    const run = await newRun('cell', {
      extraFiles: [
        { path: 'train.py', content: Buffer.from('cell code') },
        { path: 'sub/new.py', content: Buffer.from('n') },
      ],
    });
    expect(await readFile(path.join(run.dir, 'train.py'), 'utf8')).toBe('cell code');
    expect(run.record.codeFiles).toEqual(['lib/model.py', 'sub/new.py', 'train.py']);
  });

  it('lists runs oldest first, finds the newest, copies and removes them', async () => {
    await newRun('train-a', { now: new Date('2026-12-02T06:00:00.000Z') });
    const newest = await newRun('train-a', { now: new Date('2026-12-02T07:00:00.000Z') });
    await newRun('other', { now: new Date('2026-12-02T07:00:00.000Z') });
    expect((await listRuns(data, 'skiff', 'skiff', 'train-a')).map((r) => r.runId)).toEqual(['20261202-060000-000', '20261202-070000-000']);
    expect((await latestRun(data, 'skiff', 'skiff', 'train-a')).dir).toBe(newest.dir);
    expect((await jobsWithRuns(data, 'skiff', 'skiff')).map((j) => [j.job, j.runs.length])).toEqual([
      ['other', 1],
      ['train-a', 2],
    ]);
    const copy = path.join(tmp, 'copy');
    await copyRun(newest, copy);
    expect((await readdir(copy)).sort()).toEqual(['lib', 'train.py']);
    // The pods' kept output sits beside the run folder: not an output, and removed with it.
    expect(existsSync(newest.dir + '.logs')).toBe(true);
    await removeRun(newest.dir);
    expect(existsSync(newest.dir) || existsSync(newest.dir + '.json') || existsSync(newest.dir + '.logs')).toBe(false);
  });

  it('says plainly when a job has no outputs', async () => {
    await expect(latestRun(data, 'skiff', 'skiff', 'nope')).rejects.toThrow("job 'nope' has no outputs on cluster 'skiff'");
  });

  it.skipIf(process.getuid?.() === 0)('leaves nothing behind when the copy fails', async () => {
    await chmod(path.join(code, 'lib', 'model.py'), 0o000);
    await expect(newRun('broken')).rejects.toThrow();
    expect(await readdir(jobRunsDir(data, 'skiff', 'skiff', 'broken'))).toEqual([]);
  });

  it('leaves nothing behind when a file vanishes mid-copy', async () => {
    const files = (await scanCodeFolder(code, 'train.py')).files;
    await rm(path.join(code, 'lib', 'model.py'));
    await expect(createRun({ dataRoot: data, cluster: 'skiff', namespace: 'skiff', job: 'gone', script: 'train.py', files })).rejects.toThrow(/ENOENT/);
    expect(await readdir(jobRunsDir(data, 'skiff', 'skiff', 'gone'))).toEqual([]);
  });
});

describe('diskError', () => {
  it('says which disk is full, or which folder cannot be written, and what to do', () => {
    const full = diskError(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), '/data/runs/x');
    expect(full).toMatchObject({ code: 'DISK_FULL', message: 'the disk holding /data/runs/x is full', hint: expect.stringContaining('skiff outputs JOB --remove') });
    expect(diskError(Object.assign(new Error('EACCES'), { code: 'EACCES' }), '/data')).toMatchObject({ code: 'BAD_INPUT', message: 'no permission to write /data' });
    const other = new Error('other');
    expect(diskError(other, '/data')).toBe(other);
  });
});

describe('layout', () => {
  it('maps host paths under the shared folders to the nodes, and nothing else', () => {
    const shared = { data: '/home/u/.local/share/skiff', home: '/home/u' };
    expect(nodePathOf(shared, '/home/u/.local/share/skiff/runs/a')).toBe(`${NODE_DATA_DIR}/runs/a`);
    expect(nodePathOf(shared, '/home/u/datasets/mnist')).toBe(`${NODE_HOME_DIR}/datasets/mnist`);
    expect(nodePathOf(shared, '/mnt/data')).toBeUndefined();
    expect(nodePathOf({ data: '/d' }, '/home/u/x')).toBeUndefined();
  });

  it('tells a path inside a folder from one beside or above it', () => {
    expect(isWithin('/home/u', '/home/u')).toBe(true);
    expect(isWithin('/home/u', '/home/u/a/b')).toBe(true);
    expect(isWithin('/home/u', '/home/u/..cache')).toBe(true); // a name starting with '..' is still inside
    expect(isWithin('/home/u', '/home/u2')).toBe(false);
    expect(isWithin('/home/u', '/home')).toBe(false);
    expect(isWithin('/home/u', '/etc')).toBe(false);
  });

  it('names runs so they sort by time', () => {
    expect(runIdFor(new Date('2026-01-02T03:04:05.006Z'))).toBe('20260102-030405-006');
  });
});
