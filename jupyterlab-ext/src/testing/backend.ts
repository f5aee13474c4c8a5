// A scripted session behind the runtime's real API server, for the frontend's unit tests: the HTTP,
// the server-sent events and the client are the real ones; only the cluster is played from a script.
import { SkiffError, type ApiBackend, type JobPhase, type JobStatus, type LogLine } from '@skiff/runtime';
import { PROMOTION_TARGETS_FIXTURE, promotionPlanFixture } from '@skiff/runtime/testing';

export const TOKEN = 'frontend-test';

export interface Script {
  /** What submit throws instead of accepting the job. */
  submitError?: Error;
  /** The phase the job ends in; 'never' keeps it Running until the caller stops waiting. */
  finalPhase?: JobPhase | 'never';
  reason?: string;
  clusters?: Awaited<ReturnType<ApiBackend['listClusters']>>;
}

const pods = [
  { name: 'nb-abc12-0', rank: 0, node: 'w1', phase: 'Running' },
  { name: 'nb-abc12-1', rank: 1, node: 'w2', phase: 'Running' },
];

function untilAborted(signal?: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const abort = () => reject(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
  });
}

export function scriptedBackend(
  script: Script = {},
): ApiBackend & { submitted: { spec: unknown; files: { path: string; content: string }[] }[]; progress: string[]; upRequests: Parameters<ApiBackend['up']>[0][] } {
  const submitted: { spec: unknown; files: { path: string; content: string }[] }[] = [];
  const status = (name: string, phase: JobPhase, extra: Partial<JobStatus> = {}): JobStatus => ({
    name,
    namespace: 'skiff',
    kind: 'training',
    phase,
    workers: 2,
    script: 'cell.py',
    pods,
    ...extra,
  });
  let jobs: JobStatus[] = [];
  return {
    clusterName: 'skiff',
    namespace: 'skiff',
    submitted,
    upRequests: [],
    progress: ['creating cluster "skiff"', 'loading the job image'],
    listClusters: async () => script.clusters ?? [],
    async up(request, onProgress) {
      this.upRequests.push(request);
      for (const line of this.progress) onProgress?.(line);
      const profile = request?.profile ?? 'cpu';
      // A GPU profile's worker has one GPU, shared as asked (the node's reading, as the runtime gives it).
      const sharing = request?.gpuSharing && request.gpuSharing > 1 ? { gpuSharing: request.gpuSharing } : {};
      const worker = { name: 'skiff-worker', role: 'worker' as const, ready: true, gpus: profile === 'cpu' ? 0 : 1, ...(profile === 'cpu' ? {} : sharing) };
      const cluster = {
        name: 'skiff',
        context: 'kind-skiff',
        profile,
        nodes: [{ name: 'skiff-control-plane', role: 'control-plane' as const, ready: true, gpus: 0 }, worker],
      };
      script.clusters = [cluster];
      return { cluster, reused: false, seconds: 1 };
    },
    down: async () => ((script.clusters = []), true),
    listJobs: async () => jobs,
    async *watchJobs({ signal } = {}) {
      yield jobs;
      await untilAborted(signal);
    },
    describeJob: async (name) => ({ ...status(name, 'Failed', { reason: script.reason }), pods: [], events: [] }),
    async submit(spec, code) {
      if (script.submitError) throw script.submitError;
      submitted.push({ spec, files: (code.files ?? []).map((f) => ({ path: f.path, content: f.content.toString('utf8') })) });
      const job = status(spec.name, 'Pending', { kind: spec.kind, pods: [] });
      jobs = [job];
      return job;
    },
    cancelJob: async () => {},
    outputs: async (job) => {
      if (!jobs.some((j) => j.name === job)) throw new SkiffError('JOB_NOT_FOUND', `job '${job}' has no outputs`);
      return {
        runId: 'r1',
        dir: `/data/runs/skiff/skiff/${job}/r1`,
        record: { job, namespace: 'skiff', cluster: 'skiff', runId: 'r1', createdAt: '2026-12-01T00:00:00Z', script: 'cell.py', codeFiles: ['cell.py'] },
      };
    },
    copyOutputs: async () => {
      throw new SkiffError('BAD_INPUT', 'the scripted backend keeps no files to copy');
    },
    promotionTargets: () => PROMOTION_TARGETS_FIXTURE,
    planPromotion: async (job, target) => promotionPlanFixture(job, target.to),
    applyPromotion: async (_plan, onProgress) => (onProgress?.('pushing the image'), []),
    async waitForJob(name, phases, opts = {}) {
      opts.onStatus?.(status(name, 'Running'));
      if (script.finalPhase === 'never') return untilAborted(opts.signal);
      const final = status(name, script.finalPhase ?? 'Succeeded', { reason: script.reason, pods: pods.map((p) => ({ ...p, phase: script.finalPhase ?? 'Succeeded' })) });
      await new Promise((resolve) => setTimeout(resolve, 50));
      opts.onStatus?.(final);
      if (!phases.includes(final.phase)) return untilAborted(opts.signal);
      return final;
    },
    async *logs(name, opts): AsyncGenerator<LogLine> {
      for (const rank of [0, 1]) {
        yield { pod: `${name}-${rank}`, rank, time: `2026-12-01T00:00:0${rank}Z`, text: `step 1 of rank ${rank}` };
        if (script.finalPhase === 'never') continue;
        yield { pod: `${name}-${rank}`, rank, time: `2026-12-01T00:00:1${rank}Z`, text: `rank ${rank}/2 finished` };
      }
      if (script.finalPhase === 'never') await untilAborted(opts.signal);
    },
    async *metrics() {
      yield { type: 'training' as const, metric: { rank: 0, time: '2026-12-01T00:00:01Z', values: { step: 0, loss: 1.5 } } };
      yield { type: 'training' as const, metric: { rank: 1, time: '2026-12-01T00:00:02Z', values: { step: 0, loss: 1.4 } } };
    },
    call: async () => ({ status: 200, body: '{"ok":true}' }),
    // Notebook sessions are the Skiff kernel's (tests/test_kernel.py, the e2e tier), not the sidebar's.
    ...noSessions,
  };
}

const notScripted = () => Promise.reject(new SkiffError('SESSION_LOST', 'the frontend tests script no notebook sessions'));
const noSessions: Pick<ApiBackend, 'startNotebookSession' | 'findNotebookSession' | 'attachNotebookSession' | 'runCell' | 'interruptNotebookSession' | 'stopNotebookSession'> = {
  startNotebookSession: notScripted,
  findNotebookSession: async () => undefined,
  attachNotebookSession: notScripted,
  // eslint-disable-next-line require-yield
  async *runCell() {
    throw new SkiffError('SESSION_LOST', 'the frontend tests script no notebook sessions');
  },
  interruptNotebookSession: notScripted,
  stopNotebookSession: notScripted,
};
