// The contract on its own: its schemas answer with the API's plain messages, its paths are built
// and matched the same way on both sides, and a call or a handler that does not fit its route does
// not compile (the @ts-expect-error lines are checked by `npm run typecheck:tests`).
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../errors.js';
import { API_VERSION as VERSION } from '../version.js';
import { API_VERSION, routes } from './contract.js';
import type { Handlers } from './dispatch.js';
import { parseRequest } from './fields.js';
import { matchPath, pathFor, requestFor, type RouteSpec } from './route.js';
import { SkiffApiClient } from './client.js';

/** The BAD_INPUT a body gets: message and hint. */
function refusal(route: RouteSpec, body: unknown): { message: string; hint?: string } {
  try {
    parseRequest(route.body!, body);
  } catch (err) {
    expect(err).toBeInstanceOf(SkiffError);
    expect((err as SkiffError).code).toBe('BAD_INPUT');
    return { message: (err as SkiffError).message, hint: (err as SkiffError).hint };
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('request schemas', () => {
  it('refuse a body with the plain message (and hint) of the field at fault', () => {
    expect(refusal(routes.clusterUp, { workers: -1 }).message).toBe('workers must be a whole number ≥ 0');
    expect(refusal(routes.clusterUp, { gpusPerNode: 1.5 }).message).toBe('gpusPerNode must be a whole number ≥ 0');
    expect(refusal(routes.clusterUp, { name: 7 }).message).toBe('name must be a string');
    expect(refusal(routes.clusterUp, { recreate: 'yes' }).message).toBe('recreate must be true or false');
    expect(refusal(routes.clusterUp, { nodeImage: 'evil.example/root:latest' })).toEqual({
      message: "nodeImage must be a kindest/node or skiff.local/node image (got 'evil.example/root:latest')",
      hint: 'other node images can be given to `skiff up --image` on the command line',
    });
    for (const body of [[], null, 'x', 3]) expect(refusal(routes.clusterDown, body).message).toBe('the request body must be a JSON object');

    expect(refusal(routes.planPromotion, { to: '' }).message).toBe('say which context to promote to: {"to": "<kubeconfig context>"}');
    expect(refusal(routes.planPromotion, { to: 5 }).message).toBe('to must be a string');
    expect(refusal(routes.promoteJob, { to: 'cloud', digest: 'abc' })).toMatchObject({
      message: "not applying to context 'cloud' without a confirmation of the plan shown",
      hint: expect.stringContaining('"confirm": true'),
    });
    expect(refusal(routes.callJob, { headers: { a: 1 } }).message).toBe('headers must be an object of strings');
    expect(refusal(routes.copyJobOutputs, { codeRoot: 'relative' }).message).toBe('codeRoot must be the absolute path of a folder to copy the outputs into');
    expect(refusal(routes.copyJobOutputs, { notebookPath: 'nb.ipynb' }).message).toBe('codeRoot must be the absolute path of a folder to copy the outputs into');

    const file = { path: 'a.py', content: 'cHJpbnQoMSk=' };
    expect(refusal(routes.submitJob, { kind: 'training', code: { files: [file, { path: 'b.py', content: '***' }] } }).message).toBe(
      'code.files[1] must be {path: string, content: base64 string}',
    );
    expect(refusal(routes.submitJob, { kind: 'training', code: null }).message).toBe('code.files must be a list of {path, content} with base64 content');
    expect(refusal(routes.submitJob, { kind: 'training', code: {} }).message).toBe('code.files must be a list of {path, content} with base64 content');
    expect(refusal(routes.submitJob, { kind: 'training' }).message).toMatch(/^send the code as code.files or name a folder/);
    expect(refusal(routes.submitJob, { codeRoot: '/src', from: '' }).message).toBe('from must be the name of an earlier job');
  });

  it('refuse unknown fields where the route is strict, and drop them where it is not', () => {
    expect(refusal(routes.runCell, { code: '1', cell: '1' }).message).toBe('unknown field(s): cell');
    expect(refusal(routes.startSession, { notebook: '/tmp/x.ipynb', wrokers: 2 }).message).toBe('unknown field(s): wrokers');
    expect(refusal(routes.startSession, {}).message).toBe('notebook is required: the absolute path of the .ipynb on this machine');
    expect(refusal(routes.startSession, { notebook: '/tmp/x.ipynb', name: '' }).message).toBe('name: String must contain at least 1 character(s)');
    expect(refusal(routes.interruptSession, { graceMs: -1 }).message).toMatch(/^graceMs: /);
    expect(parseRequest(routes.clusterDown.body, { name: 'x', extra: 1 })).toEqual({ name: 'x' });
    // Spec fields pass through to the job spec's own checks (routes/jobs.ts).
    expect(parseRequest(routes.submitJob.body, { kind: 'serving', script: 's.py', codeRoot: '/src' })).toEqual({ kind: 'serving', script: 's.py', codeRoot: '/src' });
  });

  it('turn query strings into what handlers use', () => {
    expect(parseRequest(routes.jobLogs.query, { follow: '', since: '2026-12-01T10:00:00Z' })).toEqual({ follow: true, since: '2026-12-01T10:00:00Z' });
    expect(parseRequest(routes.jobLogs.query, { follow: 'no', namespace: '' })).toEqual({ follow: false });
    expect(parseRequest(routes.jobMetrics.query, { intervalMs: '500' })).toMatchObject({ intervalMs: 500 });
    expect(parseRequest(routes.waitForJob.query, {}).until).toEqual(['Succeeded', 'Failed', 'Cancelled']);
    expect(parseRequest(routes.waitForJob.query, { until: 'Running, Failed' }).until).toEqual(['Running', 'Failed']);
    expect(() => parseRequest(routes.waitForJob.query, { until: 'Done,Running' })).toThrow('unknown job phase(s) in until: Done');
  });
});

describe('paths', () => {
  it('are built from the route, and every route matches the path built for it', () => {
    expect(requestFor(routes.jobLogs, { params: { name: 'a' }, query: { follow: '1', since: undefined } })).toEqual({
      method: 'GET',
      path: '/api/jobs/a/logs?follow=1',
      body: undefined,
    });
    expect(requestFor(routes.planPromotion, { params: { name: 'web' }, body: { to: 'cloud' } })).toEqual({
      method: 'POST',
      path: '/api/jobs/web/promote/plan',
      body: { to: 'cloud' },
    });
    for (const [name, route] of Object.entries(routes) as [string, RouteSpec][]) {
      const path = pathFor(route, { name: 'job-1.a' } as never);
      expect(path, name).toMatch(/^\/api\//);
      expect(matchPath(route.path, path), name).toEqual(route.path.includes(':name') ? { name: 'job-1.a' } : {});
    }
    // Segments that are not Kubernetes-style names are no route at all (the server answers 404).
    expect(matchPath(routes.describeJob.path, '/api/jobs/Bad_Name')).toBeUndefined();
    expect(matchPath(routes.describeJob.path, '/api/jobs/a/b')).toBeUndefined();
  });

  it("are the client's: method, path, query and body of its calls come from the contract", async () => {
    const sent: { method?: string; url: string; body?: unknown }[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      sent.push({ method: init?.method, url: String(url), body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const api = new SkiffApiClient({ baseUrl: 'http://127.0.0.1:7070/skiff/', fetch });
    await api.cancel('train');
    await api.at({ context: 'gke', namespace: 'prod' }).describe('train');
    await api.copyOutputs('train', { notebookPath: 'nb/a.ipynb' });
    await api.down();
    expect(sent).toEqual([
      { method: 'DELETE', url: 'http://127.0.0.1:7070/skiff/api/jobs/train' },
      { method: 'GET', url: 'http://127.0.0.1:7070/skiff/api/jobs/train?context=gke&namespace=prod' },
      { method: 'POST', url: 'http://127.0.0.1:7070/skiff/api/jobs/train/outputs/copy', body: { notebookPath: 'nb/a.ipynb' } },
      { method: 'POST', url: 'http://127.0.0.1:7070/skiff/api/clusters/down', body: {} },
    ]);
  });

  it('keep the API version in one place', () => {
    expect(API_VERSION).toBe(VERSION);
  });
});

describe('types read off the contract', () => {
  it('refuse a call or a handler that does not fit its route', () => {
    // @ts-expect-error the parameter is `name`
    requestFor(routes.jobLogs, { params: { nmae: 'a' } });
    // @ts-expect-error the route has a body
    requestFor(routes.planPromotion, { params: { name: 'a' } });
    // @ts-expect-error `to` is a string
    requestFor(routes.planPromotion, { params: { name: 'a' }, body: { to: 5 } });
    // @ts-expect-error query values are strings, as in a URL
    requestFor(routes.jobMetrics, { params: { name: 'a' }, query: { intervalMs: 500 } });
    // @ts-expect-error health answers a Health, whose apiVersion is a number
    const health: Handlers['health'] = async () => ({ ok: true, version: '1', apiVersion: '4', cluster: 'c', namespace: 'n' });
    // @ts-expect-error a log stream sends `log` events
    const logs: Handlers['jobLogs'] = async (_request, { items }) => items('lines', async function* () {});
    expect([health, logs]).toHaveLength(2);
  });
});
