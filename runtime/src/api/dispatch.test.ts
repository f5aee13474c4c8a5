// The dispatcher behind a real HTTP server, with handlers that record what they were given: 404 and
// 405 from the contract's templates, inputs checked before a handler runs, and its answer's framing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiBackend } from './backend.js';
import { dispatch, type Handlers, type RouteRequest } from './dispatch.js';
import { sendError } from './http.js';
import { SkiffError } from '../errors.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve())));

const local = { clusterName: 'skiff', namespace: 'skiff' } as ApiBackend;
const remote = { clusterName: 'gke', namespace: 'prod' } as ApiBackend;

async function serve(handlers: Partial<Handlers>): Promise<string> {
  const env = { backendFor: (context: string | null) => (context ? remote : local), confine: async (_what: string, folder: string) => folder };
  server = createServer((req, res) => void dispatch(req, res, handlers as Handlers, env).catch((err) => sendError(res, err)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('dispatch', () => {
  it('answers 404 for a path no route has, and for a parameter that is not a name', async () => {
    const url = await serve({});
    for (const path of ['/api/nope', '/api/jobs/Bad_Name', '/api/jobs/a/b/c', '/']) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: `no such endpoint: ${path}` } });
    }
  });

  it('answers 405 with the methods the path has', async () => {
    const url = await serve({});
    const res = await fetch(`${url}/api/jobs/watch`, { method: 'PUT' });
    expect(res.status).toBe(405);
    // /api/jobs/watch is also a job's path (GET describes, DELETE cancels): each method once.
    expect(res.headers.get('allow')).toBe('GET, DELETE');
    expect(await res.json()).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: 'PUT is not supported on /api/jobs/watch' } });
  });

  it('gives the handler checked, converted input and the backend of the context asked for', async () => {
    const seen: { request: RouteRequest<never>; backend: ApiBackend }[] = [];
    const url = await serve({
      describeJob: async (request, { backend }) => (seen.push({ request: request as never, backend }), { name: request.params.name }) as never,
      jobLogs: async (request, { items }) => {
        seen.push({ request: request as never, backend: local });
        return items('log', async function* () {
          yield { pod: 'p0', rank: 0, time: 't', text: 'hi' };
        });
      },
    });
    expect(await (await fetch(`${url}/api/jobs/a.b?context=gke&namespace=ml&ignored=1`)).json()).toEqual({ name: 'a.b' });
    expect(seen[0]).toEqual({ request: { params: { name: 'a.b' }, query: { namespace: 'ml' } }, backend: remote });
    const text = await (await fetch(`${url}/api/jobs/a/logs?follow`)).text();
    expect(text).toBe('event: log\ndata: {"pod":"p0","rank":0,"time":"t","text":"hi"}\n\nevent: end\ndata: {}\n\n');
    expect(seen[1].request).toEqual({ params: { name: 'a' }, query: { follow: true } });
  });

  it('refuses bad input before the handler runs, and a context on a local-only route', async () => {
    let ran = false;
    const url = await serve({ jobLogs: async () => ((ran = true), undefined as never), clusterDown: async () => ((ran = true), undefined as never) });
    for (const [path, init, message] of [
      ['/api/jobs/a/logs?since=yesterday', {}, "since must be an RFC 3339 time such as 2026-12-01T10:00:00Z (got 'yesterday')"],
      ['/api/jobs/a/logs?namespace=Kube_System', {}, /--namespace must be at most 63 characters/],
      ['/api/clusters/down', { method: 'POST', body: '[1]' }, 'the request body must be a JSON object'],
      ['/api/clusters/down', { method: 'POST', body: '{' }, 'the request body is not valid JSON'],
      ['/api/clusters/down?context=gke', { method: 'POST', body: '{}' }, "POST /api/clusters/down is for the local cluster only, not for context 'gke'"],
    ] as const) {
      const res = await fetch(url + path, init);
      expect(res.status, path).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('BAD_INPUT');
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
    }
    expect(ran).toBe(false);
  });

  it('turns a failure before the stream into JSON with its status, and one in the stream into an error event', async () => {
    const url = await serve({
      runCell: async ({ params }, { stream }) => {
        if (params.name === 'gone') throw new SkiffError('SESSION_LOST', 'no notebook session');
        return stream(async (send) => {
          await send('output', { type: 'stream', name: 'stdout', text: '1\n', rank: 0 });
          throw new SkiffError('CLUSTER_GONE', 'cluster went away');
        });
      },
    });
    const post = (name: string) => fetch(`${url}/api/sessions/${name}/cells`, { method: 'POST', body: '{"code": "1"}' });
    const gone = await post('gone');
    expect(gone.status).toBe(410);
    expect(await gone.json()).toEqual({ error: { code: 'SESSION_LOST', message: 'no notebook session' } });
    expect(await (await post('s')).text()).toBe(
      'event: output\ndata: {"type":"stream","name":"stdout","text":"1\\n","rank":0}\n\n' +
        'event: error\ndata: {"error":{"code":"CLUSTER_GONE","message":"cluster went away"}}\n\n' +
        'event: end\ndata: {}\n\n',
    );
  });
});
