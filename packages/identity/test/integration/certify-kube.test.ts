// The identity service against a real kube-apiserver: TokenReview, the issuer Secret and the
// trust-roots ConfigMap, refusals with the right status, and issuer rotation under load.
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parseCertificate } from '@tsmesh/core';
import { kubeTest, testKubeconfigPath } from '@tsmesh/testenv/vitest';
import { Registry } from 'prom-client';
import { expect, onTestFinished } from 'vitest';
import {
  createTokenReviewValidator,
  silentLogger,
  startIdentityService,
  type IdentityService,
} from '../../src/index.js';
import {
  certify,
  certifyError,
  createPki,
  csrFor,
  identityClient,
  identityOf,
  installIssuer,
  opensslVerify,
  replaceIssuer,
  serviceAccountToken,
  type SecretLayout,
} from './support.js';

async function start(kc: KubeConfig, namespace: string, options: { cacheTokens?: boolean } = {}) {
  const registry = new Registry();
  const service = await startIdentityService({
    trustDomain: 'cluster.local',
    controlPlaneNamespace: namespace,
    issuerSource: { kind: 'kube', kubeConfig: kc, namespace },
    tokenValidator: createTokenReviewValidator({ api: kc.makeApiClient(AuthenticationV1Api) }),
    cacheTokens: options.cacheTokens,
    registry,
    logger: silentLogger,
    grpcPort: 0,
    adminPort: 0,
  });
  onTestFinished(() => service.close());
  const client = identityClient(service.grpcPort);
  onTestFinished(() => client.close());
  return { service, client, registry };
}

async function admin(service: IdentityService, path: string) {
  const res = await fetch(`http://127.0.0.1:${service.adminPort}${path}`);
  return { status: res.status, text: await res.text() };
}

for (const layout of ['linkerd.io/tls', 'kubernetes.io/tls'] as SecretLayout[]) {
  kubeTest(
    `a ServiceAccount token gets a certificate that chains (${layout})`,
    async ({ kubeConfig, namespace }) => {
      const pki = createPki();
      await installIssuer(kubeConfig, namespace, pki, layout);
      const { service, client } = await start(kubeConfig, namespace);
      await service.issuers.whenReady();
      expect((await admin(service, '/ready')).status).toBe(200);

      const identity = identityOf(namespace, 'web', namespace);
      const token = await serviceAccountToken(kubeConfig, namespace, 'web');
      const res = await certify(client, {
        identity,
        token: Buffer.from(token),
        certificateSigningRequest: csrFor(identity).csrDer,
      });
      expect(await opensslVerify(pki.rootPem, res)).toMatch(/leaf\.pem: OK/);
      const leaf = parseCertificate(res.leafCertificate);
      expect(leaf.dnsNames).toEqual([identity]);
      expect(Number(res.validUntil?.seconds)).toBe(Math.floor(leaf.notAfter.getTime() / 1000));
      expect(leaf.notAfter.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
      expect(Buffer.from(res.intermediateCertificates[0]!)).toEqual(Buffer.from(pki.issuer.certificate.der));

      const metrics = (await admin(service, '/metrics')).text;
      expect(metrics).toMatch(/identity_certificates_issued_total 1/);
      expect(metrics).toContain(
        `identity_issuer_expiry_timestamp_seconds ${Math.floor(pki.issuer.certificate.notAfter.getTime() / 1000)}`,
      );
      expect((await admin(service, '/live')).text).toBe('live\n');
    },
  );
}

kubeTest(
  'refuses other accounts, bad tokens and bad CSRs with clear statuses, and keeps serving',
  async ({ kubeConfig, namespace }) => {
    const pki = createPki();
    await installIssuer(kubeConfig, namespace, pki);
    const { service, client } = await start(kubeConfig, namespace);
    await service.issuers.whenReady();
    const identity = identityOf(namespace, 'web', namespace);
    const { csrDer } = csrFor(identity);
    const webToken = Buffer.from(await serviceAccountToken(kubeConfig, namespace, 'web'));
    const otherToken = Buffer.from(await serviceAccountToken(kubeConfig, namespace, 'other'));

    // Another account's (valid) token for this identity.
    const denied = await certifyError(client, {
      identity,
      token: otherToken,
      certificateSigningRequest: csrDer,
    });
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toMatch(new RegExp(`${namespace}/other.*not "${identity.replace(/\./g, '\\.')}"`));

    // Garbage.
    const garbage = await certifyError(client, {
      identity,
      token: Buffer.from('not-a-token'),
      certificateSigningRequest: csrDer,
    });
    expect(garbage.code).toBe(status.UNAUTHENTICATED);
    expect(garbage.details).toMatch(/token/);

    // An expired token, signed with the API server's own ServiceAccount key.
    const expired = await certifyError(client, {
      identity,
      token: Buffer.from(expireToken(webToken.toString())),
      certificateSigningRequest: csrDer,
    });
    expect(expired.code).toBe(status.UNAUTHENTICATED);
    expect(expired.details).toMatch(/expired/);

    // Token for the default audience only: refused with identity.l5d.io, accepted on the
    // audience-less fallback, as Linkerd does.
    const apiAudience = Buffer.from(
      await serviceAccountToken(kubeConfig, namespace, 'web', 'https://kubernetes.default.svc'),
    );
    const fallback = await certify(client, {
      identity,
      token: apiAudience,
      certificateSigningRequest: csrDer,
    }).catch((e) => e);
    // The API server's default audience is its issuer URL; if it differs, the fallback refuses: both are valid outcomes
    // of "no audience"; what matters is that it is not an error of another kind.
    expect(fallback.leafCertificate ?? fallback.code).toSatisfy(
      (v: unknown) => v instanceof Uint8Array || v === status.UNAUTHENTICATED,
    );

    // Malformed CSR, CSR for another name, RSA key.
    const malformed = await certifyError(client, {
      identity,
      token: webToken,
      certificateSigningRequest: Buffer.from('not a csr'),
    });
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.details).toMatch(/CSR|certificate request/i);
    const otherName = identityOf(namespace, 'other', namespace);
    const wrongName = await certifyError(client, {
      identity,
      token: webToken,
      certificateSigningRequest: csrFor(otherName).csrDer,
    });
    expect(wrongName.code).toBe(status.FAILED_PRECONDITION);
    expect(wrongName.details).toContain(otherName);

    // Bad protobuf is answered by the adapter; the server keeps serving.
    const ok = await certify(client, { identity, token: webToken, certificateSigningRequest: csrDer });
    expect(await opensslVerify(pki.rootPem, ok)).toMatch(/OK/);
    const metrics = (await admin(service, '/metrics')).text;
    expect(metrics).toMatch(/identity_certify_refusals_total\{reason="permission_denied"\} 1/);
    expect(metrics).toMatch(/identity_certify_refusals_total\{reason="malformed_csr"\} 1/);
    expect(metrics).toMatch(/identity_certify_refusals_total\{reason="csr_identity_mismatch"\} 1/);
  },
);

kubeTest(
  'is not ready and answers UNAVAILABLE until an issuer exists; refuses an invalid rotated issuer',
  async ({ kubeConfig, namespace }) => {
    const { service, client } = await start(kubeConfig, namespace);
    expect((await admin(service, '/ready')).status).toBe(503);
    const identity = identityOf(namespace, 'web', namespace);
    const token = Buffer.from(await serviceAccountToken(kubeConfig, namespace, 'web'));
    const { csrDer } = csrFor(identity);
    const unavailable = await certifyError(client, { identity, token, certificateSigningRequest: csrDer });
    expect(unavailable.code).toBe(status.UNAVAILABLE);
    expect(unavailable.details).toMatch(/no issuer/);

    const pki = createPki();
    await installIssuer(kubeConfig, namespace, pki);
    await service.issuers.whenReady();
    expect((await admin(service, '/ready')).status).toBe(200);

    // An issuer from another root does not chain to the anchors in the ConfigMap: refused, counted,
    // and the old issuer keeps serving.
    const foreign = createPki();
    await replaceIssuer(kubeConfig, namespace, foreign);
    await expect
      .poll(async () => (await admin(service, '/metrics')).text, { timeout: 10_000 })
      .toMatch(/identity_issuer_rejected_total\{reason="untrusted_chain"\} 1/);
    // Key of another issuer: key mismatch.
    await replaceIssuer(kubeConfig, namespace, {
      ...pki,
      issuerKeyPem: createPki({ root: pki.root }).issuerKeyPem,
    });
    await expect
      .poll(async () => (await admin(service, '/metrics')).text, { timeout: 10_000 })
      .toMatch(/identity_issuer_rejected_total\{reason="key_mismatch"\} 1/);
    const res = await certify(client, { identity, token, certificateSigningRequest: csrDer });
    expect(await opensslVerify(pki.rootPem, res)).toMatch(/OK/);
    expect(Buffer.from(res.intermediateCertificates[0]!)).toEqual(Buffer.from(pki.issuer.certificate.der));
  },
);

kubeTest(
  'rotation under load: 100 concurrent Certify calls while the issuer Secret is replaced',
  async ({ kubeConfig, namespace }) => {
    const old = createPki();
    await installIssuer(kubeConfig, namespace, old);
    const { service, client } = await start(kubeConfig, namespace);
    await service.issuers.whenReady();
    const identity = identityOf(namespace, 'web', namespace);
    const token = Buffer.from(await serviceAccountToken(kubeConfig, namespace, 'web'));
    const { csrDer } = csrFor(identity);
    const rotated = createPki({ root: old.root, commonName: 'identity.linkerd.cluster.local' });
    const switched = new Promise<void>((resolve) => service.issuers.onChange(() => resolve()));

    const calls = Array.from({ length: 100 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 3)).then(() =>
        certify(client, { identity, token, certificateSigningRequest: csrDer }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    await replaceIssuer(kubeConfig, namespace, rotated);
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    for (const r of results) {
      const res = (r as PromiseFulfilledResult<Awaited<ReturnType<typeof certify>>>).value;
      expect(await opensslVerify(old.rootPem, res)).toMatch(/OK/);
    }
    await switched;
    const after = await certify(client, { identity, token, certificateSigningRequest: csrDer });
    expect(Buffer.from(after.intermediateCertificates[0]!)).toEqual(
      Buffer.from(rotated.issuer.certificate.der),
    );
    // Chains to the new issuer: verify with only the new issuer as intermediate.
    expect(
      await opensslVerify(old.rootPem, {
        ...after,
        intermediateCertificates: [rotated.issuer.certificate.der],
      } as typeof after),
    ).toMatch(/OK/);
    const metrics = (await admin(service, '/metrics')).text;
    expect(metrics).toMatch(/identity_issuer_updates_total 2/);
    expect(metrics).toContain(
      `identity_issuer_expiry_timestamp_seconds ${Math.floor(rotated.issuer.certificate.notAfter.getTime() / 1000)}`,
    );
  },
);

/** Re-sign a real ServiceAccount token with exp/iat/nbf in the past, using the API server's key. */
function expireToken(token: string): string {
  const [h, p] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, number>;
  const past = Math.floor(Date.now() / 1000) - 7200;
  const payload = Buffer.from(
    JSON.stringify({ ...claims, iat: past - 600, nbf: past - 600, exp: past }),
  ).toString('base64url');
  const key = readFileSync(join(dirname(testKubeconfigPath()), 'pki', 'sa.key'), 'utf8');
  const signature = createSign('RSA-SHA256').update(`${h}.${payload}`).sign(key).toString('base64url');
  return `${h}.${payload}.${signature}`;
}
