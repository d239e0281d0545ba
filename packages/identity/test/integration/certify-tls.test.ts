// TLS on the identity gRPC port: the service serves a certificate for its own identity name,
// issued by its issuer and chaining to the trust anchors, so a proxy can verify it is talking to
// the identity service (as Linkerd's proxies do) before it holds a certificate of its own.
import { connect as tlsConnect } from 'node:tls';
import { credentials, status } from '@grpc/grpc-js';
import { IdentityClient } from '@tsmesh/core';
import { Registry } from 'prom-client';
import { expect, onTestFinished, test } from 'vitest';
import {
  createLocalTokenIssuer,
  createLocalTokenValidator,
  silentLogger,
  startIdentityService,
  type LocalTokenIssuer,
} from '../../src/index.js';
import { certify, certifyError, createPki, csrFor, type Pki } from './support.js';

const SERVER_NAME = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';

/** The identity service with TLS on, its issuer from `pki`. */
async function startTlsService(pki: Pki, tokens: LocalTokenIssuer) {
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
  return service;
}

test('serves Certify over TLS with a certificate for linkerd-identity, verified against the anchors', async () => {
  const pki = createPki();
  const tokens = createLocalTokenIssuer();
  const service = await startTlsService(pki, tokens);
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

/** The serving certificate's issuer (CN) as a TLS client sees it. */
function servingIssuer(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, ca, servername: SERVER_NAME, ALPNProtocols: ['h2'] },
      () => {
        const issuer = socket.getPeerCertificate().issuer;
        socket.destroy();
        resolve(JSON.stringify(issuer));
      },
    );
    socket.once('error', reject);
  });
}

test('re-issues its serving certificate when the issuer rotates, without a restart', async () => {
  const pki = createPki({ commonName: 'issuer-one' });
  const tokens = createLocalTokenIssuer();
  const service = await startTlsService(pki, tokens);
  await expect.poll(() => servingIssuer(service.grpcPort, pki.rootPem)).toContain('issuer-one');
  const rotated = createPki({ root: pki.root, commonName: 'issuer-two' });
  service.issuers.offer({
    certificatePem: rotated.issuerCrtPem,
    privateKeyPem: rotated.issuerKeyPem,
    trustAnchorsPem: pki.rootPem,
    origin: 'two',
  });
  await expect.poll(() => servingIssuer(service.grpcPort, pki.rootPem)).toContain('issuer-two');
});
