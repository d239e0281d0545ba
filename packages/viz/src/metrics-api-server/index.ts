export {
  startAdminServer,
  startMetricsApiServer,
  type AdminServer,
  type MetricsApiServer,
  type MetricsApiServerOptions,
} from './metrics-api-server.js';
