export { metricsCharts, alignedData, type Chart, type Series, type MetricsSample } from './series.js';
export { drawMetricsCharts, METRICS_MIME, type DrawOptions } from './metrics-chart.js';
