// The identity service's metrics, registered on the registry it is given (no global registry).
// Refusal reasons and issuer-update failure reasons are closed sets, so labels stay bounded.
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a Certify call was refused: the bounded `reason` label. */
export const RefusalReason = {
  InvalidRequest: 'invalid_request',
  MalformedCsr: 'malformed_csr',
  CsrIdentityMismatch: 'csr_identity_mismatch',
  KeyType: 'key_type',
  InvalidToken: 'invalid_token',
  PermissionDenied: 'permission_denied',
  IssuerUnavailable: 'issuer_unavailable',
  TokenReviewUnavailable: 'token_review_unavailable',
  Internal: 'internal',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/** Why a new issuer was not taken: the bounded `reason` label. */
export const IssuerRejectReason = {
  Malformed: 'malformed',
  KeyMismatch: 'key_mismatch',
  KeyType: 'key_type',
  UntrustedChain: 'untrusted_chain',
  Expired: 'expired',
  NotYetValid: 'not_yet_valid',
  NotACa: 'not_a_ca',
  Missing: 'missing',
  Other: 'other',
} as const;
export type IssuerRejectReason = (typeof IssuerRejectReason)[keyof typeof IssuerRejectReason];

export interface IdentityMetrics {
  readonly issued: Counter<never>;
  readonly refused: Counter<'reason'>;
  readonly issuerExpiry: Gauge<never>;
  readonly issuerUpdates: Counter<never>;
  readonly issuerRejected: Counter<'reason'>;
  readonly tokenCacheLookups: Counter<'result'>;
}

export function createIdentityMetrics(registry: Registry): IdentityMetrics {
  const registers = [registry];
  const refused = new Counter({
    name: 'identity_certify_refusals_total',
    help: 'Certify calls refused, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of Object.values(RefusalReason)) refused.inc({ reason }, 0);
  const issuerRejected = new Counter({
    name: 'identity_issuer_rejected_total',
    help: 'New issuer certificates refused (the previous issuer kept serving), by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  return {
    issued: new Counter({
      name: 'identity_certificates_issued_total',
      help: 'Leaf certificates issued by Certify',
      registers,
    }),
    refused,
    issuerExpiry: new Gauge({
      name: 'identity_issuer_expiry_timestamp_seconds',
      help: 'notAfter of the issuer certificate in use, seconds since the epoch',
      registers,
    }),
    issuerUpdates: new Counter({
      name: 'identity_issuer_updates_total',
      help: 'Issuer certificates loaded (the first one and every rotation)',
      registers,
    }),
    issuerRejected,
    tokenCacheLookups: new Counter({
      name: 'identity_token_review_cache_lookups_total',
      help: 'Token validation cache lookups, by result (hit or miss)',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}
