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
export { BatchedCounter, labelSetKey, type PendingCount } from './hot-path.js';
