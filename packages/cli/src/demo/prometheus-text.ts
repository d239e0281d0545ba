// The demo reads proxies' /metrics with @tsmesh/viz's Prometheus text parser (one parser for the CLI).
export { parsePrometheusText, type Sample } from '@tsmesh/viz';
