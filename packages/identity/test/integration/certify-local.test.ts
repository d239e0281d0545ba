// Local mode: issuer from a directory (rotated by rewriting the files), tokens minted by the local
// control plane. No Kubernetes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { expect, onTestFinished, test } from 'vitest';
import {
  createLocalTokenIssuer,
  createLocalTokenValidator,
  silentLogger,
  startIdentityService,
} from '../../src/index.js';
import {
  certify,
  certifyError,
  createPki,
  csrFor,
  identityClient,
  opensslVerify,
  type Pki,
} from './support.js';

function writeIssuerDir(dir: string, pki: Pki) {
  writeFileSync(join(dir, 'crt.pem'), pki.issuerCrtPem);
  writeFileSync(join(dir, 'key.pem'), pki.issuerKeyPem);
  writeFileSync(join(dir, 'ca.crt'), pki.rootPem);
}

test('certifies local tokens with an issuer from files, and follows a rotation of the files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-local-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const pki = createPki();
  writeIssuerDir(dir, pki);
  const tokens = createLocalTokenIssuer();
  const service = await startIdentityService({
    trustDomain: 'cluster.local',
    controlPlaneNamespace: 'linkerd',
    issuerSource: { kind: 'files', issuerDir: dir, pollIntervalMs: 100 },
    tokenValidator: createLocalTokenValidator({ publicKey: tokens.publicKey }),
    registry: new Registry(),
    logger: silentLogger,
    grpcPort: 0,
    adminPort: false,
  });
  onTestFinished(() => service.close());
  const client = identityClient(service.grpcPort);
  onTestFinished(() => client.close());

  const identity = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
  const token = Buffer.from(tokens.mint({ namespace: 'emojivoto', serviceAccount: 'web' }));
  const { csrDer } = csrFor(identity);
  const first = await certify(client, { identity, token, certificateSigningRequest: csrDer });
  expect(await opensslVerify(pki.rootPem, first)).toMatch(/OK/);

  const denied = await certifyError(client, {
    identity,
    token: Buffer.from(tokens.mint({ namespace: 'emojivoto', serviceAccount: 'voting' })),
    certificateSigningRequest: csrDer,
  });
  expect(denied.code).toBe(status.PERMISSION_DENIED);
  const foreign = await certifyError(client, {
    identity,
    token: Buffer.from(createLocalTokenIssuer().mint({ namespace: 'emojivoto', serviceAccount: 'web' })),
    certificateSigningRequest: csrDer,
  });
  expect(foreign.code).toBe(status.UNAUTHENTICATED);

  // An expired issuer written to the directory is refused; the old one keeps serving.
  const expired = createPki({ root: pki.root, issuerLifetimeMs: 1 });
  await new Promise((r) => setTimeout(r, 30));
  writeIssuerDir(dir, expired);
  await new Promise((r) => setTimeout(r, 400));
  const still = await certify(client, { identity, token, certificateSigningRequest: csrDer });
  expect(Buffer.from(still.intermediateCertificates[0]!)).toEqual(Buffer.from(pki.issuer.certificate.der));

  const rotated = createPki({ root: pki.root });
  writeIssuerDir(dir, rotated);
  await expect
    .poll(
      async () =>
        Buffer.from(
          (await certify(client, { identity, token, certificateSigningRequest: csrDer }))
            .intermediateCertificates[0]!,
        ),
      {
        timeout: 5_000,
      },
    )
    .toEqual(Buffer.from(rotated.issuer.certificate.der));
});
