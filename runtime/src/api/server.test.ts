// A real server on port 0 with a fake backend: auth, routing, JSON errors and SSE framing.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CellEvent, JobStatus, LogLine, MetricsSample, NotebookSessionInfo } from '../types.js';
import type { NotebookSessionRequest } from '../sessions/notebook.js';
import { sessionNameFor } from '../spec/names.js';
import { SkiffError } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.js';
import type { CodeSource } from '../session.js';
import { sleep } from '../k8s/streams.js';
import { KEEP_ALIVE_MS, errorBody, httpStatusFor, intervalOf, namespaceOf, sinceOf, startApiServer, submitRequest, upRequest, type ApiBackend, type ApiServer } from './server.js';
import { clusterOptions } from '../cluster/cluster.js';
import { sseFrame } from './sse.js';
import { PROMOTION_TARGETS_FIXTURE, notUsedHere, promotionPlanFixture } from '../testing/fixtures.js';
import { API_VERSION, RUNTIME_VERSION } from '../version.js';

const TOKEN = 'test-token';

const status = (name: string): JobStatus => ({ name, namespace: 'skiff', kind: 'training', phase: 'Running', workers: 2, script: 'train.py', pods: [] });

class FakeBackend implements ApiBackend {
  clusterName = 'skiff';
  namespace = 'skiff';
  submitted: { spec: JobSpec; code: CodeSource }[] = [];
  logSignal?: AbortSignal;
  logLines: LogLine[] = [
    { pod: 'p0', rank: 0, time: 't1', text: 'hello' },
    { pod: 'p1', rank: 1, time: 't2', text: 'world\nwith newline' },
  ];
  async listClusters() {
    return [{ name: 'skiff', context: 'kind-skiff', profile: 'cpu' as const, nodes: [] }];
  }
  async up(_request: unknown, onProgress?: (msg: string) => void) {
    onProgress?.('creating cluster');
    onProgress?.('waiting for nodes');
    return { cluster: { name: 'skiff', context: 'kind-skiff', profile: 'cpu' as const, nodes: [] }, reused: false, seconds: 1 };
  }
  async down() {
    return true;
  }
  async listJobs() {
    return [status('a'), status('b')];
  }
  async *watchJobs(opts: { signal?: AbortSignal }): AsyncGenerator<JobStatus[]> {
    yield [status('a')];
    yield [status('a'), status('b')];
    while (!opts.signal?.aborted) await sleep(5, opts.signal);
  }
  async describeJob(name: string) {
    if (name !== 'a') throw new SkiffError('JOB_NOT_FOUND', `no job named '${name}' in namespace 'skiff'`, { hint: 'see `skiff jobs`' });
    return { ...status('a'), pods: [], events: [] };
  }
  async submit(spec: JobSpec, code: CodeSource) {
    this.submitted.push({ spec, code });
    return status(spec.name);
  }
  async cancelJob() {}
  promotionTargets() {
    return PROMOTION_TARGETS_FIXTURE;
  }
  async planPromotion(job: string, target: { to: string }) {
    return promotionPlanFixture(job, target.to);
  }
  async applyPromotion(_plan: unknown, onProgress?: (line: string) => void) {
    onProgress?.('pushing localhost:5000/skiff-a:0123');
    return [];
  }
  async waitForJob(name: string, _phases: unknown, opts: { onStatus?: (s: JobStatus) => void } = {}) {
    opts.onStatus?.(status(name));
    const final = { ...status(name), phase: 'Succeeded' as const };
    opts.onStatus?.(final);
    return final;
  }
  async *logs(_name: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncGenerator<LogLine> {
    this.logSignal = opts.signal;
    yield* this.logLines;
    if (!opts.follow) return;
    while (!opts.signal?.aborted) await sleep(5, opts.signal);
  }
  async *metrics(): AsyncGenerator<MetricsSample> {
    yield { type: 'training', metric: { rank: 0, time: 't', values: { loss: 0.5 } } };
    throw new SkiffError('CLUSTER_GONE', 'cluster went away');
  }
  outputs = notUsedHere('outputs');
  copyOutputs = notUsedHere('copyOutputs');
  /** Calls whose caller went away before the answer: their signal aborted. */
  abandonedCalls = 0;
  async call(_name: string, opts: { path?: string; data?: string; signal?: AbortSignal }) {
    if (opts.path === '/slow') {
      await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
      this.abandonedCalls++;
    }
    return { status: 200, body: `${opts.path} ${opts.data}` };
  }
  sessions = new Map<string, NotebookSessionInfo>();
  started: Omit<NotebookSessionRequest, 'namespace'>[] = [];
  async startNotebookSession(req: Omit<NotebookSessionRequest, 'namespace'>, opts: { onProgress?: (line: string) => void } = {}) {
    opts.onProgress?.('waiting for pods: 0 of 2 running');
    this.started.push(req);
    const info: NotebookSessionInfo = {
      name: req.name,
      namespace: 'skiff',
      workers: req.workers ?? 1,
      gpusPerWorker: req.gpuShare !== undefined ? 1 : (req.gpusPerWorker ?? 0),
      ...(req.gpuShare !== undefined ? { gpuShare: req.gpuShare } : {}),
      packages: req.packages,
      phase: 'Running',
    };
    this.sessions.set(req.name, info);
    return info;
  }
  async findNotebookSession(name: string) {
    return this.sessions.get(name);
  }
  async attachNotebookSession(name: string) {
    const info = this.sessions.get(name);
    if (!info) throw new SkiffError('SESSION_LOST', `no notebook session '${name}' on cluster 'skiff'`, { hint: 'start one by running a cell' });
    return { info, ranks: [] };
  }
  async *runCell(_name: string, code: string): AsyncGenerator<CellEvent> {
    yield { type: 'stream', name: 'stdout', text: 'step 1\nSKIFF_METRIC {"step":1,"loss":0.5}\n', rank: 0 };
    yield { type: 'stream', name: 'stdout', text: 'step 1\n', rank: 1 };
    yield { type: 'result', data: { 'text/plain': '42' }, count: 1, rank: 0 };
    yield { type: 'done', status: 'ok', count: 1, rank: 0 };
    if (code.includes('boom')) yield { type: 'error', ename: 'ValueError', evalue: 'boom', traceback: 'Traceback\nValueError: boom', rank: 1 };
    yield { type: 'done', status: code.includes('boom') ? 'error' : 'ok', count: 1, rank: 1 };
  }
  async interruptNotebookSession() {
    return { interrupted: [0, 1], killed: [] };
  }
  async stopNotebookSession(name: string) {
    this.sessions.delete(name);
  }
}

let server: ApiServer | undefined;
let backend: FakeBackend;

async function start(): Promise<ApiServer> {
  backend = new FakeBackend();
  // The notebooks and folders these tests name live in the temp folder.
  server = await startApiServer({ token: TOKEN, backend, codeRoots: [tmpdir()] });
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const auth = { Authorization: `Bearer ${TOKEN}` };
const api = (path: string, init: RequestInit = {}) => fetch(server!.url + path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });

/** Parses an SSE body into [event, data] pairs. */
function parseSse(text: string): [string, unknown][] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return [event, JSON.parse(data)];
    });
}

describe('API server', () => {
  it('listens on loopback with the given token and refuses other hosts', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.token).toBe(TOKEN);
    await expect(startApiServer({ host: '0.0.0.0', backend: new FakeBackend() })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('makes up a token when none is given', async () => {
    server = await startApiServer({ backend: new FakeBackend() });
    expect(server.token.length).toBeGreaterThanOrEqual(24);
  });

  it('requires the bearer token', async () => {
    await start();
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Record<string, string>[]) {
      const res = await fetch(server!.url + '/api/health', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    const ok = await api('/api/health');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, version: RUNTIME_VERSION, apiVersion: API_VERSION, cluster: 'skiff', namespace: 'skiff' });
  });

  it('keeps an idle client connection open between cells (Node would close it after 5 s)', async () => {
    await start();
    const res = await api('/api/health');
    await res.body?.cancel();
    expect(res.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
  });

  it('rejects requests addressed to a non-loopback Host (DNS rebinding)', async () => {
    await start();
    const { request } = await import('node:http');
    const url = new URL(server!.url);
    const statusCode = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/api/health', headers: { ...auth, Host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(statusCode).toBe(403);
  });

  it('routes, with 404 for unknown paths and 405 for wrong methods', async () => {
    await start();
    expect(await (await api('/api/jobs')).json()).toEqual([status('a'), status('b')]);
    expect(await (await api('/api/clusters')).json()).toMatchObject([{ name: 'skiff' }]);
    const missing = await api('/api/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const wrong = await api('/api/jobs', { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect((await api('/api/jobs/a', { method: 'DELETE' })).status).toBe(200);
    expect(await (await api('/api/clusters/down', { method: 'POST', body: '{}' })).json()).toEqual({ name: 'skiff', deleted: true });
  });

  it('turns Skiff errors into JSON with code, message and hint', async () => {
    await start();
    const res = await api('/api/jobs/zzz');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'JOB_NOT_FOUND', message: "no job named 'zzz' in namespace 'skiff'", hint: 'see `skiff jobs`' } });
    expect((await (await api('/api/jobs/a')).json()).name).toBe('a');
  });

  it('submits code sent as files, validating the spec', async () => {
    await start();
    const res = await api('/api/jobs', {
      method: 'POST',
      body: JSON.stringify({
        kind: 'training',
        script: 'cell.py',
        workers: 2,
        name: 'nb-cell',
        code: { files: [{ path: 'cell.py', content: Buffer.from('print(1)\n').toString('base64') }] },
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'nb-cell' });
    const [{ spec, code }] = backend.submitted;
    expect(spec).toMatchObject({ kind: 'training', name: 'nb-cell', namespace: 'skiff', workers: 2, script: 'cell.py' });
    expect(code).toEqual({ files: [{ path: 'cell.py', content: Buffer.from('print(1)\n') }] });

    const bad = await api('/api/jobs', { method: 'POST', body: JSON.stringify({ kind: 'training', script: 'x.py', workers: 0, codeRoot: '/tmp' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_INPUT', message: expect.stringMatching(/^--workers must be .*between 1 and 64/) } });
    const notJson = await api('/api/jobs', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('takes code only from the folders it serves: a codeRoot outside, or a link inside that leads out, is refused', async () => {
    await start();
    const inside = await mkdtemp(join(tmpdir(), 'skiff-root-'));
    await symlink('/etc', join(inside, 'leads-out'));
    const submit = (codeRoot: string) =>
      api('/api/jobs', { method: 'POST', body: JSON.stringify({ kind: 'training', script: 'a.py', codeRoot }) }).then(async (r) => ({ status: r.status, body: await r.json() }));
    for (const codeRoot of ['/etc', join(inside, 'leads-out'), join(inside, '..', '..', 'etc'), 'relative/dir']) {
      const refused = await submit(codeRoot);
      expect(refused.status, codeRoot).toBe(400);
      expect(refused.body.error.message, codeRoot).toMatch(/outside the folders this API serves|must be an absolute path/);
    }
    const copy = await api('/api/jobs/a/outputs/copy', { method: 'POST', body: JSON.stringify({ codeRoot: '/root/.ssh' }) });
    expect(copy.status).toBe(400);
    expect(backend.submitted).toEqual([]);
    expect((await submit(inside)).status).toBe(201);
    expect(backend.submitted[0].code).toEqual({ codeRoot: await realpath(inside) });
    await rm(inside, { recursive: true, force: true });
  });

  it('streams logs as SSE and ends with event: end', async () => {
    await start();
    const res = await api('/api/jobs/a/logs');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events).toEqual([
      ['log', backend.logLines[0]],
      ['log', backend.logLines[1]],
      ['end', {}],
    ]);
  });

  it("streams a job's status until it finishes, as status events", async () => {
    await start();
    const events = parseSse(await (await api('/api/jobs/a/wait?until=Succeeded,Failed')).text());
    expect(events.map(([e, d]) => [e, (d as JobStatus).phase])).toEqual([
      ['status', 'Running'],
      ['status', 'Succeeded'],
      ['end', undefined],
    ]);
  });

  it('streams the job list as it changes, as jobs events', async () => {
    await start();
    const controller = new AbortController();
    const res = await api('/api/jobs/watch', { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const complete = () => parseSse(text.slice(0, text.lastIndexOf('\n\n') + 1));
    while (complete().length < 2) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(complete()).toEqual([
      ['jobs', [status('a')]],
      ['jobs', [status('a'), status('b')]],
    ]);
  });

  it('aborts a followed stream when the client disconnects', async () => {
    await start();
    const controller = new AbortController();
    const res = await api('/api/jobs/a/logs?follow=1', { signal: controller.signal });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: log');
    controller.abort();
    for (let i = 0; i < 100 && !backend.logSignal?.aborted; i++) await sleep(10);
    expect(backend.logSignal?.aborted).toBe(true);
  });

  it('reports a stream error as event: error before the end', async () => {
    await start();
    const events = parseSse(await (await api('/api/jobs/a/metrics')).text());
    expect(events).toEqual([
      ['metrics', { type: 'training', metric: { rank: 0, time: 't', values: { loss: 0.5 } } }],
      ['error', { error: { code: 'CLUSTER_GONE', message: 'cluster went away' } }],
      ['end', {}],
    ]);
  });

  it('brings a cluster up with progress events when asked for a stream, JSON otherwise', async () => {
    await start();
    const streamed = parseSse(await (await api('/api/clusters/up', { method: 'POST', body: '{"workers":1}', headers: { Accept: 'text/event-stream' } })).text());
    expect(streamed.map(([e]) => e)).toEqual(['progress', 'progress', 'result', 'end']);
    expect(streamed[0][1]).toEqual({ message: 'creating cluster' });
    const plain = await api('/api/clusters/up', { method: 'POST', body: '{}' });
    expect(await plain.json()).toMatchObject({ reused: false });
    const bad = await api('/api/clusters/up', { method: 'POST', body: '{"workers":-1}' });
    expect(bad.status).toBe(400);
  });

  it('calls a serving job', async () => {
    await start();
    const res = await api('/api/jobs/a/call', { method: 'POST', body: JSON.stringify({ path: '/predict', data: { x: 1 } }) });
    expect(await res.json()).toEqual({ status: 200, body: '/predict {"x":1}' });
  });

  it('stops a call whose caller went away', async () => {
    await start();
    const caller = new AbortController();
    const pending = api('/api/jobs/a/call', { method: 'POST', body: JSON.stringify({ path: '/slow' }), signal: caller.signal }).catch(() => undefined);
    await sleep(100);
    caller.abort();
    await pending;
    for (let i = 0; i < 100 && backend.abandonedCalls === 0; i++) await sleep(10);
    expect(backend.abandonedCalls).toBe(1);
  });
});

describe('notebook session routes', () => {
  async function notebook(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-api-nb-'));
    const file = join(dir, 'train.ipynb');
    const cell = (source: string) => ({ cell_type: 'code', source, metadata: {}, outputs: [] });
    await writeFile(file, JSON.stringify({ cells: [cell('%pip install tqdm\nimport tqdm\n'), cell('x = 1\n')], nbformat: 4, nbformat_minor: 5 }));
    return file;
  }
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => api(path, { method: 'POST', body: JSON.stringify(body), headers });

  it("starts a notebook's session in its folder with its %pip packages, and reattaches to one of the same size", async () => {
    await start();
    const file = await notebook();
    const first = await post('/api/sessions', { notebook: file, workers: 2 });
    expect(first.status).toBe(201);
    const info = await first.json();
    expect(info).toMatchObject({ name: sessionNameFor(file), workers: 2, packages: ['tqdm'], attached: false });
    expect(backend.started[0]).toMatchObject({ notebook: 'train.ipynb', codeRoot: join(file, '..'), workers: 2 });

    expect(await (await post('/api/sessions', { notebook: file, workers: 2, attach: true })).json()).toMatchObject({ name: info.name, attached: true });
    expect(backend.started).toHaveLength(1);
    // Another size is a restart, even when asked to attach.
    const streamed = parseSse(await (await post('/api/sessions', { notebook: file, workers: 1, attach: true }, { Accept: 'text/event-stream' })).text());
    expect(streamed).toEqual([
      ['progress', { message: 'waiting for pods: 0 of 2 running' }],
      ['result', expect.objectContaining({ workers: 1, attached: false })],
      ['end', {}],
    ]);
    expect(await (await api(`/api/sessions/${info.name}`)).json()).toMatchObject({ name: info.name, workers: 1 });
  });

  it('starts a session whose ranks each take a share of one GPU, and reattaches only to one of the same share', async () => {
    await start();
    const file = await notebook();
    const info = await (await post('/api/sessions', { notebook: file, workers: 2, gpuShare: 0.5 })).json();
    expect(info).toMatchObject({ workers: 2, gpusPerWorker: 1, gpuShare: 0.5, attached: false });
    expect(backend.started[0]).toMatchObject({ workers: 2, gpuShare: 0.5 });
    expect(await (await post('/api/sessions', { notebook: file, workers: 2, gpuShare: 0.5, attach: true })).json()).toMatchObject({ attached: true });
    // A whole GPU per rank is another size: a restart, even when asked to attach.
    expect(await (await post('/api/sessions', { notebook: file, workers: 2, gpusPerWorker: 1, attach: true })).json()).toMatchObject({ attached: false });
    expect(backend.started).toHaveLength(2);
    const refused = await post('/api/sessions', { notebook: file, gpuShare: 0.75 });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.message).toMatch(/gives each job at most half of it/);
  });

  it('refuses a relative or missing notebook and unknown fields, before anything starts', async () => {
    await start();
    for (const [body, message] of [
      [{ notebook: 'train.ipynb' }, 'notebook must be an absolute path'],
      [{}, 'notebook is required'],
      [{ notebook: join(tmpdir(), 'nowhere', 'x.ipynb') }, `the notebook's folder ${join(tmpdir(), 'nowhere')} does not exist`],
      [{ notebook: '/etc/x.ipynb' }, 'the notebook /etc is outside the folders this API serves'],
      [{ notebook: '/tmp/x.ipynb', wrokers: 2 }, 'unknown field(s): wrokers'],
    ] as const) {
      const res = await post('/api/sessions', body);
      expect(res.status, message).toBe(400);
      expect((await res.json()).error.message).toContain(message);
    }
    expect(backend.started).toEqual([]);
  });

  it("streams a cell's outputs as presented (other ranks tagged, metrics as samples, failing ranks named), then its outcome", async () => {
    await start();
    const { name } = await (await post('/api/sessions', { notebook: await notebook(), workers: 2 })).json();
    const ok = parseSse(await (await post(`/api/sessions/${name}/cells`, { code: '42' })).text());
    expect(ok).toEqual([
      ['output', { type: 'metrics', samples: [expect.objectContaining({ metric: expect.objectContaining({ rank: 0, values: { step: 1, loss: 0.5 } }) })] }],
      ['output', { type: 'stream', name: 'stdout', text: 'step 1\n', rank: 0 }],
      ['output', { type: 'stream', name: 'stdout', text: '[rank 1] step 1\n', rank: 1 }],
      ['output', { type: 'rich', data: { 'text/plain': '42' }, count: 1 }],
      ['outcome', { status: 'ok', summary: 'cell 1 ok on 2 ranks' }],
      ['end', {}],
    ]);
    const failed = parseSse(await (await post(`/api/sessions/${name}/cells`, { code: 'boom', allRanks: false })).text());
    expect(failed.filter(([e]) => e === 'output').map(([, o]) => (o as { type: string }).type)).toEqual(['metrics', 'stream', 'rich', 'error']);
    expect(failed.at(-2)).toEqual(['outcome', { status: 'error', summary: 'cell 1 failed on rank 1 of 2' }]);
  });

  it('answers a cell, an interrupt and a stop for a session that is not there, and interrupts and stops one that is', async () => {
    await start();
    const gone = await post('/api/sessions/nope-s12345/cells', { code: '1' });
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: 'SESSION_LOST' } });
    expect((await api('/api/sessions/nope-s12345')).status).toBe(404);
    expect((await post('/api/sessions/nope-s12345/cells', { cell: '1' })).status).toBe(400);

    const { name } = await (await post('/api/sessions', { notebook: await notebook() })).json();
    expect(await (await post(`/api/sessions/${name}/interrupt`, { graceMs: 1000 })).json()).toEqual({ interrupted: [0, 1], killed: [] });
    expect(await (await api(`/api/sessions/${name}`, { method: 'DELETE' })).json()).toEqual({ name, stopped: true });
    expect((await api(`/api/sessions/${name}`)).status).toBe(404);
  });
});

describe('pure pieces', () => {
  it('frames SSE events on one data line', () => {
    expect(sseFrame('log', { text: 'a\nb' })).toBe('event: log\ndata: {"text":"a\\nb"}\n\n');
  });

  it('maps error codes to HTTP statuses', () => {
    expect(httpStatusFor(new SkiffError('BAD_INPUT', 'x'))).toBe(400);
    expect(httpStatusFor(new SkiffError('JOB_NOT_FOUND', 'x'))).toBe(404);
    expect(httpStatusFor(new SkiffError('TIMEOUT', 'x'))).toBe(504);
    expect(httpStatusFor(new Error('x'))).toBe(500);
    expect(errorBody(new Error('plain'))).toEqual({ error: { code: 'INTERNAL', message: 'plain' } });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(errorBody(refused).error.code).toBe('CLUSTER_GONE');
  });

  it('needs code with a submission', () => {
    expect(() => submitRequest({ kind: 'serving', script: 's.py' }, 'skiff')).toThrow(/code.files/);
    expect(() => submitRequest({ kind: 'serving', script: 's.py', code: { files: [{ path: 's.py', content: '***' }] } }, 'skiff')).toThrow(/base64/);
    expect(submitRequest({ kind: 'serving', script: 's.py', codeRoot: '/src' }, 'ns')).toMatchObject({
      spec: { kind: 'serving', namespace: 'ns', port: 8000 },
      code: { codeRoot: '/src' },
    });
  });
});

describe('API inputs are validated as the CLI validates them', () => {
  it('takes only kind and Skiff node images, and bounded node counts', () => {
    expect(upRequest({ nodeImage: 'skiff.local/node:v1.34.1-4', workers: 2 })).toEqual({ nodeImage: 'skiff.local/node:v1.34.1-4', workers: 2 });
    expect(upRequest({ nodeImage: 'kindest/node:v1.34.0' }).nodeImage).toBe('kindest/node:v1.34.0');
    expect(() => upRequest({ nodeImage: 'evil.example/root:latest' })).toThrow('nodeImage must be a kindest/node or skiff.local/node image');
    expect(upRequest({ recreate: true }).recreate).toBe(true);
    expect(() => upRequest({ recreate: 'yes' })).toThrow('recreate must be true or false');
    expect(() => clusterOptions({ workers: 1000 })).toThrow('workers must be a whole number from 0 to 16');
    expect(() => clusterOptions({ gpusPerNode: 99 })).toThrow('GPUs per node must be a whole number from 0 to 16');
  });

  it('checks namespace, since and intervalMs', () => {
    const q = (s: string) => new URLSearchParams(s);
    expect(namespaceOf(q('namespace=ml'))).toBe('ml');
    expect(namespaceOf(q(''))).toBeUndefined();
    expect(() => namespaceOf(q('namespace=../kube-system'))).toThrow('--namespace must be at most 63 characters');
    expect(sinceOf(q('since=2026-12-01T10:00:00.5Z'))).toBe('2026-12-01T10:00:00.5Z');
    expect(() => sinceOf(q('since=yesterday'))).toThrow('since must be an RFC 3339 time');
    expect(intervalOf(q('intervalMs=2000'))).toBe(2000);
    expect(intervalOf(q(''))).toBeUndefined();
    for (const bad of ['1', '0', '-5', 'abc', '1.5', '99999999']) expect(() => intervalOf(q(`intervalMs=${bad}`)), bad).toThrow('intervalMs must be a whole number from 100');
  });
});
