// The one classifier from a Certify failure to the bounded `reason` label, and the MeshError the
// caller sees. The identity library's errors carry a closed `reason` of their own (CSR problems);
// those are mapped here to a refusal reason and a status code: a CSR that does not decode is
// INVALID_ARGUMENT; a decodable CSR that breaks a rule (key type, SANs, CN) is FAILED_PRECONDITION,
// as in Linkerd's identity service.
import { MeshError, MeshErrorCode, type MeshErrorOptions } from '@tsmesh/core';
import { RefusalReason } from '../metrics/index.js';

const reasons = new WeakMap<MeshError, RefusalReason>();

/** A MeshError tagged with the refusal reason it is counted under. */
export function refusal(
  reason: RefusalReason,
  code: MeshErrorCode,
  message: string,
  options?: MeshErrorOptions,
): MeshError {
  const err = new MeshError(code, message, options);
  reasons.set(err, reason);
  return err;
}

/** Identity-library reasons (IdentityError.reason) that describe the CSR's key. */
const KEY_REASONS = new Set(['key_type', 'unsupported_algorithm']);
/** Identity-library reasons that describe a CSR naming something other than the identity. */
const NAME_REASONS = new Set([
  'san_count',
  'san_mismatch',
  'unexpected_san',
  'common_name',
  'identity_mismatch',
]);

export function classifyRefusal(err: unknown): { reason: RefusalReason; error: MeshError } {
  if (MeshError.is(err)) {
    const tagged = reasons.get(err);
    if (tagged) return { reason: tagged, error: err };
    const libraryReason = (err as { reason?: unknown }).reason;
    if (typeof libraryReason === 'string') {
      if (KEY_REASONS.has(libraryReason)) {
        return {
          reason: RefusalReason.KeyType,
          error: retag(err, RefusalReason.KeyType, MeshErrorCode.FailedPrecondition, 'CSR'),
        };
      }
      if (NAME_REASONS.has(libraryReason)) {
        return {
          reason: RefusalReason.CsrIdentityMismatch,
          error: retag(err, RefusalReason.CsrIdentityMismatch, MeshErrorCode.FailedPrecondition, 'CSR'),
        };
      }
      if (libraryReason === 'malformed' || libraryReason === 'bad_signature') {
        return {
          reason: RefusalReason.MalformedCsr,
          error: retag(err, RefusalReason.MalformedCsr, MeshErrorCode.InvalidArgument, 'CSR'),
        };
      }
    }
    if (err.code === MeshErrorCode.Unavailable)
      return { reason: RefusalReason.IssuerUnavailable, error: err };
    if (err.code === MeshErrorCode.InvalidArgument || err.code === MeshErrorCode.Decode) {
      return { reason: RefusalReason.MalformedCsr, error: err };
    }
    if (err.code === MeshErrorCode.Internal) return { reason: RefusalReason.Internal, error: err };
    return { reason: RefusalReason.Internal, error: err };
  }
  return {
    reason: RefusalReason.Internal,
    error: new MeshError(
      MeshErrorCode.Internal,
      `internal error: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    ),
  };
}

function retag(err: MeshError, reason: RefusalReason, code: MeshErrorCode, prefix: string): MeshError {
  const message = err.where || err.message.startsWith(prefix) ? err.message : `${prefix}: ${err.message}`;
  return refusal(reason, code, message, { cause: err, where: err.where, hint: err.hint });
}
