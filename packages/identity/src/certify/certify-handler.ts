// io.linkerd.proxy.identity.Identity/Certify: authenticate the caller by its ServiceAccount token,
// check that the token's account is exactly the identity asked for, check the CSR names that
// identity with an ECDSA P-256 key, and sign. Every refusal is a MeshError (mapped to a gRPC status
// once, by the core server adapter) whose message says what was wrong, and is counted under a
// bounded reason label. Nothing a caller sends can stop the service.
import type { identity as api, CallContext } from '@tsmesh/core';
import { MeshError, MeshErrorCode, parseIdentityName } from '@tsmesh/core';
import { usableIssuer, type IssuerStore } from '../issuer/index.js';
import type { Logger } from '../logger.js';
import { RefusalReason, type IdentityMetrics } from '../metrics/index.js';
import type { TokenValidator } from '../token/index.js';
import { classifyRefusal, refusal } from './refusal.js';

export interface CertifyHandlerOptions {
  readonly issuers: IssuerStore;
  readonly tokens: TokenValidator;
  /** Builds the identity name of a ServiceAccount (`<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`). */
  readonly identityOf: (namespace: string, serviceAccount: string) => string;
  readonly metrics: IdentityMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Timeout for one token validation (TokenReview). Default 10 s. */
  readonly tokenTimeoutMs?: number;
}

export type CertifyHandler = (
  request: api.CertifyRequest,
  context: CallContext,
) => Promise<api.CertifyResponse.$Properties>;

export function createCertifyHandler(options: CertifyHandlerOptions): CertifyHandler {
  const now = options.now ?? Date.now;
  const { metrics, logger } = options;

  const certify = async (request: api.CertifyRequest, context: CallContext) => {
    const identity = request.identity;
    if (!identity) {
      throw refusal(
        RefusalReason.InvalidRequest,
        MeshErrorCode.InvalidArgument,
        'the request names no identity',
        {
          hint: 'set CertifyRequest.identity to the proxy identity name',
        },
      );
    }
    try {
      parseIdentityName(identity, { where: 'CertifyRequest.identity' });
    } catch (err) {
      const inner = MeshError.is(err) ? err : undefined;
      throw refusal(
        RefusalReason.InvalidRequest,
        MeshErrorCode.InvalidArgument,
        inner?.message ?? String(err),
        {
          cause: err,
          where: inner?.where,
          hint: inner?.hint,
        },
      );
    }
    if (request.token.length === 0) {
      throw refusal(
        RefusalReason.InvalidToken,
        MeshErrorCode.Unauthenticated,
        'the request carries no token',
        {
          hint: 'send the ServiceAccount token from LINKERD2_PROXY_IDENTITY_TOKEN_FILE',
        },
      );
    }
    if (request.certificateSigningRequest.length === 0) {
      throw refusal(RefusalReason.MalformedCsr, MeshErrorCode.InvalidArgument, 'the request carries no CSR', {
        hint: 'send a DER-encoded PKCS#10 request',
      });
    }
    // Before spending a TokenReview: is there an issuer to sign with at all?
    usableIssuer(options.issuers, now());

    const token = Buffer.from(request.token).toString('utf8').trim();
    let subject;
    try {
      subject = await options.tokens.validate(token, {
        signal: context.signal,
        timeoutMs: options.tokenTimeoutMs ?? 10_000,
      });
    } catch (err) {
      if (MeshError.is(err) && err.code === MeshErrorCode.Unavailable) {
        throw refusal(RefusalReason.TokenReviewUnavailable, MeshErrorCode.Unavailable, err.message, {
          cause: err,
          hint: err.hint,
        });
      }
      const inner = MeshError.is(err) ? err.describe() : String(err);
      throw refusal(
        RefusalReason.InvalidToken,
        MeshErrorCode.Unauthenticated,
        `the token was not accepted: ${inner}`,
        { cause: err },
      );
    }

    const tokenIdentity = options.identityOf(subject.namespace, subject.serviceAccount);
    if (tokenIdentity !== identity) {
      throw refusal(
        RefusalReason.PermissionDenied,
        MeshErrorCode.PermissionDenied,
        `the token of ServiceAccount ${subject.namespace}/${subject.serviceAccount} is for identity "${tokenIdentity}", not "${identity}"`,
        { hint: 'a proxy may only ask for the identity of its own ServiceAccount' },
      );
    }

    // The issuer may have rotated while the token was reviewed: sign with the newest usable one.
    const issuer = usableIssuer(options.issuers, now());
    const leaf = issuer.sign(request.certificateSigningRequest, identity, now());
    metrics.issued.inc();
    logger.debug(
      { identity, notAfter: new Date(leaf.notAfterMs).toISOString(), issuer: issuer.fingerprint },
      'issued a certificate',
    );
    return {
      leafCertificate: leaf.leafDer,
      intermediateCertificates: [...issuer.intermediatesDer],
      validUntil: {
        seconds: Math.floor(leaf.notAfterMs / 1000),
        nanos: (leaf.notAfterMs % 1000) * 1_000_000,
      },
    };
  };

  return async (request, context) => {
    try {
      return await certify(request, context);
    } catch (err) {
      const { reason, error } = classifyRefusal(err);
      metrics.refused.inc({ reason });
      logger.info(
        { identity: request.identity, reason, peer: context.peer, error: error.describe() },
        'refused Certify',
      );
      throw error;
    }
  };
}
