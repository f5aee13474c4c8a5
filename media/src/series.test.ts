import { describe, expect, it } from 'vitest';
import { alignedData, metricsCharts, type MetricsSample } from './series.js';

const training = (rank: number, step: number, loss: number): MetricsSample => ({ type: 'training', metric: { rank, time: '2026-01-01T00:00:00Z', values: { step, loss } } });
const usage = (time: string, cpu: number): MetricsSample => ({
  type: 'usage',
  time,
  pods: [
    { pod: 'p0', rank: 0, cpuCores: cpu, memoryBytes: 64 * 1024 * 1024 },
    { pod: 'p1', rank: 1, cpuCores: cpu * 2, memoryBytes: 32 * 1024 * 1024 },
  ],
});

describe('metricsCharts', () => {
  it('draws each reported value against step, one series per rank', () => {
    const [loss] = metricsCharts([training(1, 0, 4), training(0, 0, 5), training(0, 5, 1), training(1, 5, 0.5)]);
    expect(loss).toEqual({
      title: 'loss',
      xLabel: 'step',
      series: [
        { label: 'rank 0', x: [0, 5], y: [5, 1] },
        { label: 'rank 1', x: [0, 5], y: [4, 0.5] },
      ],
    });
  });

  it('draws CPU and memory against seconds since the first sample, and leaves out GPU without data', () => {
    const charts = metricsCharts([usage('2026-01-01T00:00:00Z', 0.5), usage('2026-01-01T00:00:05Z', 1)]);
    expect(charts.map((c) => c.title)).toEqual(['CPU (cores)', 'memory (MiB)']);
    expect(charts[0].series[1]).toEqual({ label: 'rank 1', x: [0, 5], y: [1, 2] });
    expect(charts[1].series[0].y).toEqual([64, 64]);
  });

  it('has nothing to draw without samples', () => {
    expect(metricsCharts([])).toEqual([]);
  });
});

describe('alignedData', () => {
  it('puts every series on the union of x values, with gaps', () => {
    const data = alignedData({
      title: 't',
      xLabel: 'step',
      series: [
        { label: 'a', x: [0, 2], y: [1, 3] },
        { label: 'b', x: [1], y: [9] },
      ],
    });
    expect(data).toEqual([
      [0, 1, 2],
      [1, null, 3],
      [null, 9, null],
    ]);
  });
});
