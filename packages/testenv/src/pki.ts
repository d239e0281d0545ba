import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openssl } from './openssl.js';
import { TestEnvError } from './test-env-error.js';

/** A certificate authority on disk: PEM certificate and PKCS#8 private key. */
export interface CertificateAuthority {
  readonly certPath: string;
  readonly keyPath: string;
}

/** A certificate and its key on disk, plus the CA that signed it. */
export interface IssuedCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caCertPath: string;
}

export interface CreateCertificateAuthorityOptions {
  /** Directory to write `<name>.crt` and `<name>.key` into (created if missing). */
  dir: string;
  /** File name stem. Default `ca`. */
  name?: string;
  commonName: string;
  /** Default 365. */
  validityDays?: number;
}

export type CertificateUsage = 'server' | 'client' | 'server-and-client';

export interface IssueCertificateOptions {
  ca: CertificateAuthority;
  dir: string;
  /** File name stem: writes `<name>.crt` and `<name>.key`. */
  name: string;
  commonName: string;
  /** Subject O= values; for a Kubernetes client certificate these are the user's groups. */
  organizations?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  usage: CertificateUsage;
  /** Default 365. */
  validityDays?: number;
}

// Subject values are passed in openssl's `/K=V/K=V` syntax; keep them to characters that need no escaping.
const SAFE_SUBJECT_VALUE = /^[A-Za-z0-9 :._@-]+$/;

function subject(commonName: string, organizations: readonly string[] = []): string {
  for (const value of [commonName, ...organizations]) {
    if (!SAFE_SUBJECT_VALUE.test(value)) {
      throw new TestEnvError(
        'INVALID_ARGUMENT',
        `certificate subject value ${JSON.stringify(value)} has characters outside [A-Za-z0-9 :._@-]`,
      );
    }
  }
  return [...organizations.map((o) => `/O=${o}`), `/CN=${commonName}`].join('');
}

// A self-contained config so the result does not depend on the machine's openssl.cnf defaults.
const REQ_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

/** Creates a self-signed CA with an ECDSA P-256 key. */
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const name = options.name ?? 'ca';
  await mkdir(options.dir, { recursive: true });
  const keyPath = join(options.dir, `${name}.key`);
  const certPath = join(options.dir, `${name}.crt`);
  const configPath = join(options.dir, `${name}.cnf`);
  await writeFile(
    configPath,
    `${REQ_CONFIG}[ext]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign, digitalSignature\nsubjectKeyIdentifier = hash\n`,
  );
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyPath,
    '-subj',
    subject(options.commonName),
    '-days',
    String(options.validityDays ?? 365),
    '-config',
    configPath,
    '-extensions',
    'ext',
    '-set_serial',
    serial(),
    '-out',
    certPath,
  ]);
  await rm(configPath, { force: true });
  return { certPath, keyPath };
}

/** Issues a leaf certificate (ECDSA P-256 key) signed by `ca`. */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  await mkdir(options.dir, { recursive: true });
  const keyPath = join(options.dir, `${options.name}.key`);
  const certPath = join(options.dir, `${options.name}.crt`);
  const csrPath = join(options.dir, `${options.name}.csr`);
  const configPath = join(options.dir, `${options.name}.cnf`);
  const eku = { server: 'serverAuth', client: 'clientAuth', 'server-and-client': 'serverAuth, clientAuth' }[
    options.usage
  ];
  const sans = [
    ...(options.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const ext = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${eku}`,
    'authorityKeyIdentifier = keyid',
    ...(sans.length > 0 ? [`subjectAltName = ${sans.join(', ')}`] : []),
  ];
  await writeFile(configPath, `${REQ_CONFIG}[ext]\n${ext.join('\n')}\n`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await openssl([
    'req',
    '-new',
    '-key',
    keyPath,
    '-subj',
    subject(options.commonName, options.organizations),
    '-config',
    configPath,
    '-out',
    csrPath,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    options.ca.certPath,
    '-CAkey',
    options.ca.keyPath,
    '-set_serial',
    serial(),
    '-days',
    String(options.validityDays ?? 365),
    '-extfile',
    configPath,
    '-extensions',
    'ext',
    '-out',
    certPath,
  ]);
  await Promise.all([rm(csrPath, { force: true }), rm(configPath, { force: true })]);
  return { certPath, keyPath, caCertPath: options.ca.certPath };
}

function serial(): string {
  // Positive 63-bit serial: unique per certificate, so no openssl serial file is needed.
  const bytes = randomBytes(8);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** The files of a test environment's PKI (all PEM). */
export interface ControlPlanePki {
  readonly dir: string;
  /** Cluster CA: signs the apiserver serving certificate and all client certificates. */
  readonly ca: CertificateAuthority;
  readonly apiserver: IssuedCertificate;
  /** `CN=admin, O=system:masters`. */
  readonly admin: IssuedCertificate;
  /** `CN=system:kube-controller-manager` (bound by the bootstrap RBAC policy). */
  readonly controllerManager: IssuedCertificate;
  /** Request-header (front proxy) CA and the client the aggregator proxies with. */
  readonly frontProxyCa: CertificateAuthority;
  readonly frontProxyClient: IssuedCertificate;
  /** Service-account token signing key (RSA 2048, PKCS#8) and its public key (SPKI). */
  readonly serviceAccountKeyPath: string;
  readonly serviceAccountPublicKeyPath: string;
}

export interface GenerateControlPlanePkiOptions {
  dir: string;
  /** First address of the service CIDR: the `kubernetes` Service's ClusterIP, put in the serving cert. */
  kubernetesServiceIp: string;
  /** More IP SANs of the serving cert, e.g. a node address the apiserver is reached at. */
  apiserverIpAddresses?: readonly string[];
}

/** Generates a fresh PKI for one control plane with the real openssl. */
export async function generateControlPlanePki(
  options: GenerateControlPlanePkiOptions,
): Promise<ControlPlanePki> {
  const { dir } = options;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, frontProxyCa] = await Promise.all([
    createCertificateAuthority({ dir, name: 'ca', commonName: 'tsmesh-testenv-ca' }),
    createCertificateAuthority({ dir, name: 'front-proxy-ca', commonName: 'tsmesh-testenv-front-proxy-ca' }),
  ]);
  const serviceAccountKeyPath = join(dir, 'sa.key');
  const serviceAccountPublicKeyPath = join(dir, 'sa.pub');
  const [apiserver, admin, controllerManager, frontProxyClient] = await Promise.all([
    issueCertificate({
      ca,
      dir,
      name: 'apiserver',
      commonName: 'kube-apiserver',
      usage: 'server',
      ipAddresses: ['127.0.0.1', options.kubernetesServiceIp, ...(options.apiserverIpAddresses ?? [])],
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
    }),
    issueCertificate({
      ca,
      dir,
      name: 'admin',
      commonName: 'admin',
      organizations: ['system:masters'],
      usage: 'client',
    }),
    issueCertificate({
      ca,
      dir,
      name: 'kube-controller-manager',
      commonName: 'system:kube-controller-manager',
      usage: 'client',
    }),
    issueCertificate({
      ca: frontProxyCa,
      dir,
      name: 'front-proxy-client',
      commonName: 'front-proxy-client',
      usage: 'client',
    }),
    (async () => {
      await openssl([
        'genpkey',
        '-algorithm',
        'RSA',
        '-pkeyopt',
        'rsa_keygen_bits:2048',
        '-out',
        serviceAccountKeyPath,
      ]);
      await openssl(['pkey', '-in', serviceAccountKeyPath, '-pubout', '-out', serviceAccountPublicKeyPath]);
    })(),
  ]);
  return {
    dir,
    ca,
    apiserver,
    admin,
    controllerManager,
    frontProxyCa,
    frontProxyClient,
    serviceAccountKeyPath,
    serviceAccountPublicKeyPath,
  };
}
