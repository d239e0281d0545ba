// The raw inputs of an issuer, as a source read them: PEM text, not yet parsed or trusted.
// Sources (files, Kubernetes) produce these; the issuer store parses, validates and switches.

export interface IssuerMaterial {
  /** The issuer certificate, optionally followed by intermediates up to (not including) an anchor. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The trust anchors (one or more PEM certificates). */
  readonly trustAnchorsPem: string;
  /** Where this came from, for logs: a directory, `secret/<ns>/<name>@<resourceVersion>`. */
  readonly origin: string;
}

/** Secret data keys of the two layouts Linkerd accepts. */
export const IssuerSecretKeys = {
  /** scheme linkerd.io/tls (Linkerd's own install). */
  LinkerdCrt: 'crt.pem',
  LinkerdKey: 'key.pem',
  /** scheme kubernetes.io/tls (cert-manager and friends). */
  TlsCrt: 'tls.crt',
  TlsKey: 'tls.key',
  TlsCa: 'ca.crt',
} as const;

export const ISSUER_SECRET_NAME = 'linkerd-identity-issuer';
export const TRUST_ROOTS_CONFIGMAP_NAME = 'linkerd-identity-trust-roots';
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';

/**
 * Pick the certificate and key out of a Secret's data (values already base64-decoded) in either
 * layout. Returns a description of what is missing instead of throwing, for the caller to log.
 */
export function readIssuerSecretData(
  data: Readonly<Record<string, string>>,
): { certificatePem: string; privateKeyPem: string; caPem: string | undefined } | { missing: string } {
  const crt = data[IssuerSecretKeys.TlsCrt] ?? data[IssuerSecretKeys.LinkerdCrt];
  const key = data[IssuerSecretKeys.TlsKey] ?? data[IssuerSecretKeys.LinkerdKey];
  if (!crt || !key) {
    return {
      missing: `the Secret needs ${IssuerSecretKeys.TlsCrt}/${IssuerSecretKeys.TlsKey} (kubernetes.io/tls) or ${IssuerSecretKeys.LinkerdCrt}/${IssuerSecretKeys.LinkerdKey} (linkerd.io/tls); it has [${Object.keys(data).join(', ')}]`,
    };
  }
  return { certificatePem: crt, privateKeyPem: key, caPem: data[IssuerSecretKeys.TlsCa] };
}
