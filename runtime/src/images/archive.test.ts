import type Dockerode from 'dockerode';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { archiveFileName, cachedImageArchive } from './archive.js';

/** A Docker engine whose `docker save` stream yields `chunks`, then fails when `failWith` is set. */
const engine = (chunks: string[], failWith?: Error) =>
  ({
    getImage: () => ({
      inspect: async () => ({ Id: 'sha256:feedfacecafebeef0011' }),
      get: async () =>
        Readable.from(
          (async function* () {
            yield* chunks;
            if (failWith) throw failWith;
          })(),
        ),
    }),
  }) as unknown as Dockerode;

describe('cachedImageArchive', () => {
  it('names archives by image and version', () => {
    expect(archiveFileName('skiff.local/job-python:trixie-2', 'sha256:feedfacecafebeef0011')).toBe('skiff.local_job-python_trixie-2@feedfacecafebeef.tar');
  });

  it('leaves nothing behind when the save breaks off, so no half archive is ever loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-archive-'));
    await expect(cachedImageArchive(engine(['part'], new Error('engine went away')), 'img:1', { dir })).rejects.toThrow('engine went away');
    expect(readdirSync(dir)).toEqual([]);
    const file = await cachedImageArchive(engine(['whole']), 'img:1', { dir });
    expect(readdirSync(dir)).toEqual(['img_1@feedfacecafebeef.tar']);
    expect(file).toBe(join(dir, 'img_1@feedfacecafebeef.tar'));
  });

  it('clears the partial archives of saves whose process is gone, not those still running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-archive-'));
    // PID 2^22 + 1 is above Linux's pid_max: no such process.
    writeFileSync(join(dir, 'img_1@0000000000000000.tar.partial-4194305'), 'half');
    writeFileSync(join(dir, `other_2@1111111111111111.tar.partial-${process.pid}`), 'in progress');
    await cachedImageArchive(engine(['whole']), 'img:1', { dir });
    expect(readdirSync(dir).sort()).toEqual(['img_1@feedfacecafebeef.tar', `other_2@1111111111111111.tar.partial-${process.pid}`]);
  });
});
