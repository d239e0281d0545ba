// Certificates for control-plane test servers: a leaf for a service's identity name (its one DNS
// SAN) issued by a test issuer, as the identity service issues its own serving certificate.
import { ServerCredentials } from '@grpc/grpc-js';
import {
  createCertificateRequest,
  formatPrivateKey,
  generateKeyPair,
  issueLeafCertificate,
  type Issuer,
} from '@tsmesh/core';

export interface IssuedIdentity {
  readonly identity: string;
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export function issueIdentity(issuer: Issuer, name: string): IssuedIdentity {
  const { privateKey } = generateKeyPair();
  const csr = createCertificateRequest({ identity: name, privateKey, commonName: false });
  const leaf = issueLeafCertificate({
    issuer,
    csr: csr.der,
    identity: name,
    lifetimeMs: 3600_000,
    clockSkewMs: 0,
  });
  return {
    identity: name,
    certificateChainPem: leaf.certificate.pem + leaf.intermediates.map((c) => c.pem).join(''),
    privateKeyPem: formatPrivateKey(privateKey),
  };
}

/** TLS server credentials presenting `name`; with `clientCaPem`, client certificates are required. */
export function servingCredentials(issuer: Issuer, name: string, clientCaPem?: string): ServerCredentials {
  const cert = issueIdentity(issuer, name);
  return ServerCredentials.createSsl(
    clientCaPem === undefined ? null : Buffer.from(clientCaPem),
    [{ cert_chain: Buffer.from(cert.certificateChainPem), private_key: Buffer.from(cert.privateKeyPem) }],
    clientCaPem !== undefined,
  );
}
