// The demo application and `tsmesh demo`.
export {
  DEMO_APPS,
  DEMO_NAMESPACE,
  DemoAuthority,
  runDemoAppProcess,
  startDemoApp,
  type DemoAppName,
} from './demo-app.js';
export {
  DEMO_CLUSTER_PORT,
  demoClusterManifests,
  demoManifests,
  type DemoClusterOptions,
  type DemoPorts,
} from './demo-manifests.js';
export {
  GoldenWindow,
  goldenOf,
  histogramQuantile,
  totalsOf,
  type Golden,
  type Totals,
} from './golden-metrics.js';
export { formatLines, formatTable } from './metrics-view.js';
export { parsePrometheusText, type Sample } from './prometheus-text.js';
export { freePort, runDemo, type DemoOptions } from './run-demo.js';
