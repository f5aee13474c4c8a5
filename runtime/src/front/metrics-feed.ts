// The metrics a chart shows while a job or a cell runs: samples arrive every few seconds (usage)
// or at every step a script logs (skiff.log), for as long as it runs, and each redraw sends them
// all to the chart (a notebook output is saved with the notebook). So the feed keeps a bounded
// number, thinning the older half of each series as it fills (recent points stay exact, the
// curve's shape stays), and redraws at most once per interval.
import type { MetricsSample } from '../types.js';

/** Redraws per second a chart can take without the editor stuttering. */
export const METRICS_REDRAW_MS = 1500;
/** Samples kept for a chart, all series together. */
export const MAX_CHART_SAMPLES = 2000;

export interface MetricsFeedOptions {
  redrawMs?: number;
  maxSamples?: number;
}

export class MetricsFeed {
  private kept: MetricsSample[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly redrawMs: number;
  private readonly maxSamples: number;

  constructor(
    private readonly draw: (samples: readonly MetricsSample[]) => void,
    opts: MetricsFeedOptions = {},
  ) {
    this.redrawMs = opts.redrawMs ?? METRICS_REDRAW_MS;
    this.maxSamples = opts.maxSamples ?? MAX_CHART_SAMPLES;
  }

  get samples(): readonly MetricsSample[] {
    return this.kept;
  }

  /** Adds samples; the chart is redrawn within the interval. */
  push(...samples: MetricsSample[]): void {
    if (samples.length === 0) return;
    this.kept.push(...samples);
    if (this.kept.length > this.maxSamples) this.kept = thinned(this.kept, this.maxSamples);
    this.timer ??= setTimeout(() => this.flush(), this.redrawMs);
  }

  /** Redraws now, even with no sample yet (the job or cell ended): the last samples are never left undrawn. */
  flush(): void {
    this.stop();
    this.draw(this.kept);
  }

  /** No redraw after this (the view closed). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Usage samples form one series; each rank's training metrics another. */
function seriesOf(sample: MetricsSample): string {
  return sample.type === 'usage' ? 'usage' : `rank ${sample.metric.rank}`;
}

/**
 * Every other sample of the older half of each series dropped, repeatedly, until at most `max`
 * remain: each series keeps its first and newest points, and one series cannot crowd out another.
 */
export function thinned(samples: MetricsSample[], max: number): MetricsSample[] {
  let out = samples;
  while (out.length > max) {
    const bySeries = new Map<string, number[]>();
    out.forEach((s, i) => {
      const key = seriesOf(s);
      const list = bySeries.get(key);
      if (list) list.push(i);
      else bySeries.set(key, [i]);
    });
    const dropped = new Set<number>();
    for (const indices of bySeries.values()) {
      const older = Math.floor(indices.length / 2);
      for (let j = 1; j < older; j += 2) dropped.add(indices[j]);
    }
    if (dropped.size === 0) break; // too few per series to thin: keep them all
    out = out.filter((_, i) => !dropped.has(i));
  }
  return out;
}
