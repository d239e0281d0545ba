// A certificate's validity period checked at a time, with the errors both chain verifiers give
// (trust-bundle.ts over parsed certificates, workload-identity.ts over node:crypto's X509Certificate).
// No ASN.1 library: the proxy's side of identity loads this too.
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';

/** The dates and CA flag the check needs, whichever parser read them. */
export interface ValidityPeriod {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
}

/** Throws a `certificate_invalid` IdentityError (expired or not yet valid) unless `at` is inside the period. */
export function checkValidityAt(period: ValidityPeriod, at: Date, where: string): void {
  if (at.getTime() > period.notAfter.getTime()) {
    throw new IdentityError(
      MeshErrorCode.CertificateInvalid,
      `expired at ${period.notAfter.toISOString()} (checked at ${at.toISOString()})`,
      {
        reason: IdentityErrorReason.Expired,
        where,
        hint: period.isCa ? 'rotate this CA certificate' : 'renew the certificate',
      },
    );
  }
  if (at.getTime() < period.notBefore.getTime()) {
    throw new IdentityError(
      MeshErrorCode.CertificateInvalid,
      `not valid before ${period.notBefore.toISOString()} (checked at ${at.toISOString()})`,
      {
        reason: IdentityErrorReason.NotYetValid,
        where,
        hint: 'check the clocks of the issuer and this host',
      },
    );
  }
}
