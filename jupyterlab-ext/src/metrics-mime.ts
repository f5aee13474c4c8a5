// The renderer for Skiff's metrics output (application/vnd.skiff.metrics+json): live uPlot charts of
// the reported training values, CPU, memory and GPU, drawn by the chart module both editors share.
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { drawMetricsCharts, METRICS_MIME, type MetricsSample } from '@skiff/media';

class MetricsRenderer extends Widget implements IRenderMime.IRenderer {
  constructor() {
    super();
    this.addClass('skiff-metrics-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const { samples } = (model.data[METRICS_MIME] ?? {}) as { samples?: MetricsSample[] };
    drawMetricsCharts(this.node, samples ?? []);
  }
}

export const metricsRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [METRICS_MIME],
  defaultRank: 50,
  createRenderer: () => new MetricsRenderer(),
};

const extension: IRenderMime.IExtension = {
  id: '@skiff/jupyterlab:metrics',
  rendererFactory: metricsRendererFactory,
  rank: 50,
  dataType: 'json',
};

export default extension;
