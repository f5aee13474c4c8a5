// Jobs against a small stand-in API server: real client-node requests (lists, deletes, log tails,
// watches), so the wiring is exercised without a cluster.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { replyJson, serveStandInApi, type StandInApi } from '../testing/stand-in-api.js';
import { KubeConfig } from '@kubernetes/client-node';
import { parseTrainingSpec } from '../spec/job-spec.js';
import type { JobStatus } from '../types.js';
import { Jobs } from './jobs.js';

const NS = 'skiff';
const spec = parseTrainingSpec({ name: 'train', script: 'train.py', workers: 1 });

function jobObject(conditions: { type: string; status: string; message?: string }[] = []) {
  return {
    metadata: {
      name: 'train',
      namespace: NS,
      uid: 'job-uid',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train', 'skiff.dev/kind': 'training' },
      annotations: { 'skiff.dev/spec': JSON.stringify(spec) },
    },
    spec: { completions: 1, backoffLimit: 0, template: { spec: { containers: [] } } },
    status: { conditions },
  };
}

function podObject(phase: string, terminated?: { exitCode: number; reason: string }) {
  return {
    metadata: {
      name: 'train-0-abcde',
      namespace: NS,
      uid: 'pod-uid',
      labels: { 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train', 'skiff.dev/kind': 'training' },
      annotations: { 'batch.kubernetes.io/job-completion-index': '0' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'job-uid' }],
    },
    spec: { nodeName: 'n1', containers: [{ name: 'worker', image: 'img' }] },
    status: {
      phase,
      containerStatuses: terminated ? [{ name: 'worker', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated } }] : [],
    },
  };
}

const labelled = (name: string) => ({ name, namespace: NS, uid: `${name}-uid`, labels: { 'app.kubernetes.io/managed-by': 'skiff', 'skiff.dev/job': 'train' } });

class FakeApi {
  jobs: ReturnType<typeof jobObject>[] = [jobObject()];
  /** Services and ConfigMaps by name, with or without Skiff's labels (a user's own, kube-dns). */
  services: { metadata: { name: string; labels?: Record<string, string>; uid?: string } }[] = [{ metadata: labelled('train') }];
  configMaps: { metadata: { name: string; labels?: Record<string, string>; uid?: string } }[] = [{ metadata: labelled('train-code') }, { metadata: labelled('train-lib') }];
  secrets: { metadata: { name: string; labels?: Record<string, string>; uid?: string } }[] = [{ metadata: labelled('train-env') }];
  pods: ReturnType<typeof podObject>[] = [podObject('Running')];
  log = 'line 1\nTraceback (most recent call last):\nValueError: bad\n';
  readonly requests: string[] = [];
  private readonly watches: ServerResponse[] = [];
  private server?: StandInApi;

  async start(): Promise<KubeConfig> {
    this.server = await serveStandInApi((req, res) => this.handle(req, res));
    return this.server.kc;
  }

  stop(): Promise<void> {
    return this.server?.stop() ?? Promise.resolve();
  }

  /** Sends an event to every open watch. */
  notify(type: string, object: unknown): void {
    for (const res of this.watches.splice(0)) res.end(JSON.stringify({ type, object }) + '\n');
  }

  get openWatches(): number {
    return this.watches.length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (body: unknown, status = 200) => replyJson(res, body, status);
    const notFound = () => json({ kind: 'Status', apiVersion: 'v1', code: 404, message: 'not found', reason: 'NotFound' }, 404);
    const list = (kind: string, items: unknown[]) => json({ kind, apiVersion: 'v1', metadata: { resourceVersion: '7' }, items });
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      this.watches.push(res);
      return;
    }
    const p = url.pathname;
    if (req.method === 'DELETE') {
      if (p === `/apis/batch/v1/namespaces/${NS}/jobs/train` && this.jobs.length > 0) {
        this.jobs = [];
        return json({ kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      for (const [collection, path] of [
        ['services', `/api/v1/namespaces/${NS}/services/`],
        ['configMaps', `/api/v1/namespaces/${NS}/configmaps/`],
        ['secrets', `/api/v1/namespaces/${NS}/secrets/`],
      ] as const) {
        const name = p.startsWith(path) ? p.slice(path.length) : undefined;
        if (name && this[collection].some((o) => o.metadata.name === name)) {
          this[collection] = this[collection].filter((o) => o.metadata.name !== name);
          return json({ kind: 'Status', apiVersion: 'v1', status: 'Success' });
        }
      }
      return notFound();
    }
    // A label selector as the API server applies it: every key=value must match.
    const selected = <T extends { metadata: { labels?: Record<string, string> } }>(items: T[]) => {
      const wanted = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('='));
      return items.filter((o) => wanted.every(([k, v]) => o.metadata.labels?.[k] === v));
    };
    if (p === `/api/v1/namespaces/${NS}/services`) return list('ServiceList', selected(this.services));
    if (p === `/api/v1/namespaces/${NS}/configmaps`) return list('ConfigMapList', selected(this.configMaps));
    if (p === `/api/v1/namespaces/${NS}/secrets`) return list('SecretList', selected(this.secrets));
    if (p === `/apis/batch/v1/namespaces/${NS}/jobs`) return list('JobList', this.jobs);
    if (p === `/apis/apps/v1/namespaces/${NS}/deployments`) return list('DeploymentList', []);
    if (p === `/api/v1/namespaces/${NS}/pods`) return list('PodList', this.jobs.length ? this.pods : []);
    if (p === `/api/v1/namespaces/${NS}/events`) {
      return list('EventList', [
        { metadata: {}, involvedObject: { kind: 'Pod', name: 'train-0-abcde' }, reason: 'Started', message: 'Started container worker', type: 'Normal', count: 1 },
      ]);
    }
    if (p === `/api/v1/namespaces/${NS}/pods/train-0-abcde/log`) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(this.log);
      return;
    }
    return notFound();
  }
}

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

describe('Jobs', () => {
  it('lists and gets jobs from labels and annotations', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    const [listed] = await jobs.list();
    expect(listed).toMatchObject({ name: 'train', kind: 'training', phase: 'Running', workers: 1, script: 'train.py' });
    expect(await jobs.get('train')).toEqual(listed);
    expect(api.requests.some((r) => r.includes('labelSelector=app.kubernetes.io%2Fmanaged-by%3Dskiff'))).toBe(true);
  });

  it('says JOB_NOT_FOUND with a hint for unknown names', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    await expect(jobs.get('nope')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND', hint: 'see `skiff jobs`' });
  });

  it('describes a failed job with the reason built from the pod’s last log lines', async () => {
    api = new FakeApi();
    api.jobs = [jobObject([{ type: 'Failed', status: 'True' }])];
    api.pods = [podObject('Failed', { exitCode: 1, reason: 'Error' })];
    const d = await new Jobs(await api.start(), NS).describe('train');
    expect(d.phase).toBe('Failed');
    expect(d.reason).toContain('script exited 1');
    expect(d.reason).toContain('ValueError: bad');
    expect(d.events.map((e) => e.reason)).toEqual(['Started']);
    expect(api.requests.some((r) => r.includes('/log?') && r.includes('tailLines=10'))).toBe(true);
  });

  it("cancels by deleting the job's labelled objects, in the background, and fails for unknown jobs", async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    await jobs.cancel('train');
    const deletes = api.requests.filter((r) => r.startsWith('DELETE'));
    expect(deletes.sort()).toEqual([
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/skiff\/configmaps\/train-code/),
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/skiff\/configmaps\/train-lib/),
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/skiff\/secrets\/train-env/),
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/skiff\/services\/train/),
      expect.stringMatching(/^DELETE \/apis\/batch\/v1\/namespaces\/skiff\/jobs\/train\?.*propagationPolicy=Background/),
    ]);
    expect(api.services).toEqual([]);
    expect(api.secrets).toEqual([]);
    await expect(jobs.cancel('train')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('never deletes what Skiff did not make: a same-named Service or ConfigMap without its labels stays, and so does everything when there is no job', async () => {
    api = new FakeApi();
    api.jobs = [];
    api.services = [{ metadata: { name: 'victim' } }, { metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } } }];
    api.configMaps = [{ metadata: { name: 'victim-code' } }];
    api.secrets = [{ metadata: { name: 'victim-env' } }];
    const jobs = new Jobs(await api.start(), NS);
    await expect(jobs.cancel('victim')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(jobs.cancel('kube-dns')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect(api.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
    expect(api.services.map((s) => s.metadata.name)).toEqual(['victim', 'kube-dns']);
    expect(api.configMaps.map((c) => c.metadata.name)).toEqual(['victim-code']);
    expect(api.secrets.map((c) => c.metadata.name)).toEqual(['victim-env']);
  });

  it('watches the job list: yields it at once and again after a change, skipping lists that did not move', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    const controller = new AbortController();
    const stream = jobs.watch({ signal: controller.signal });
    const first = await stream.next();
    expect((first.value as JobStatus[]).map((s) => s.phase)).toEqual(['Running']);
    const second = stream.next();
    while (api.openWatches < 3) await new Promise((r) => setTimeout(r, 10));
    api.notify('MODIFIED', api.pods[0]); // nothing changed: no new list
    while (api.openWatches < 3) await new Promise((r) => setTimeout(r, 10));
    api.jobs = [jobObject([{ type: 'Complete', status: 'True' }])];
    api.pods = [podObject('Succeeded', { exitCode: 0, reason: 'Completed' })];
    api.notify('MODIFIED', api.jobs[0]);
    expect(((await second).value as JobStatus[]).map((s) => s.phase)).toEqual(['Succeeded']);
    const watchReads = api.requests.filter((r) => r.startsWith('GET') && r.includes('/jobs?') && !r.includes('watch=true'));
    expect(watchReads.length).toBe(3);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('waits on watches and re-reads when something changes', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    const seen: string[] = [];
    const waiting = jobs.waitFor('train', ['Succeeded', 'Failed'], { timeoutMs: 10_000, onStatus: (s) => seen.push(s.phase) });
    while (api.openWatches < 3) await new Promise((r) => setTimeout(r, 10));
    expect(api.requests.filter((r) => r.includes('watch=true')).every((r) => r.includes('resourceVersion=7'))).toBe(true);
    api.jobs = [jobObject([{ type: 'Complete', status: 'True' }])];
    api.pods = [podObject('Succeeded', { exitCode: 0, reason: 'Completed' })];
    api.notify('MODIFIED', api.jobs[0]);
    const final = await waiting;
    expect(final.phase).toBe('Succeeded');
    expect(seen).toEqual(['Running', 'Succeeded']);
  });

  it('reports a job deleted while waiting as Cancelled, and times out with the phase', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    const waiting = jobs.waitFor('train', ['Succeeded', 'Cancelled'], { timeoutMs: 10_000 });
    while (api.openWatches < 3) await new Promise((r) => setTimeout(r, 10));
    api.jobs = [];
    api.notify('DELETED', jobObject());
    expect(await waiting).toMatchObject({ phase: 'Cancelled' });

    api.jobs = [jobObject()];
    await expect(jobs.waitFor('train', ['Succeeded'], { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('stops waiting when aborted', async () => {
    api = new FakeApi();
    const jobs = new Jobs(await api.start(), NS);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(jobs.waitFor('train', ['Succeeded'], { signal: controller.signal })).rejects.toThrow();
  });
});
