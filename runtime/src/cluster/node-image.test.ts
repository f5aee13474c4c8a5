import type Dockerode from 'dockerode';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseNodeImage, pullImage } from './node-image.js';
import { OFFLINE_NODE_IMAGE } from '../exec/tools.js';

function fakeDocker(images: string[], extra: object = {}): Dockerode {
  return {
    getImage: (ref: string) => ({
      inspect: async () => {
        if (images.includes(ref)) return { Id: ref };
        throw Object.assign(new Error(`No such image: ${ref}`), { statusCode: 404 });
      },
    }),
    ...extra,
  } as unknown as Dockerode;
}

describe('chooseNodeImage', () => {
  const failPull = async () => {
    throw new Error('dial tcp: lookup registry-1.docker.io: no such host');
  };
  const noBuild = async () => {
    throw new Error('must not build');
  };

  it('uses the requested image as is', async () => {
    expect(await chooseNodeImage('my/node:1', { docker: fakeDocker([]), pullImage: failPull, buildImages: noBuild }, () => {})).toBe('my/node:1');
  });

  it("prefers Skiff's offline image, then a local upstream one", async () => {
    const deps = { pullImage: failPull, buildImages: noBuild };
    expect(await chooseNodeImage(undefined, { ...deps, docker: fakeDocker([OFFLINE_NODE_IMAGE, 'kindest/node:v1.34.0']) }, () => {})).toBe(OFFLINE_NODE_IMAGE);
    expect(await chooseNodeImage(undefined, { ...deps, docker: fakeDocker(['kindest/node:v1.34.0']) }, () => {})).toBe('kindest/node:v1.34.0');
  });

  it('pulls the upstream image when it can', async () => {
    const pulled: string[] = [];
    const image = await chooseNodeImage(undefined, { docker: fakeDocker([]), pullImage: async (_d, ref) => void pulled.push(ref), buildImages: noBuild }, () => {});
    expect(image).toBe('kindest/node:v1.34.0');
    expect(pulled).toEqual(['kindest/node:v1.34.0']);
  });

  it('builds the offline node image when nothing else works', async () => {
    const built: string[] = [];
    const progress: string[] = [];
    const image = await chooseNodeImage(
      undefined,
      {
        docker: fakeDocker([]),
        pullImage: failPull,
        buildImages: async (what, onProgress) => {
          built.push(what);
          onProgress?.('building kubelet');
        },
      },
      (m) => progress.push(m),
    );
    expect(image).toBe(OFFLINE_NODE_IMAGE);
    expect(built).toEqual(['node']);
    expect(progress[1]).toContain('no such host');
    expect(progress.at(-1)).toBe('building kubelet');
  });
});

describe('pullImage', () => {
  function pullingDocker(events: object[]) {
    const stream = new PassThrough();
    return fakeDocker([], {
      pull: async () => {
        setImmediate(() => {
          for (const e of events) stream.write(`${JSON.stringify(e)}\n`);
          stream.end();
        });
        return stream;
      },
      // docker-modem's algorithm in small: one JSON object per line.
      modem: {
        followProgress: (s: PassThrough, done: (err: Error | null) => void, onEvent: (e: object) => void) => {
          let buf = '';
          s.on('data', (d) => (buf += d));
          s.on('end', () => {
            for (const line of buf.split('\n').filter(Boolean)) onEvent(JSON.parse(line));
            done(null);
          });
        },
      },
    });
  }

  it('reports summary lines only', async () => {
    const progress: string[] = [];
    const docker = pullingDocker([{ status: 'Pulling from kindest/node', id: 'v1.34.0' }, { status: 'Downloading', id: 'abc' }, { status: 'Status: Downloaded newer image' }]);
    await pullImage(docker, 'kindest/node:v1.34.0', (m) => progress.push(m));
    expect(progress).toEqual(['Status: Downloaded newer image']);
  });

  it('fails on an error inside the stream', async () => {
    const docker = pullingDocker([{ error: 'toomanyrequests: rate limit' }]);
    await expect(pullImage(docker, 'kindest/node:v1.34.0', () => {})).rejects.toThrow('toomanyrequests');
  });
});
