// Metrics samples (as the runtime streams them) -> the series the charts draw. Pure, so both
// editors shape data the same way and tests need no DOM.

/** The runtime's MetricsSample, restated so this browser-side package imports nothing from Node. */
export type MetricsSample =
  | { type: 'usage'; time: string; pods: { pod: string; rank: number; cpuCores: number; memoryBytes: number; gpuUtilization?: number }[] }
  | { type: 'training'; metric: { rank: number; time: string; values: Record<string, number> } };

/** One line of a chart: y values over x (step for training values, seconds for usage). */
export interface Series {
  label: string;
  x: number[];
  y: number[];
}

export interface Chart {
  title: string;
  xLabel: string;
  series: Series[];
}

/**
 * Training values per name (loss, accuracy, ...) against `step`, one series per rank; then CPU
 * cores, memory (MiB) and GPU utilisation against seconds since the first usage sample, one series
 * per rank. Charts without data are left out.
 */
export function metricsCharts(samples: MetricsSample[]): Chart[] {
  const training = new Map<string, Map<number, Series>>();
  for (const s of samples) {
    if (s.type !== 'training') continue;
    const { rank, values } = s.metric;
    const step = values.step;
    for (const [name, value] of Object.entries(values)) {
      if (name === 'step' || !Number.isFinite(value)) continue;
      const byRank = training.get(name) ?? new Map<number, Series>();
      training.set(name, byRank);
      const series = byRank.get(rank) ?? { label: `rank ${rank}`, x: [], y: [] };
      byRank.set(rank, series);
      series.x.push(Number.isFinite(step) ? step : series.x.length);
      series.y.push(value);
    }
  }
  const charts: Chart[] = [...training].map(([name, byRank]) => ({ title: name, xLabel: 'step', series: sortedByRank(byRank) }));

  const usage = samples.filter((s): s is Extract<MetricsSample, { type: 'usage' }> => s.type === 'usage');
  if (usage.length > 0) {
    const t0 = Date.parse(usage[0].time);
    const usageChart = (title: string, pick: (p: (typeof usage)[number]['pods'][number]) => number | undefined): Chart => {
      const byRank = new Map<number, Series>();
      for (const sample of usage) {
        const t = (Date.parse(sample.time) - t0) / 1000;
        for (const pod of sample.pods) {
          const value = pick(pod);
          if (value === undefined || !Number.isFinite(value)) continue;
          const series = byRank.get(pod.rank) ?? { label: `rank ${pod.rank}`, x: [], y: [] };
          byRank.set(pod.rank, series);
          series.x.push(t);
          series.y.push(value);
        }
      }
      return { title, xLabel: 'seconds', series: sortedByRank(byRank) };
    };
    charts.push(usageChart('CPU (cores)', (p) => p.cpuCores));
    charts.push(usageChart('memory (MiB)', (p) => p.memoryBytes / (1024 * 1024)));
    charts.push(usageChart('GPU (%)', (p) => p.gpuUtilization));
  }
  return charts.filter((c) => c.series.some((s) => s.x.length > 0));
}

/** uPlot wants one shared x axis: the union of every series' x, with gaps (null) where a series has no point. */
export function alignedData(chart: Chart): (number | null)[][] {
  const xs = [...new Set(chart.series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const columns = chart.series.map((s) => {
    const byX = new Map(s.x.map((x, i) => [x, s.y[i]]));
    return xs.map((x) => byX.get(x) ?? null);
  });
  return [xs, ...columns];
}

function sortedByRank(byRank: Map<number, Series>): Series[] {
  return [...byRank].sort(([a], [b]) => a - b).map(([, s]) => s);
}
