// A job's logs (its pods, each read by k8s/logs.ts) against a tiny stand-in API server (plain HTTP): real client-node
// requests, real streams, and a connection that drops mid-stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replyJson, serveStandInApi, type StandInApi } from '../testing/stand-in-api.js';
import { KubeConfig } from '@kubernetes/client-node';
import type { LogLine } from '../types.js';
import { streamJobLogs } from './job-logs.js';

const NS = 'skiff';
const T = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000000001Z`;

interface FakePod {
  name: string;
  index: number;
  phase: string;
  /** The container's whole log, timestamped. */
  log: string[];
  /** Lines sent before the connection is cut, for the first follow request only. */
  cutAfter?: number;
  /** Runs under the launcher that keeps its output on the host (SKIFF_LOG_DIR set). */
  keepsLog?: boolean;
  /** started: its container's start time (for keeping pods), else a minute ago. */
  startedAt?: string;
  /** When it was to be gone by (a delete's grace period end). */
  deletionTimestamp?: string;
}

class FakeApiServer {
  readonly requests: string[] = [];
  /** Answer every log read 403, as an API server does to a user without 'get' on pods/log. */
  forbidLogs = false;
  /** The Job's run folder on the host (a local cluster's job), as the work-dir annotation says. */
  workDir?: string;
  private server?: StandInApi;
  constructor(
    public pods: FakePod[],
    public jobConditions: { type: string; status: string }[] = [],
  ) {}

  async start(): Promise<KubeConfig> {
    this.server = await serveStandInApi((req, res) => this.handle(req, res), { token: 'secret' });
    return this.server.kc;
  }

  stop(): Promise<void> {
    return this.server?.stop() ?? Promise.resolve();
  }

  private podObject(p: FakePod) {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: NS,
        uid: `uid-${p.name}`,
        labels: { 'skiff.dev/job': 'train', 'skiff.dev/kind': 'training' },
        annotations: { 'batch.kubernetes.io/job-completion-index': String(p.index) },
        ...(p.deletionTimestamp ? { deletionTimestamp: p.deletionTimestamp } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'job-uid' }],
      },
      spec: { containers: [{ name: 'worker', image: 'img', env: p.keepsLog ? [{ name: 'SKIFF_LOG_DIR', value: '/skiff/logs' }] : [] }], nodeName: 'n1' },
      status: {
        phase: p.phase,
        containerStatuses:
          p.phase === 'Running'
            ? [{ name: 'worker', ready: true, restartCount: 0, state: { running: { startedAt: p.startedAt ?? new Date(Date.now() - 60_000).toISOString() } } }]
            : [],
      },
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (body: unknown, status = 200) => replyJson(res, body, status);
    if (req.headers.authorization !== 'Bearer secret') return json({ kind: 'Status', code: 401, message: 'no' }, 401);
    const p = url.pathname;
    if (p === `/apis/batch/v1/namespaces/${NS}/jobs`) {
      return json({
        kind: 'JobList',
        apiVersion: 'batch/v1',
        metadata: { resourceVersion: '1' },
        items: [
          {
            metadata: {
              name: 'train',
              namespace: NS,
              uid: 'job-uid',
              labels: { 'skiff.dev/job': 'train' },
              annotations: this.workDir ? { 'skiff.dev/work-dir': this.workDir } : {},
            },
            spec: { completions: this.pods.length, backoffLimit: 0 },
            status: { conditions: this.jobConditions },
          },
        ],
      });
    }
    if (p === `/apis/apps/v1/namespaces/${NS}/deployments`) return json({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '1' }, items: [] });
    if (p === `/api/v1/namespaces/${NS}/pods`)
      return json({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: this.pods.map((x) => this.podObject(x)) });
    const podMatch = /^\/api\/v1\/namespaces\/skiff\/pods\/([^/]+)(\/log)?$/.exec(p);
    const pod = podMatch && this.pods.find((x) => x.name === podMatch[1]);
    if (!pod) return json({ kind: 'Status', code: 404, message: 'not found' }, 404);
    if (!podMatch![2]) return json(this.podObject(pod));
    if (this.forbidLogs) return json({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods "x" is forbidden: cannot get resource "pods/log"' }, 403);
    // Log: the kubelet gets sinceTime truncated to whole seconds, so it resends a little.
    const since = url.searchParams.get('sinceTime')?.slice(0, 19);
    const lines = pod.log.filter((l) => !since || l.slice(0, 19) >= since);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (url.searchParams.get('follow') === 'true' && pod.cutAfter !== undefined) {
      const sent = lines.slice(0, pod.cutAfter);
      pod.cutAfter = undefined;
      res.write(sent.map((l) => l + '\n').join(''));
      // The connection drops (kubelet or API server restart) while the pod keeps running.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(lines.map((l) => l + '\n').join(''));
  }
}

let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('streamJobLogs against a stand-in API server', () => {
  it('reads every pod once without follow, tagged with ranks and merged by time', async () => {
    fake = new FakeApiServer([
      { name: 'train-0-aaaaa', index: 0, phase: 'Succeeded', log: [`${T(1)} zero-a`, `${T(3)} zero-b`] },
      { name: 'train-1-bbbbb', index: 1, phase: 'Succeeded', log: [`${T(2)} one-a`] },
    ]);
    const kc = await fake.start();
    const lines = await collect(streamJobLogs(kc, NS, 'train', { follow: false }));
    expect(lines.map((l) => `${l.rank} ${l.text}`)).toEqual(['0 zero-a', '1 one-a', '0 zero-b']);
    expect(lines[0]).toEqual({ pod: 'train-0-aaaaa', rank: 0, time: T(1), text: 'zero-a' });
    expect(fake.requests.some((r) => r.includes('/log?') && r.includes('timestamps=true'))).toBe(true);
  });

  it('follows through a dropped connection without losing or doubling lines', async () => {
    const log = [`${T(1)} a`, `${T(1).replace('.000000001', '.5')} b`, `${T(2)} c`, `${T(4)} d`];
    const running: FakePod = { name: 'train-0-aaaaa', index: 0, phase: 'Running', log, cutAfter: 2 };
    fake = new FakeApiServer([running]);
    const kc = await fake.start();
    const seen: string[] = [];
    for await (const line of streamJobLogs(kc, NS, 'train', { follow: true, pollMs: 20, reconnectMs: 20 })) {
      seen.push(line.text);
      // Once the reconnect delivered the rest, the job finishes.
      if (line.text === 'd') {
        running.phase = 'Succeeded';
        fake.jobConditions = [{ type: 'Complete', status: 'True' }];
      }
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    const logRequests = fake.requests.filter((r) => r.includes('/log?'));
    expect(logRequests.length).toBeGreaterThanOrEqual(2);
    expect(logRequests[1]).toContain(`sinceTime=${encodeURIComponent(T(1).replace('.000000001', '.5'))}`);
  });

  it('stops a follow when aborted', async () => {
    fake = new FakeApiServer([{ name: 'train-0-aaaaa', index: 0, phase: 'Pending', log: [] }]);
    const kc = await fake.start();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(await collect(streamJobLogs(kc, NS, 'train', { follow: true, signal: controller.signal, pollMs: 10 }))).toEqual([]);
  });

  it('says the logs are not allowed, at once, instead of an empty log or endless retries', async () => {
    fake = new FakeApiServer([{ name: 'train-0-aaaaa', index: 0, phase: 'Running', log: [`${T(1)} a`] }]);
    fake.forbidLogs = true;
    const kc = await fake.start();
    for (const follow of [false, true]) {
      await expect(collect(streamJobLogs(kc, NS, 'train', { follow, pollMs: 10, reconnectMs: 10 }))).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('refused to show the logs of pod train-0-aaaaa (HTTP 403)'),
      });
    }
    expect(fake.requests.filter((r) => r.includes('/log?'))).toHaveLength(2);
  });

  describe('a local job whose pods keep their output on the host', () => {
    let workDir: string;
    beforeEach(async () => {
      workDir = path.join(await mkdtemp(path.join(tmpdir(), 'skiff-kept-')), 'run');
      await mkdir(workDir + '.logs', { recursive: true });
    });
    afterEach(async () => {
      await rm(path.dirname(workDir), { recursive: true, force: true });
    });
    const keep = async (pod: string, rank: number, lines: string[], extra: object = {}) => {
      await writeFile(path.join(workDir + '.logs', `${pod}.json`), JSON.stringify({ pod, uid: `uid-${pod}`, rank, startedAt: T(0), ...extra }));
      await appendFile(path.join(workDir + '.logs', `${pod}.log`), lines.map((l) => l + '\n').join(''));
    };

    it("reads the kept logs, not the kubelet's, and keeps the ranks whose pods were deleted", async () => {
      fake = new FakeApiServer([{ name: 'train-0-aaaaa', index: 0, phase: 'Failed', log: [`${T(1)} from the kubelet`], keepsLog: true }]);
      fake.workDir = workDir;
      fake.jobConditions = [{ type: 'Failed', status: 'True' }];
      await keep('train-0-aaaaa', 0, [`${T(1)} zero-a`, `${T(3)} zero-b`], { ended: { exitCode: 1, at: T(3) } });
      // Rank 1's pod is gone from the cluster: deleted by a user, then the Job controller stopped rank 0.
      await keep('train-1-bbbbb', 1, [`${T(2)} one-a`], { stoppedBy: { signal: 'SIGTERM', at: T(2) } });
      const kc = await fake.start();
      const lines = await collect(streamJobLogs(kc, NS, 'train', { follow: false }));
      expect(lines.map((l) => `${l.rank} ${l.text}`)).toEqual(['0 zero-a', '1 one-a', '0 zero-b']);
      expect(fake.requests.filter((r) => r.includes('/log'))).toEqual([]);
    });

    it('follows a kept log as it grows and past its pod being deleted, each line once', async () => {
      const pod: FakePod = { name: 'train-0-aaaaa', index: 0, phase: 'Running', log: [], keepsLog: true };
      fake = new FakeApiServer([pod]);
      fake.workDir = workDir;
      await keep('train-0-aaaaa', 0, [`${T(1)} a`]);
      const kc = await fake.start();
      const seen: string[] = [];
      for await (const line of streamJobLogs(kc, NS, 'train', { follow: true, pollMs: 20, reconnectMs: 20 })) {
        seen.push(line.text);
        if (line.text === 'a') await keep('train-0-aaaaa', 0, [`${T(2)} b`, `${T(2)} b`]);
        if (seen.length === 3) {
          // Deleted: the pod leaves the cluster after its last line reached the host.
          await keep('train-0-aaaaa', 0, [`${T(3)} last words`], { stoppedBy: { signal: 'SIGTERM', at: T(3) }, ended: { exitCode: 143, at: T(3), signal: 'SIGTERM' } });
          fake.pods = [];
          fake.jobConditions = [{ type: 'Failed', status: 'True' }];
        }
      }
      expect(seen).toEqual(['a', 'b', 'b', 'last words']);
    });

    it('ends the follow of a pod shown running long past its deletion (its node stopped: no kubelet ends it)', async () => {
      const stranded: FakePod = { name: 'train-1-bbbbb', index: 1, phase: 'Running', log: [], keepsLog: true, deletionTimestamp: new Date(Date.now() - 60_000).toISOString() };
      fake = new FakeApiServer([stranded]);
      fake.workDir = workDir;
      fake.jobConditions = [{ type: 'Failed', status: 'True' }];
      // Its last line reached the host before the node went; no end was recorded.
      await keep('train-1-bbbbb', 1, [`${T(1)} last step`]);
      const kc = await fake.start();
      const lines = await collect(streamJobLogs(kc, NS, 'train', { follow: true, pollMs: 20, reconnectMs: 20 }));
      expect(lines.map((l) => l.text)).toEqual(['last step']);
    });

    it("reads the kubelet's log for a pod that keeps none (its folder was not writable)", async () => {
      fake = new FakeApiServer([{ name: 'train-0-aaaaa', index: 0, phase: 'Succeeded', log: [`${T(1)} only here`], keepsLog: true }]);
      fake.workDir = workDir;
      const kc = await fake.start();
      expect((await collect(streamJobLogs(kc, NS, 'train', { follow: false }))).map((l) => l.text)).toEqual(['only here']);
    });
  });

  it('names a job that does not exist', async () => {
    fake = new FakeApiServer([]);
    const kc = await fake.start();
    await expect(collect(streamJobLogs(kc, NS, 'nope', { follow: false }))).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});
