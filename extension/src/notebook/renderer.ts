// Notebook renderer for Skiff's metrics output: live uPlot charts of loss and other reported values,
// CPU, memory and GPU, drawn by the chart module both editors share.
import type { ActivationFunction } from 'vscode-notebook-renderer';
import { drawMetricsCharts, type MetricsSample } from '@skiff/media';
import uplotCss from 'uplot/dist/uPlot.min.css';

const STYLE = `${uplotCss}
.skiff-metrics { display: flex; flex-wrap: wrap; gap: 12px; color: var(--vscode-editor-foreground); }
.skiff-metrics .u-title { font-size: 13px; }
.skiff-metrics-empty { opacity: 0.7; font-style: italic; }`;

export const activate: ActivationFunction = () => ({
  renderOutputItem(item, element) {
    if (!element.querySelector('style[data-skiff]')) {
      const style = document.createElement('style');
      style.dataset.skiff = '';
      style.textContent = STYLE;
      element.append(style);
    }
    let charts = element.querySelector<HTMLElement>('.skiff-metrics-root');
    if (!charts) {
      charts = document.createElement('div');
      charts.className = 'skiff-metrics-root';
      element.append(charts);
    }
    const { samples } = item.json() as { samples: MetricsSample[] };
    drawMetricsCharts(charts, samples);
  },
});
