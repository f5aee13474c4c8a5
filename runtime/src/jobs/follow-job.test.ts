import { describe, expect, it } from 'vitest';
import type { JobPhase, JobStatus, LogLine, MetricsSample } from '../types.js';
import { sleep } from '../k8s/streams.js';
import { followJob, type FollowSource } from './follow-job.js';

const status = (phase: JobPhase): JobStatus => ({ name: 'j', namespace: 'skiff', kind: 'training', phase, workers: 2, script: 'train.py', pods: [] });
const line = (rank: number, text: string): LogLine => ({ pod: `p${rank}`, rank, time: 't', text });

/** Two ranks print, one metric arrives, the job goes Running -> Succeeded after `runMs`. */
function fakeSource(runMs: number, opts: { logsFail?: boolean } = {}): FollowSource & { aborted: string[] } {
  const aborted: string[] = [];
  return {
    aborted,
    async *logs(_name, { signal }) {
      yield line(0, 'hello');
      if (opts.logsFail) throw new Error('stream broke');
      await sleep(runMs / 2, signal);
      yield line(1, 'world');
      await sleep(runMs, signal);
      if (signal?.aborted) aborted.push('logs');
    },
    async *metrics(_name, { signal }): AsyncGenerator<MetricsSample> {
      yield { type: 'training', metric: { rank: 0, time: 't', values: { step: 0, loss: 1 } } };
      while (!signal?.aborted) await sleep(5, signal);
      aborted.push('metrics');
    },
    async waitForJob(_name, _phases, { onStatus, onNotice, signal }) {
      onStatus?.(status('Running'));
      onNotice?.('lost the API server');
      await sleep(runMs, signal);
      signal?.throwIfAborted();
      onStatus?.(status('Succeeded'));
      return status('Succeeded');
    },
  };
}

describe('followJob', () => {
  it('streams logs, metrics and statuses, then resolves with the outcome and closes the streams', async () => {
    const source = fakeSource(30);
    const seen: string[] = [];
    const final = await followJob(
      source,
      'j',
      {
        onLog: (l) => seen.push(`log ${l.rank} ${l.text}`),
        onMetrics: (m) => seen.push(`metric ${m.type}`),
        onStatus: (s) => seen.push(`status ${s.phase}`),
        onNotice: (m) => seen.push(`notice ${m}`),
      },
      { drainMs: 200 },
    );
    expect(final.phase).toBe('Succeeded');
    expect(seen).toEqual(expect.arrayContaining(['log 0 hello', 'log 1 world', 'metric training', 'status Running', 'status Succeeded', 'notice lost the API server']));
    expect(seen.indexOf('log 0 hello')).toBeLessThan(seen.indexOf('log 1 world'));
    expect(source.aborted).toContain('metrics');
  });

  it('reports a broken log stream and still follows the job to its end', async () => {
    const errors: string[] = [];
    const final = await followJob(fakeSource(20, { logsFail: true }), 'j', { onStreamError: (what, err) => errors.push(`${what}: ${(err as Error).message}`) }, { drainMs: 50 });
    expect(final.phase).toBe('Succeeded');
    expect(errors).toEqual(['logs: stream broke']);
  });

  it('stops following when aborted, rejecting', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(followJob(fakeSource(10_000), 'j', {}, { signal: controller.signal })).rejects.toThrow();
  });
});
