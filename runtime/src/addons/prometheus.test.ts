import { describe, expect, it } from 'vitest';
import { stepFor, usageQueries, usageSamplesFrom, type RangeSeries } from './prometheus.js';

describe("a job's usage history from Prometheus", () => {
  it('asks for this job in this namespace: CPU as a rate over at least three scrapes, memory and GPU as read', () => {
    expect(usageQueries('team-a', 'train', 2)).toEqual({
      cpu: 'rate(skiff_cpu_seconds_total{namespace="team-a",skiff_job="train"}[6s])',
      memory: 'skiff_memory_working_set_bytes{namespace="team-a",skiff_job="train"}',
      gpu: 'skiff_gpu_utilization_percent{namespace="team-a",skiff_job="train"}',
    });
    expect(usageQueries('default', 'x', 30).cpu).toContain('[30s]');
  });

  it('never steps finer than the scrapes, nor gives a chart more than 500 points', () => {
    expect(stepFor({ start: 0, end: 60 })).toBe(2);
    expect(stepFor({ start: 0, end: 24 * 3600 })).toBe(173);
  });

  it("turns the series into one sample per point in time, each pod's readings together, by rank", () => {
    const series = (name: string, pod: string, rank: string | undefined, points: [number, string][]): RangeSeries => ({
      metric: { __name__: name, pod, skiff_job: 'train', namespace: 'default', ...(rank === undefined ? {} : { rank }) },
      values: points,
    });
    const samples = usageSamplesFrom({
      cpu: [
        series('', 'train-1-b', '1', [[100, '0.5']]),
        series('', 'train-0-a', '0', [
          [100, '1.5'],
          [102, '1.25'],
        ]),
      ],
      memory: [
        series('m', 'train-0-a', '0', [
          [100, '1000'],
          [102, '2000'],
        ]),
        series('m', 'train-1-b', '1', [
          [98, '2500'],
          [100, '3000'],
        ]),
      ],
      gpu: [series('g', 'train-0-a', '0', [[102, '87']])],
    });
    // (train-1-b's memory at 98, its first scrape, has no CPU rate beside it: that point is left out, not read as 0 CPU.)
    expect(samples).toEqual([
      {
        type: 'usage',
        time: '1970-01-01T00:01:40.000Z',
        pods: [
          { pod: 'train-0-a', rank: 0, cpuCores: 1.5, memoryBytes: 1000 },
          { pod: 'train-1-b', rank: 1, cpuCores: 0.5, memoryBytes: 3000 },
        ],
      },
      { type: 'usage', time: '1970-01-01T00:01:42.000Z', pods: [{ pod: 'train-0-a', rank: 0, cpuCores: 1.25, memoryBytes: 2000, gpuUtilization: 87 }] },
    ]);
    // A serving replica has no rank: it reads as rank 0, as the kubelet's readings do.
    expect(usageSamplesFrom({ cpu: [series('', 'api-x', undefined, [[1, '0.1']])], memory: [series('m', 'api-x', undefined, [[1, '10']])], gpu: [] })[0]).toMatchObject({
      pods: [{ pod: 'api-x', rank: 0 }],
    });
  });
});
