// @vitest-environment jsdom
// The sidebar's model against the runtime's real API server (a scripted session behind it), and
// against servers that are not the right one: a missing server extension, a runtime of another version.
import './testing/jsdom-shims';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '@skiff/runtime';
import { API_VERSION, SkiffApiClient } from '@skiff/runtime/front';
import { SkiffModel, browserTargetMemory } from './model';
import { scriptedBackend, TOKEN } from './testing/backend';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function realApi(backend = scriptedBackend()): Promise<SkiffModel> {
  const server: ApiServer = await startApiServer({ token: TOKEN, backend });
  const model = new SkiffModel(new SkiffApiClient({ baseUrl: server.url, token: TOKEN }));
  closers.push(async () => (model.dispose(), await server.close()));
  return model;
}

/** A server that answers every request with one status and body. */
async function answering(status: number, body: unknown): Promise<SkiffModel> {
  const server: Server = createServer((_req, res) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const model = new SkiffModel(new SkiffApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  closers.push(() => new Promise((resolve) => (model.dispose(), server.close(() => resolve()))));
  return model;
}

describe('SkiffModel', () => {
  it('connects, checks the version and keeps the job list live', async () => {
    const model = await realApi();
    await model.start();
    expect(model.error).toBeUndefined();
    expect(model.health).toMatchObject({ cluster: 'skiff', apiVersion: API_VERSION });
    expect(model.cluster).toBeUndefined();
    await expect.poll(() => model.jobsError).toBeUndefined();
  });

  it('reports each progress line while the cluster starts, then shows the cluster', async () => {
    const model = await realApi();
    await model.start();
    const seen: string[][] = [];
    model.changed.connect(() => model.activity && seen.push([...model.activity.progress]));
    await model.up({ profile: 'cpu', workers: 1 });
    expect(seen.at(-1)).toEqual(['creating cluster "skiff"', 'loading the job image']);
    expect(model.activity).toBeUndefined();
    expect(model.cluster?.name).toBe('skiff');
    await model.down();
    expect(model.cluster).toBeUndefined();
  });

  it('says plainly when the server extension is missing', async () => {
    const model = await answering(404, { message: 'Not Found' });
    await model.start();
    expect(model.error).toMatch(/the Skiff server extension is not running in this Jupyter server — install the same package .*pip install skiff-jupyterlab/);
  });

  it('says plainly when the runtime speaks another API version', async () => {
    const model = await answering(200, { ok: true, version: '9.0.0', apiVersion: 9, cluster: 'skiff', namespace: 'skiff' });
    await model.start();
    expect(model.error).toContain(`speaks API version 9 (runtime 9.0.0) but this front end expects version ${API_VERSION} — install the same Skiff version`);
  });

  it('lists the jobs of each context a job was promoted to, through the API on that context, and remembers the targets', async () => {
    const cloud = scriptedBackend();
    await cloud.submit({ kind: 'training', name: 'promoted-train' } as Parameters<typeof cloud.submit>[0], { files: [] });
    const contexts: string[] = [];
    const server = await startApiServer({ token: TOKEN, backend: scriptedBackend(), remote: (context) => (contexts.push(context), cloud) });
    const memory = browserTargetMemory(window.localStorage);
    const model = new SkiffModel(new SkiffApiClient({ baseUrl: server.url, token: TOKEN }), memory);
    closers.push(async () => (model.dispose(), await server.close()));
    await model.start();
    model.promoted.add({ context: 'gke', namespace: 'prod' });
    await expect.poll(() => model.promoted.remotes[0]?.jobs.map((j) => j.name)).toEqual(['promoted-train']);
    expect(model.jobs).toEqual([]);
    expect(contexts).toEqual(['gke']);
    expect(JSON.parse(window.localStorage.getItem('skiff:promoted-targets')!)).toEqual([{ context: 'gke', namespace: 'prod' }]);
    window.localStorage.setItem('skiff:promoted-targets', 'not json');
    expect(memory.get()).toEqual([]);
  });
});
