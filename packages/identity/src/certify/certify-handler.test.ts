import { Metadata } from '@grpc/grpc-js';
import {
  GrpcStatus,
  identity as api,
  MeshError,
  MeshErrorCode,
  toGrpcStatus,
  type CallContext,
} from '@tsmesh/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createIssuerStore, type SigningIssuer } from '../issuer/index.js';
import { silentLogger } from '../logger.js';
import { createIdentityMetrics } from '../metrics/index.js';
import { identityNameOf } from '../runtime/identity-name-of.js';
import { createLocalTokenIssuer, createLocalTokenValidator } from '../token/index.js';
import { createCertifyHandler } from './index.js';

const context: CallContext = {
  path: '/io.linkerd.proxy.identity.Identity/Certify',
  metadata: new Metadata(),
  peer: 'test',
  deadline: Infinity,
  signal: new AbortController().signal,
};

function setup(issuerOverrides: Partial<SigningIssuer> = {}) {
  const registry = new Registry();
  const metrics = createIdentityMetrics(registry);
  const now = Date.now();
  const fake: SigningIssuer = {
    subject: 'CN=fake',
    fingerprint: 'f1',
    anchorsFingerprint: 'a1',
    notBeforeMs: now - 1000,
    notAfterMs: now + 3600_000,
    intermediatesDer: [new Uint8Array([1])],
    sign(csr, identity) {
      if (csr[0] === 0xff)
        throw Object.assign(new MeshError(MeshErrorCode.InvalidArgument, 'not a CSR'), {
          reason: 'malformed',
        });
      if (csr[0] === 0xee)
        throw Object.assign(new MeshError(MeshErrorCode.FailedPrecondition, `SAN is not ${identity}`), {
          reason: 'san_mismatch',
        });
      if (csr[0] === 0xdd)
        throw Object.assign(new MeshError(MeshErrorCode.InvalidArgument, 'RSA key'), { reason: 'key_type' });
      return { leafDer: new Uint8Array([9]), notAfterMs: now + 60_000 };
    },
    ...issuerOverrides,
  };
  const issuers = createIssuerStore({
    load: () => fake,
    classify: () => 'other',
    logger: silentLogger,
    metrics,
  });
  issuers.offer({ certificatePem: '', privateKeyPem: '', trustAnchorsPem: '', origin: 'test' });
  const tokens = createLocalTokenIssuer();
  const handler = createCertifyHandler({
    issuers,
    tokens: createLocalTokenValidator({ publicKey: tokens.publicKey }),
    identityOf: (ns, sa) => identityNameOf(ns, sa, 'linkerd', 'cluster.local'),
    metrics,
    logger: silentLogger,
  });
  const request = (identity: string, token: string, csr: number[] = [0x30]) =>
    api.CertifyRequest.create({
      identity,
      token: Buffer.from(token),
      certificateSigningRequest: new Uint8Array(csr),
    });
  return { handler, tokens, request, registry };
}

const statusOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return { code: GrpcStatus.OK, details: '' };
  } catch (err) {
    return toGrpcStatus(err);
  }
};

describe('Certify handler', () => {
  const id = 'web.emoji.serviceaccount.identity.linkerd.cluster.local';

  it('issues for the token owner and counts it', async () => {
    const { handler, tokens, request, registry } = setup();
    const res = await handler(
      request(id, tokens.mint({ namespace: 'emoji', serviceAccount: 'web' })),
      context,
    );
    expect(res.leafCertificate).toEqual(new Uint8Array([9]));
    expect(res.intermediateCertificates).toHaveLength(1);
    expect(Number(res.validUntil?.seconds)).toBeGreaterThan(Date.now() / 1000);
    expect(await registry.metrics()).toMatch(/identity_certificates_issued_total 1/);
  });

  it('refuses with the right status and a message that says why', async () => {
    const { handler, tokens, request, registry } = setup();
    const good = tokens.mint({ namespace: 'emoji', serviceAccount: 'web' });
    const cases: [api.CertifyRequest, number, RegExp][] = [
      [request('', good), GrpcStatus.INVALID_ARGUMENT, /names no identity/],
      [request('not an identity', good), GrpcStatus.INVALID_ARGUMENT, /CertifyRequest\.identity/],
      [request(id, ''), GrpcStatus.UNAUTHENTICATED, /no token/],
      [request(id, 'garbage'), GrpcStatus.UNAUTHENTICATED, /not accepted.*not a JWT/],
      [
        request(id, tokens.mint({ namespace: 'emoji', serviceAccount: 'other' })),
        GrpcStatus.PERMISSION_DENIED,
        /emoji\/other.*not "web/,
      ],
      [request(id, good, []), GrpcStatus.INVALID_ARGUMENT, /no CSR/],
      [request(id, good, [0xff]), GrpcStatus.INVALID_ARGUMENT, /CSR: not a CSR/],
      [request(id, good, [0xee]), GrpcStatus.FAILED_PRECONDITION, /SAN is not/],
      [request(id, good, [0xdd]), GrpcStatus.FAILED_PRECONDITION, /RSA key/],
    ];
    for (const [req, code, message] of cases) {
      const status = await statusOf(handler(req, context));
      expect({ code: status.code, details: status.details }).toEqual({
        code,
        details: expect.stringMatching(message),
      });
    }
    const text = await registry.metrics();
    expect(text).toMatch(/identity_certify_refusals_total\{reason="invalid_token"\} 2/);
    expect(text).toMatch(/identity_certify_refusals_total\{reason="permission_denied"\} 1/);
    expect(text).toMatch(/identity_certify_refusals_total\{reason="malformed_csr"\} 2/);
    expect(text).toMatch(/identity_certify_refusals_total\{reason="csr_identity_mismatch"\} 1/);
    expect(text).toMatch(/identity_certify_refusals_total\{reason="key_type"\} 1/);
  });

  it('answers UNAVAILABLE with an expired or not-yet-valid issuer', async () => {
    const expired = setup({ notAfterMs: Date.now() - 1 });
    const token = expired.tokens.mint({ namespace: 'emoji', serviceAccount: 'web' });
    const s1 = await statusOf(expired.handler(expired.request(id, token), context));
    expect(s1.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(s1.details).toMatch(/expired/);
    const early = setup({ notBeforeMs: Date.now() + 60_000 });
    const s2 = await statusOf(
      early.handler(
        early.request(id, early.tokens.mint({ namespace: 'emoji', serviceAccount: 'web' })),
        context,
      ),
    );
    expect(s2.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(s2.details).toMatch(/not valid until/);
  });
});
