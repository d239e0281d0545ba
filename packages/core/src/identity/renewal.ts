// When to renew. linkerd2-proxy refreshes its certificate after 70 % of the time left until
// `valid_until`, bounded to [10 s, 24 h]; it only knows the expiry, so the fraction applies to the
// remaining time (right after issuance that is the lifetime).
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

export const DEFAULT_RENEWAL_FRACTION = 0.7;
export const DEFAULT_MIN_REFRESH_MS = 10_000;
export const DEFAULT_MAX_REFRESH_MS = 24 * 3_600_000;

export interface RenewalOptions {
  /** Default now. */
  now?: Date;
  /** Never sooner than this after `now` (default 10 s), so a broken issuer is not hammered. */
  minRefreshMs?: number;
  /** Never later than this after `now` (default 24 h). */
  maxRefreshMs?: number;
}

/** How long to wait before renewing: `fraction` of the time left, within [minRefreshMs, maxRefreshMs]. */
export function renewalDelayMs(
  certificate: { readonly notAfter: Date },
  fraction: number = DEFAULT_RENEWAL_FRACTION,
  options: RenewalOptions = {},
): number {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new IdentityError(
      MeshErrorCode.InvalidArgument,
      `renewal fraction must be in (0, 1], got ${fraction}`,
      {
        reason: IdentityErrorReason.InvalidOptions,
        where: 'renewalDelayMs',
      },
    );
  }
  const now = options.now ?? new Date();
  const min = options.minRefreshMs ?? DEFAULT_MIN_REFRESH_MS;
  const max = options.maxRefreshMs ?? DEFAULT_MAX_REFRESH_MS;
  const remaining = certificate.notAfter.getTime() - now.getTime();
  if (remaining <= 0) return min;
  return Math.min(max, Math.max(min, Math.round(remaining * fraction)));
}

/** When to renew (`now` + `renewalDelayMs`); e.g. `renewalTime(cert, 0.7)`. */
export function renewalTime(
  certificate: { readonly notAfter: Date },
  fraction: number = DEFAULT_RENEWAL_FRACTION,
  options: RenewalOptions = {},
): Date {
  const now = options.now ?? new Date();
  return new Date(now.getTime() + renewalDelayMs(certificate, fraction, { ...options, now }));
}

/** Milliseconds until `notAfter` (negative once expired). */
export function expiresInMs(certificate: { readonly notAfter: Date }, now: Date = new Date()): number {
  return certificate.notAfter.getTime() - now.getTime();
}
