// Images go onto kind's nodes as `docker save` archives. Saving the 1.3 GB job image takes about
// as long as importing it on every node, and it is the same bytes for every cluster: so the
// archive is kept in the cache, one per image version (its ID), and made again only when the
// image changes.
import type Dockerode from 'dockerode';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cacheDir } from '../exec/tools.js';

export interface ArchiveOptions {
  onProgress?: (msg: string) => void;
  /** Default: image-archives/ in Skiff's cache. */
  dir?: string;
}

/** `registry/name:tag` as a file-name stem: `registry_name_tag`. */
export const archiveStem = (image: string) => image.replace(/[^A-Za-z0-9._-]+/g, '_');

/** The archive's file name for an image and its ID (sha256:…). */
export const archiveFileName = (image: string, id: string) => `${archiveStem(image)}@${id.replace(/^sha256:/, '').slice(0, 16)}.tar`;

/**
 * The path of an up-to-date archive of the image, saving it first when there is none; undefined
 * when the Docker engine has no such image.
 */
export async function cachedImageArchive(docker: Dockerode, image: string, opts: ArchiveOptions = {}): Promise<string | undefined> {
  const dir = opts.dir ?? join(cacheDir(), 'image-archives');
  const id = await imageId(docker, image);
  if (!id) return undefined;
  const file = join(dir, archiveFileName(image, id));
  if (await isFile(file)) return file;

  opts.onProgress?.(`saving ${image} as an archive for the nodes (once per image version, in ${dir})`);
  await mkdir(dir, { recursive: true });
  await removeAbandonedSaves(dir);
  const partial = `${file}.partial-${process.pid}`;
  try {
    await pipeline(await docker.getImage(image).get(), createWriteStream(partial));
    // Rename last: a save that was cut short never passes for an archive.
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  await removeOlderVersions(dir, image, file);
  return file;
}

async function imageId(docker: Dockerode, image: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

async function removeOlderVersions(dir: string, image: string, keep: string): Promise<void> {
  const prefix = `${archiveStem(image)}@`;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name.startsWith(prefix) && name.endsWith('.tar') && path !== keep) await rm(path, { force: true });
  }
}

/** Partial archives of saves whose process is gone (a CLI that exited mid-save): 1 GB each. */
async function removeAbandonedSaves(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = /\.partial-(\d+)$/.exec(name)?.[1];
    if (pid && !isRunning(Number(pid))) await rm(join(dir, name), { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
