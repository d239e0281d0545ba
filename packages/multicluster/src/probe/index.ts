// Gateway health and latency, as Linkerd's service mirror measures them.
export {
  createGatewayProbeMetrics,
  GatewayProbe,
  PROBE_LATENCY_BUCKETS_MS,
  probeOnce,
  type GatewayProbeMetrics,
  type GatewayProbeOptions,
} from './gateway-probe.js';
