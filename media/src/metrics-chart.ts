// Draws metricsCharts() with uPlot into an element: one small chart per metric. Used by the VS Code
// notebook renderer and the JupyterLab extension alike.
import uPlot from 'uplot';
import type { AlignedData, Options } from 'uplot';
import { alignedData, metricsCharts, type MetricsSample } from './series.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

export interface DrawOptions {
  width?: number;
  height?: number;
}

/** Replaces the element's content with one chart per metric; says so when there is nothing yet. */
export function drawMetricsCharts(element: HTMLElement, samples: MetricsSample[], opts: DrawOptions = {}): void {
  element.replaceChildren();
  element.classList.add('skiff-metrics');
  const charts = metricsCharts(samples);
  if (charts.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'skiff-metrics-empty';
    empty.textContent = 'No metrics yet: scripts report them with skiff.log(step=..., loss=...)';
    element.append(empty);
    return;
  }
  for (const chart of charts) {
    const box = document.createElement('div');
    box.className = 'skiff-metrics-chart';
    box.dataset.metric = chart.title;
    element.append(box);
    const options: Options = {
      title: chart.title,
      width: opts.width ?? 360,
      height: opts.height ?? 200,
      scales: { x: { time: false } },
      axes: [{ label: chart.xLabel, stroke: 'currentColor' }, { stroke: 'currentColor' }],
      series: [{ label: chart.xLabel }, ...chart.series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true }))],
    };
    new uPlot(options, alignedData(chart) as AlignedData, box);
  }
}

export const METRICS_MIME = 'application/vnd.skiff.metrics+json';
