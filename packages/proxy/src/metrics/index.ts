export {
  classify,
  createProxyMetrics,
  dstLabels,
  type ProxyMetrics,
  type ResponseOutcome,
  type TargetLabels,
  type TcpClose,
  type TlsLabels,
} from './proxy-metrics.js';
