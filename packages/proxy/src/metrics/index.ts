export {
  classify,
  createProxyMetrics,
  DST_LABELS,
  dstLabels,
  type ProxyMetrics,
  type ResponseOutcome,
  type TargetLabels,
  type TcpClose,
  type TlsLabels,
} from './proxy-metrics.js';
