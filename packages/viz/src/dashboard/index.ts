export { authzSummary, type AuthzRow } from './authz-summary.js';
export { createDashboardApi, type ApiAnswer, type DashboardApi } from './dashboard-api.js';
export {
  startDashboardServer,
  type DashboardServer,
  type DashboardServerOptions,
  type TapHandler,
} from './dashboard-server.js';
export {
  createPrometheusSource,
  createScrapeSource,
  type DashboardSource,
  type PrometheusSourceOptions,
  type ScrapeSourceOptions,
} from './dashboard-source.js';
export { createStatHistory, type SeriesPoint, type StatHistory } from './stat-history.js';
export { defaultWebDir } from './static-files.js';
