// TLS on the identity gRPC port: the service serves a certificate for its own identity name,
// issued by its issuer and chaining to the trust anchors, so a proxy can verify it is talking to
// the identity service (as Linkerd's proxies do) before it holds a certificate of its own.
import { credentials, status } from '@grpc/grpc-js';
import { IdentityClient } from '@tsmesh/core';
import { Registry } from 'prom-client';
import { expect, onTestFinished, test } from 'vitest';
import {
  createLocalTokenIssuer,
  createLocalTokenValidator,
  silentLogger,
  startIdentityService,
} from '../../src/index.js';
import { certify, certifyError, createPki, csrFor } from './support.js';

const SERVER_NAME = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';

test('serves Certify over TLS with a certificate for linkerd-identity, verified against the anchors', async () => {
  const pki = createPki();
  const tokens = createLocalTokenIssuer();
  const service = await startIdentityService({
    trustDomain: 'cluster.local',
    controlPlaneNamespace: 'linkerd',
    issuerSource: {
      kind: 'static',
      material: {
        certificatePem: pki.issuerCrtPem,
        privateKeyPem: pki.issuerKeyPem,
        trustAnchorsPem: pki.rootPem,
        origin: 'test',
      },
    },
    tokenValidator: createLocalTokenValidator({ publicKey: tokens.publicKey }),
    registry: new Registry(),
    logger: silentLogger,
    grpcPort: 0,
    adminPort: false,
    tls: {},
  });
  onTestFinished(() => service.close());
  expect(service.tlsServerName).toBe(SERVER_NAME);

  const tlsClient = (name: string) =>
    new IdentityClient(`127.0.0.1:${service.grpcPort}`, credentials.createSsl(Buffer.from(pki.rootPem)), {
      'grpc.ssl_target_name_override': name,
    });
  const identity = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
  const request = {
    identity,
    token: Buffer.from(tokens.mint({ namespace: 'emojivoto', serviceAccount: 'web' })),
    certificateSigningRequest: csrFor(identity).csrDer,
  };
  const good = tlsClient(SERVER_NAME);
  onTestFinished(() => good.close());
  expect((await certify(good, request)).leafCertificate.length).toBeGreaterThan(0);

  // Another name, or plaintext, does not get through.
  const wrong = tlsClient('linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local');
  onTestFinished(() => wrong.close());
  expect((await certifyError(wrong, request)).code).toBe(status.UNAVAILABLE);
  const plain = new IdentityClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
  onTestFinished(() => plain.close());
  expect((await certifyError(plain, request)).code).toBe(status.UNAVAILABLE);
});
