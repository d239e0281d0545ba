export { edgesOf, type Edge, type EdgesQuery } from './edges.js';
export { histogramQuantile, type Buckets } from './histogram-quantile.js';
export {
  createPrometheusVectors,
  formatSelector,
  promql,
  queryPrometheus,
  type PrometheusVectorsOptions,
} from './prometheus-vectors.js';
export {
  destinationLabel,
  isNamespaced,
  parseResource,
  RESOURCE_TYPES,
  sourceLabel,
  type Resource,
  type ResourceType,
} from './resource.js';
export {
  createScrapeVectors,
  scrapeTargets,
  withTargetLabels,
  type ScrapeTarget,
  type Snapshot,
} from './scrape-vectors.js';
export { statSummary, type StatQuery, type StatRow } from './stat-summary.js';
export { groupKey, matches, type Matchers, type Series, type WindowVectors } from './window-vectors.js';
