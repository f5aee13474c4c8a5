import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricsSample } from '../types.js';
import { MetricsFeed, thinned } from './metrics-feed.js';

const step = (rank: number, n: number): MetricsSample => ({ type: 'training', metric: { rank, time: `t${n}`, values: { step: n, loss: 1 / (n + 1) } } });
const usage = (n: number): MetricsSample => ({ type: 'usage', time: `t${n}`, pods: [] });
const steps = (s: readonly MetricsSample[], rank: number) => s.flatMap((x) => (x.type === 'training' && x.metric.rank === rank ? [x.metric.values.step] : []));

describe('thinned', () => {
  it('keeps at most max samples, each series its first and newest points, none crowding out another', () => {
    const samples: MetricsSample[] = [];
    for (let n = 0; n < 10_000; n++) samples.push(step(0, n), step(1, n));
    samples.push(usage(0), usage(1));
    const kept = thinned(samples, 1000);
    expect(kept.length).toBeLessThanOrEqual(1000);
    for (const rank of [0, 1]) {
      const s = steps(kept, rank);
      expect(s[0]).toBe(0);
      expect(s.at(-1)).toBe(9999);
      expect(s.length).toBeGreaterThan(300);
      expect([...s].sort((a, b) => a - b)).toEqual(s); // order kept
    }
    expect(kept.filter((s) => s.type === 'usage')).toHaveLength(2);
    // Recent points stay exact: the newest hundred steps are all there.
    expect(steps(kept, 0).slice(-100)).toEqual(Array.from({ length: 100 }, (_, i) => 9900 + i));
  });

  it('leaves a list under the bound as it is', () => {
    const samples = [step(0, 0), step(0, 1)];
    expect(thinned(samples, 10)).toBe(samples);
  });
});

describe('MetricsFeed', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('redraws at most once per interval, stays bounded, and draws the last samples on flush', () => {
    const draws: number[] = [];
    const feed = new MetricsFeed((s) => draws.push(s.length), { redrawMs: 1000, maxSamples: 100 });
    for (let n = 0; n < 50; n++) feed.push(step(0, n));
    expect(draws).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(draws).toEqual([50]);
    for (let n = 50; n < 100_000; n++) feed.push(step(0, n));
    expect(feed.samples.length).toBeLessThanOrEqual(100);
    feed.flush();
    expect(draws).toHaveLength(2);
    expect(steps(feed.samples, 0).at(-1)).toBe(99_999);
    vi.advanceTimersByTime(5000);
    expect(draws).toHaveLength(2); // flush cancelled the pending redraw
  });

  it('draws nothing after stop; flush draws even before the first sample (an empty chart)', () => {
    const draws: number[] = [];
    const feed = new MetricsFeed((s) => draws.push(s.length), { redrawMs: 10 });
    feed.flush();
    feed.push(step(0, 0));
    feed.stop();
    vi.advanceTimersByTime(100);
    expect(draws).toEqual([0]);
  });
});
