export {
  createIdentityMetrics,
  IssuerRejectReason,
  RefusalReason,
  type IdentityMetrics,
} from './identity-metrics.js';
