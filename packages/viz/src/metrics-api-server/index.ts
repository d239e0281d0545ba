export {
  startMetricsApiServer,
  type MetricsApiServer,
  type MetricsApiServerOptions,
} from './metrics-api-server.js';
