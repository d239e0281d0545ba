// What the TLS layer needs from identity: the workload's current certificate (renewed over time)
// and a way to hear about renewals. The identity client (src/identity) satisfies it; tests and
// static set-ups use createStaticCertificateSource.

export interface MeshCertificate {
  /** The identity (DNS SAN) the certificate carries. */
  readonly identity: string;
  /** Leaf then intermediates, PEM. */
  readonly certificateChainPem: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

export interface CertificateSource {
  /** The latest certificate, or undefined before the first one. */
  current(): MeshCertificate | undefined;
  /** Called on every new certificate; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

export function createStaticCertificateSource(cert: MeshCertificate): CertificateSource {
  return { current: () => cert, subscribe: () => () => undefined };
}
