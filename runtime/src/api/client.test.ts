// The browser client against the real API server (port 0, a fake session behind it): the same
// requests a JupyterLab front end makes, over real HTTP and real server-sent events.
import { afterEach, describe, expect, it } from 'vitest';
import type { JobStatus, LogLine } from '../types.js';
import { SkiffError } from '../errors.js';
import { sleep } from '../k8s/streams.js';
import { PROMOTION_TARGETS_FIXTURE, notUsedHere, promotionPlanFixture } from '../testing/fixtures.js';
import { API_VERSION } from '../version.js';
import { startApiServer, type ApiBackend, type ApiServer } from './server.js';
import { ApiError, SkiffApiClient } from './client.js';
import { followJob } from '../jobs/follow-job.js';

const TOKEN = 'client-test';

const status = (name: string, phase: JobStatus['phase'] = 'Running'): JobStatus => ({ name, namespace: 'skiff', kind: 'training', phase, workers: 2, script: 'cell.py', pods: [] });

function backend(): ApiBackend & { submitted: unknown[] } {
  const submitted: unknown[] = [];
  return {
    clusterName: 'skiff',
    namespace: 'skiff',
    submitted,
    listClusters: async () => [],
    up: async (_req, onProgress) => {
      onProgress?.('creating cluster');
      return { cluster: { name: 'skiff', context: 'kind-skiff', profile: 'cpu', nodes: [] }, reused: false, seconds: 1 };
    },
    down: async () => true,
    listJobs: async () => [status('a')],
    async *watchJobs({ signal } = {}) {
      yield [status('a')];
      yield [status('a', 'Succeeded')];
      while (!signal?.aborted) await sleep(5, signal);
    },
    describeJob: async (name) => {
      throw new SkiffError('JOB_NOT_FOUND', `no job named '${name}' in namespace 'skiff'`, { hint: 'see `skiff jobs`' });
    },
    submit: async (spec, code) => {
      submitted.push({ spec, code });
      return status(spec.name, 'Pending');
    },
    cancelJob: async () => {},
    promotionTargets: () => PROMOTION_TARGETS_FIXTURE,
    planPromotion: async (job, target) => {
      const plan = promotionPlanFixture(job, target.to);
      if (targetLive) plan.changes = [{ ...plan.changes[0], action: 'update', before: targetLive }];
      return plan;
    },
    applyPromotion: async (plan, onProgress) => (onProgress?.('pushing localhost:5000/skiff-a:0123'), applied.push(plan.job), []),
    waitForJob: async (name, phases, opts = {}) => {
      if (name === 'gone') throw new SkiffError('JOB_NOT_FOUND', `job '${name}' was deleted while waiting for it`, { hint: 'see `skiff jobs`' });
      for (const phase of ['Pending', 'Running'] as const) {
        opts.onStatus?.(status(name, phase));
        await sleep(5);
      }
      const final = status(name, phases.includes('Succeeded') ? 'Succeeded' : 'Running');
      opts.onStatus?.(final);
      return final;
    },
    async *logs(): AsyncGenerator<LogLine> {
      yield { pod: 'p0', rank: 0, time: 't1', text: 'héllo' };
      yield { pod: 'p1', rank: 1, time: 't2', text: 'world' };
    },
    async *metrics() {
      yield { type: 'training' as const, metric: { rank: 0, time: 't', values: { step: 1, loss: 0.5 } } };
      throw new SkiffError('CLUSTER_GONE', "cluster 'skiff' no longer exists", { hint: 'run `skiff up`' });
    },
    call: async () => ({ status: 200, body: '{"ok":true}' }),
    outputs: notUsedHere('outputs'),
    copyOutputs: notUsedHere('copyOutputs'),
    startNotebookSession: notUsedHere('startNotebookSession'),
    findNotebookSession: notUsedHere('findNotebookSession'),
    attachNotebookSession: notUsedHere('attachNotebookSession'),
    runCell: notUsedHere('runCell'),
    interruptNotebookSession: notUsedHere('interruptNotebookSession'),
    stopNotebookSession: notUsedHere('stopNotebookSession'),
  };
}

let server: ApiServer | undefined;
/** The promotion target as the scripted backend sees it: its Job's YAML ('' when absent), and what was applied. */
let targetLive = '';
let applied: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  targetLive = '';
  applied = [];
});

async function client(b = backend()) {
  server = await startApiServer({ token: TOKEN, backend: b });
  return { api: new SkiffApiClient({ baseUrl: server.url, token: TOKEN }), backend: b };
}

const collect = async <T>(items: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

describe('SkiffApiClient', () => {
  it('checks the API version and says plainly when the halves differ', async () => {
    const { api } = await client();
    expect((await api.checkVersion()).apiVersion).toBe(API_VERSION);
    await expect(api.checkVersion(API_VERSION + 1)).rejects.toMatchObject({ code: 'VERSION_MISMATCH', message: expect.stringContaining(`expects version ${API_VERSION + 1}`) });
  });

  it('submits a cell as files (UTF-8 safe) and gets the job back', async () => {
    const { api, backend: b } = await client();
    const job = await api.submit({ spec: { kind: 'training', name: 'nb-1', script: 'cell.py', workers: 2 }, files: [{ path: 'cell.py', content: 'print("é")\n' }] });
    expect(job).toMatchObject({ name: 'nb-1', phase: 'Pending' });
    const [{ spec, code }] = b.submitted as { spec: { workers: number }; code: { files: { path: string; content: Buffer }[] } }[];
    expect(spec.workers).toBe(2);
    expect(code.files[0].content.toString('utf8')).toBe('print("é")\n');
  });

  it('streams logs, the live job list and cluster progress over server-sent events', async () => {
    const { api } = await client();
    expect((await collect(api.logs('a'))).map((l) => l.text)).toEqual(['héllo', 'world']);
    const controller = new AbortController();
    const phases: string[] = [];
    for await (const jobs of api.watchJobs(controller.signal)) {
      phases.push(jobs[0].phase);
      if (phases.length === 2) controller.abort();
    }
    expect(phases).toEqual(['Running', 'Succeeded']);
    const progress: string[] = [];
    expect((await api.up({ profile: 'cpu' }, (m) => progress.push(m))).name).toBe('skiff');
    expect(progress).toEqual(['creating cluster']);
  });

  it('a stream cut before its end event is an error, not a quiet end', async () => {
    const { createServer } = await import('node:http');
    const cutting = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end('event: log\ndata: {"pod":"p0","rank":0,"time":"t1","text":"first"}\n\n'); // and no `end`
    });
    await new Promise<void>((r) => cutting.listen(0, '127.0.0.1', r));
    try {
      const api = new SkiffApiClient({ baseUrl: `http://127.0.0.1:${(cutting.address() as { port: number }).port}`, token: TOKEN });
      const seen: string[] = [];
      const reading = (async () => {
        for await (const line of api.logs('a', { follow: true })) seen.push(line.text);
      })();
      await expect(reading).rejects.toMatchObject({ code: 'UNREACHABLE', message: expect.stringContaining('was cut before its end') });
      expect(seen).toEqual(['first']);
    } finally {
      cutting.close();
    }
  });

  it("reads a promotion target's jobs through at(): the server answers from a session on that context", async () => {
    const local = backend();
    const cloud = { ...backend(), listJobs: async (namespace?: string) => [{ ...(await local.listJobs())[0], name: `cloud-job-in-${namespace}` }] };
    const contexts: string[] = [];
    server = await startApiServer({ token: TOKEN, backend: local, remote: (context) => (contexts.push(context), cloud as typeof local) });
    const api = new SkiffApiClient({ baseUrl: server.url, token: TOKEN });
    const remote = api.at({ context: 'gke', namespace: 'prod' });
    expect((await remote.jobs()).map((j) => j.name)).toEqual(['cloud-job-in-prod']);
    expect((await remote.jobs()).length).toBe(1);
    expect(contexts).toEqual(['gke']); // one session per context, reused
    expect((await api.jobs()).map((j) => j.name)).not.toContain('cloud-job-in-prod');
    // Submitting, promoting and clusters are for the local cluster only.
    await expect(remote.submit({ spec: { kind: 'training', name: 'x', script: 'x.py' }, files: [] })).rejects.toMatchObject({
      status: 400,
      code: 'BAD_INPUT',
      message: expect.stringContaining("local cluster only, not for context 'gke'"),
    });
  });

  it('turns API errors, stream errors and an unreachable API into ApiErrors with hints', async () => {
    const { api } = await client();
    await expect(api.describe('nope')).rejects.toMatchObject({ status: 404, code: 'JOB_NOT_FOUND', hint: 'see `skiff jobs`' });
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const sample of api.metrics('a')) seen.push(sample);
      })(),
    ).rejects.toMatchObject({ code: 'CLUSTER_GONE', hint: 'run `skiff up`' });
    expect(seen).toHaveLength(1);
    const wrongToken = new SkiffApiClient({ baseUrl: server!.url, token: 'wrong' });
    await expect(wrongToken.jobs()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const nobody = new SkiffApiClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(nobody.jobs()).rejects.toBeInstanceOf(ApiError);
    await expect(nobody.jobs()).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe('waiting for and following a job over HTTP', () => {
  it('reports every status on the way and resolves with the finished one', async () => {
    const { api } = await client();
    const seen: string[] = [];
    const final = await api.waitForJob('a', ['Succeeded', 'Failed'], { onStatus: (s) => seen.push(s.phase) });
    expect(final.phase).toBe('Succeeded');
    expect(seen).toEqual(['Pending', 'Running', 'Succeeded']);
  });

  it("turns the runtime's error into an ApiError with its code and hint", async () => {
    const { api } = await client();
    await expect(api.waitForJob('gone', ['Succeeded'])).rejects.toMatchObject({ code: 'JOB_NOT_FOUND', hint: 'see `skiff jobs`' });
  });

  it('refuses an unknown phase', async () => {
    const { api } = await client();
    await expect(api.waitForJob('a', ['Done' as never])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('is a FollowSource: followJob streams every rank and ends with the outcome', async () => {
    const { api } = await client();
    const lines: string[] = [];
    const final = await followJob(api, 'a', { onLog: (l) => lines.push(`${l.rank}:${l.text}`) }, { drainMs: 2000 });
    expect(final.phase).toBe('Succeeded');
    expect(lines).toEqual(['0:héllo', '1:world']);
  });
});

describe('promotion over HTTP', () => {
  it('lists targets, plans without applying, and applies only with the confirmation', async () => {
    const { api } = await client();
    expect(await api.promotionTargets()).toMatchObject({ contexts: ['kind-skiff', 'cloud'] });
    const plan = await api.planPromotion('a', { to: 'cloud' });
    expect(plan).toMatchObject({ job: 'a', context: 'cloud', image: 'localhost:5000/skiff-a:0123456789ab', changes: [{ kind: 'Job', action: 'create' }] });
    expect(plan).not.toHaveProperty('files');
    expect(plan.digest).toMatch(/^[0-9a-f]{64}$/);
    const progress: string[] = [];
    expect(await api.promote('a', { to: 'cloud' }, plan, (m) => progress.push(m))).toMatchObject({ context: 'cloud', digest: plan.digest });
    expect(progress).toEqual(['pushing localhost:5000/skiff-a:0123']);
  });

  it('refuses to apply without confirm: true and the digest of the plan shown, and asks for a context', async () => {
    const { api } = await client();
    const plan = await api.planPromotion('a', { to: 'cloud' });
    for (const body of [{ to: 'cloud' }, { to: 'cloud', digest: plan.digest }, { to: 'cloud', confirm: true }]) {
      const res = await fetch(`${server!.url}/api/jobs/a/promote`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("not applying to context 'cloud' without a confirmation of the plan shown");
    }
    expect(applied).toEqual([]);
    await expect(api.planPromotion('a', { to: '' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('applies nothing when the plan changed after it was shown: 409 PLAN_CHANGED, and the new plan can be confirmed', async () => {
    const { api } = await client();
    const shown = await api.planPromotion('a', { to: 'cloud' });
    targetLive = 'kind: Job\nmetadata:\n  name: a\n'; // someone created the Job on the target meanwhile
    await expect(api.promote('a', { to: 'cloud' }, shown)).rejects.toMatchObject({
      status: 409,
      code: 'PLAN_CHANGED',
      message: expect.stringContaining('changed after it was shown'),
    });
    expect(applied).toEqual([]);
    const again = await api.planPromotion('a', { to: 'cloud' });
    expect(again.digest).not.toBe(shown.digest);
    await api.promote('a', { to: 'cloud' }, again);
    expect(applied).toEqual(['a']);
  });
});
