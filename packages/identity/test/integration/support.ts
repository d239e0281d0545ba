// Shared pieces of the identity integration tests: a PKI made with the identity library, the
// issuer Secret and trust-roots ConfigMap in a namespace, ServiceAccount tokens from TokenRequest,
// Certify calls through the real gRPC client, and `openssl verify`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  createCertificateRequest,
  createIntermediateCertificate,
  createRootCertificate,
  encodePem,
  formatPrivateKey,
  generateKeyPair,
  IdentityClient,
  type identity as api,
  type Issuer,
} from '@tsmesh/core';

const execFileAsync = promisify(execFile);

export interface Pki {
  readonly root: Issuer;
  readonly issuer: Issuer;
  readonly rootPem: string;
  readonly issuerCrtPem: string;
  readonly issuerKeyPem: string;
}

export function createPki(
  options: { issuerLifetimeMs?: number; commonName?: string; root?: Issuer } = {},
): Pki {
  const root = options.root ?? createRootCertificate();
  const issuer = createIntermediateCertificate({
    issuer: root,
    lifetimeMs: options.issuerLifetimeMs,
    commonName: options.commonName,
  });
  return {
    root,
    issuer,
    rootPem: root.certificate.pem,
    issuerCrtPem: issuer.certificate.pem,
    issuerKeyPem: formatPrivateKey(issuer.privateKey),
  };
}

export type SecretLayout = 'linkerd.io/tls' | 'kubernetes.io/tls';

export function issuerSecretData(pki: Pki, layout: SecretLayout): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return layout === 'linkerd.io/tls'
    ? { 'crt.pem': b64(pki.issuerCrtPem), 'key.pem': b64(pki.issuerKeyPem) }
    : { 'tls.crt': b64(pki.issuerCrtPem), 'tls.key': b64(pki.issuerKeyPem), 'ca.crt': b64(pki.rootPem) };
}

export async function installIssuer(
  kc: KubeConfig,
  namespace: string,
  pki: Pki,
  layout: SecretLayout = 'linkerd.io/tls',
) {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'linkerd-identity-trust-roots' }, data: { 'ca-bundle.crt': pki.rootPem } },
  });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'linkerd-identity-issuer' },
      type: layout === 'linkerd.io/tls' ? 'Opaque' : 'kubernetes.io/tls',
      data: issuerSecretData(pki, layout),
    },
  });
}

export async function replaceIssuer(
  kc: KubeConfig,
  namespace: string,
  pki: Pki,
  layout: SecretLayout = 'linkerd.io/tls',
) {
  const core = kc.makeApiClient(CoreV1Api);
  const current = await core.readNamespacedSecret({ name: 'linkerd-identity-issuer', namespace });
  await core.replaceNamespacedSecret({
    name: 'linkerd-identity-issuer',
    namespace,
    body: { ...current, data: issuerSecretData(pki, layout) },
  });
}

export async function serviceAccountToken(
  kc: KubeConfig,
  namespace: string,
  name: string,
  audience = 'identity.l5d.io',
) {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const res = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [audience], expirationSeconds: 3600 } },
  });
  return res.status!.token;
}

export function identityOf(namespace: string, sa: string, controlPlaneNamespace: string) {
  return `${sa}.${namespace}.serviceaccount.identity.${controlPlaneNamespace}.cluster.local`;
}

export function csrFor(identity: string) {
  const { privateKey } = generateKeyPair();
  return { privateKey, csrDer: createCertificateRequest({ identity, privateKey, commonName: false }).der };
}

export function identityClient(port: number): IdentityClient {
  return new IdentityClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

export function certify(
  client: IdentityClient,
  request: api.CertifyRequest.$Properties,
): Promise<api.CertifyResponse> {
  return new Promise((resolve, reject) =>
    client.certify(request, { deadline: new Date(Date.now() + 15_000) }, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );
}

export async function certifyError(
  client: IdentityClient,
  request: api.CertifyRequest.$Properties,
): Promise<ServiceError> {
  try {
    await certify(client, request);
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('Certify succeeded where it should have failed');
}

/** `openssl verify -CAfile anchors -untrusted intermediates leaf`: resolves with openssl's output, rejects if it fails. */
export async function opensslVerify(anchorsPem: string, response: api.CertifyResponse): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'identity-verify-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), anchorsPem);
    writeFileSync(join(dir, 'leaf.pem'), encodePem('CERTIFICATE', response.leafCertificate));
    writeFileSync(
      join(dir, 'chain.pem'),
      response.intermediateCertificates.map((der) => encodePem('CERTIFICATE', der)).join(''),
    );
    const { stdout } = await execFileAsync('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'ca.pem'),
      '-untrusted',
      join(dir, 'chain.pem'),
      '-purpose',
      'sslclient',
      join(dir, 'leaf.pem'),
    ]);
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
