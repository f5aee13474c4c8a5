import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../types.js';
import type { JobDescription } from '../jobs/jobs.js';
import { parseTrainingSpec } from '../spec/job-spec.js';
import { prometheusHint } from '../jobs/job-metrics.js';
import { clusterText, describeText, formatAge, formatDuration, jobsTable, logLineText, metricsSampleText, statusLine, upText } from './format.js';

const now = new Date('2026-01-01T01:00:00Z');

const job = (over: Partial<JobStatus> = {}): JobStatus => ({
  name: 'train-abcde',
  namespace: 'skiff',
  kind: 'training',
  phase: 'Running',
  workers: 2,
  script: 'train.py',
  pods: [],
  createdAt: '2026-01-01T00:57:00Z',
  ...over,
});

describe('formatAge and formatDuration', () => {
  it('reads like kubectl', () => {
    expect(formatAge('2026-01-01T00:59:15Z', now)).toBe('45s');
    expect(formatAge('2026-01-01T00:57:00Z', now)).toBe('3m');
    expect(formatAge('2025-12-31T22:00:00Z', now)).toBe('3h');
    expect(formatAge('2025-12-25T00:00:00Z', now)).toBe('7d');
    expect(formatAge(undefined, now)).toBe('?');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(42)).toBe('42s');
  });
});

describe('jobsTable', () => {
  it('has the columns NAME KIND PHASE WORKERS AGE REASON, with one-line reasons', () => {
    const text = jobsTable([job(), job({ name: 'web', kind: 'serving', phase: 'Failed', workers: 1, reason: 'script exited 1 — last lines:\nTraceback' })], now);
    expect(text).toBe(
      [
        'NAME          KIND       PHASE     WORKERS   AGE   REASON',
        'train-abcde   training   Running   2         3m',
        'web           serving    Failed    1         3m    script exited 1 — last lines:',
        '',
      ].join('\n'),
    );
  });

  it('says how to start when there are no jobs', () => {
    expect(jobsTable([], now)).toMatch(/no jobs yet/);
  });
});

describe('describeText', () => {
  it('shows status, indented multi-line reason, pods and events', () => {
    const d: JobDescription = {
      ...job({ phase: 'Failed', reason: 'script exited 1 — last lines:\nValueError: bad' }),
      spec: parseTrainingSpec({ name: 'train-abcde', script: 'train.py', workers: 2, resources: { memory: '1Gi' } }),
      pods: [{ name: 'train-abcde-0-xxxxx', rank: 0, node: 'w1', phase: 'Failed', exitCode: 1, reason: 'Error', ready: false, restarts: 0 }],
      events: [
        {
          time: '2026-01-01T00:58:00Z',
          type: 'Warning',
          reason: 'BackoffLimitExceeded',
          object: 'Job/train-abcde',
          message: 'Job has reached the specified backoff limit',
          count: 1,
        },
      ],
    };
    const text = describeText(d, now);
    expect(text).toContain('Phase:     Failed');
    expect(text).toContain('Reason:    script exited 1 — last lines:\n           ValueError: bad');
    expect(text).toContain('memory 1Gi');
    expect(text).toMatch(/RANK\s+NAME\s+NODE\s+PHASE\s+READY\s+RESTARTS\s+EXIT\s+REASON\n\s+0\s+train-abcde-0-xxxxx\s+w1\s+Failed\s+no\s+0\s+1\s+Error/);
    expect(text).toMatch(/2m\s+Warning\s+BackoffLimitExceeded\s+Job\/train-abcde\s+Job has reached/);
  });

  it("adds a GPUS column with each rank's DRA devices, only when some rank holds any", () => {
    const pod = { rank: 0, node: 'w1', phase: 'Running', ready: true, restarts: 0 };
    const d: JobDescription = {
      ...job({ phase: 'Running' }),
      pods: [
        { ...pod, name: 'dra-0-aaaaa', gpus: ['gpu-1'] },
        { ...pod, name: 'dra-1-bbbbb', rank: 1, node: 'w2', phase: 'Pending', ready: false },
      ],
      events: [],
    };
    const text = describeText(d, now);
    expect(text).toMatch(/RANK\s+NAME\s+NODE\s+GPUS\s+PHASE/);
    expect(text).toMatch(/0\s+dra-0-aaaaa\s+w1\s+gpu-1\s+Running/);
    expect(text).toMatch(/1\s+dra-1-bbbbb\s+w2\s+-\s+Pending/);
    expect(describeText({ ...d, pods: d.pods.map(({ gpus: _, ...p }) => p) }, now)).not.toContain('GPUS');
  });
});

describe('line formats', () => {
  it('tags log lines with the rank and renders metric lines', () => {
    expect(logLineText({ pod: 'p', rank: 1, time: 't', text: 'epoch 1' })).toBe('[rank 1] epoch 1');
    expect(logLineText({ pod: 'p', rank: 0, time: 't', text: 'SKIFF_METRIC {"step":3,"loss":0.123456789}' })).toBe('[rank 0] metrics step=3 loss=0.12346');
  });

  it('prints usage and training samples', () => {
    const usage = metricsSampleText({
      type: 'usage',
      time: '2026-01-01T00:00:05.000Z',
      pods: [{ pod: 'p0', rank: 0, cpuCores: 1.234, memoryBytes: 512 * 2 ** 20, gpuUtilization: 40.4 }],
    });
    expect(usage).toBe('00:00:05   rank 0   p0   cpu 1.23   mem 512Mi   gpu 40%\n');
    expect(metricsSampleText({ type: 'training', metric: { rank: 1, time: 't', values: { step: 2 } } })).toBe('[rank 1] step=2\n');
  });

  it('says what would have kept the usage of pods that are gone', () => {
    const time = '2026-01-01T00:00:05.000Z';
    expect(metricsSampleText({ type: 'usage', time, pods: [] })).toBe('00:00:05 no running pods\n');
    expect(metricsSampleText({ type: 'usage', time, pods: [], note: prometheusHint('dev') })).toBe(
      '00:00:05 no running pods; their usage is kept once they end with `skiff up --cluster dev --with prometheus`\n',
    );
  });

  it('prints status lines, clusters and up results', () => {
    expect(statusLine(job({ phase: 'Pending', reason: 'needs 2 CPU' }))).toBe('job train-abcde: Pending — needs 2 CPU');
    const cluster = {
      name: 'skiff',
      context: 'kind-skiff',
      profile: 'fake-gpu' as const,
      nodes: [
        { name: 'cp', role: 'control-plane' as const, ready: true, gpus: 0 },
        { name: 'w1', role: 'worker' as const, ready: true, gpus: 2 },
      ],
    };
    expect(clusterText(cluster)).toContain("cluster 'skiff' (context kind-skiff, profile fake-gpu, 2 nodes, 2 GPUs)");
    expect(upText({ cluster, reused: true, seconds: 3 })).toBe("cluster 'skiff' is already up (1 worker, profile fake-gpu, 2 GPUs) after 3s; context kind-skiff\n");
    const shared = { ...cluster, nodes: [cluster.nodes[0], { ...cluster.nodes[1], gpuSharing: 2 }] };
    expect(upText({ cluster: shared, reused: false, seconds: 3 })).toContain('(1 worker, profile fake-gpu, 2 GPUs shared 2 ways)');
    const one = { ...cluster, nodes: [cluster.nodes[0], { ...cluster.nodes[1], gpus: 1 }] };
    expect(upText({ cluster: one, reused: false, seconds: 3 })).toContain('(1 worker, profile fake-gpu, 1 GPU)');
  });
});
