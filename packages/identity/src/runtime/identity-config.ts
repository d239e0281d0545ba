// The identity binary's configuration, parsed once from flags and an environment source into a
// frozen, validated object. Flags win over environment variables. Nothing else reads process.env.
import { parseArgs } from 'node:util';
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';

export interface IdentityConfig {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly trustDomain: string;
  readonly controlPlaneNamespace: string;
  /** Issuer from a directory (crt.pem/key.pem or tls.crt/tls.key) … */
  readonly issuerDir: string | undefined;
  readonly trustAnchorsFile: string | undefined;
  /** … or from the Kubernetes Secret (when issuerDir is not set). */
  readonly kubeconfig: string | undefined;
  /** Local mode: validate tokens minted by the local control plane with this public key (PEM file). */
  readonly localTokenPublicKeyFile: string | undefined;
  readonly issuanceLifetimeMs: number;
  readonly clockSkewMs: number;
  /** Successful token validations cached (until the token expires); 0 turns the cache off. */
  readonly tokenCacheSize: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Serve gRPC over TLS with a certificate for the service's own identity name. */
  readonly tls: boolean;
  /** That name; default linkerd-identity.<ns>.serviceaccount.identity.<ns>.<trust domain>. */
  readonly tlsServerName: string | undefined;
}

/** Environment variable names, next to the flag each one backs. */
export const IdentityEnv = {
  Addr: 'TSMESH_IDENTITY_ADDR',
  AdminAddr: 'TSMESH_IDENTITY_ADMIN_ADDR',
  TrustDomain: 'TSMESH_IDENTITY_TRUST_DOMAIN',
  ControllerNamespace: 'TSMESH_IDENTITY_CONTROLLER_NAMESPACE',
  IssuerDir: 'TSMESH_IDENTITY_ISSUER_DIR',
  TrustAnchors: 'TSMESH_IDENTITY_TRUST_ANCHORS',
  Kubeconfig: 'KUBECONFIG',
  LocalTokenKey: 'TSMESH_IDENTITY_LOCAL_TOKEN_KEY',
  IssuanceLifetime: 'TSMESH_IDENTITY_ISSUANCE_LIFETIME',
  ClockSkew: 'TSMESH_IDENTITY_CLOCK_SKEW_ALLOWANCE',
  TokenCacheSize: 'TSMESH_IDENTITY_TOKEN_CACHE_SIZE',
  LogLevel: 'TSMESH_IDENTITY_LOG_LEVEL',
  Tls: 'TSMESH_IDENTITY_TLS',
  TlsServerName: 'TSMESH_IDENTITY_TLS_SERVER_NAME',
} as const;

export const IDENTITY_USAGE = `Usage: tsmesh-identity [options]

The tsmesh identity service: io.linkerd.proxy.identity.Identity/Certify.

  --addr HOST:PORT                 gRPC address (default 127.0.0.1:8080)       ${IdentityEnv.Addr}
  --admin-addr HOST:PORT           /metrics /ready /live (default 127.0.0.1:9990) ${IdentityEnv.AdminAddr}
  --trust-domain NAME              (default cluster.local)                     ${IdentityEnv.TrustDomain}
  --controller-namespace NS        control-plane namespace (default linkerd)   ${IdentityEnv.ControllerNamespace}
  --issuer-dir DIR                 issuer crt.pem/key.pem or tls.crt/tls.key;  ${IdentityEnv.IssuerDir}
                                   without it the issuer is read from the Secret
                                   linkerd-identity-issuer in the controller namespace
  --trust-anchors FILE             trust anchors PEM (default DIR/ca.crt; in   ${IdentityEnv.TrustAnchors}
                                   Kubernetes: ConfigMap linkerd-identity-trust-roots)
  --kubeconfig FILE                (default in-cluster or ~/.kube/config)      ${IdentityEnv.Kubeconfig}
  --local-token-key FILE           local mode: validate tokens with this ES256 ${IdentityEnv.LocalTokenKey}
                                   public key instead of TokenReview
  --issuance-lifetime DURATION     leaf lifetime (default 24h)                 ${IdentityEnv.IssuanceLifetime}
  --clock-skew-allowance DURATION  not-before backdating (default 20s)         ${IdentityEnv.ClockSkew}
  --token-cache-size N             cached token reviews (default 10000; 0: off) ${IdentityEnv.TokenCacheSize}
  --log-level LEVEL                debug|info|warn|error (default info)        ${IdentityEnv.LogLevel}
  --tls                            serve gRPC over TLS with a certificate for  ${IdentityEnv.Tls}=true
                                   the service's own identity, from its issuer
  --tls-server-name NAME           that identity (default linkerd-identity.    ${IdentityEnv.TlsServerName}
                                   <ns>.serviceaccount.identity.<ns>.<domain>)
  -h, --help
`;

export type EnvSource = Readonly<Record<string, string | undefined>>;

export function parseIdentityConfig(argv: readonly string[], env: EnvSource): IdentityConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        addr: { type: 'string' },
        'admin-addr': { type: 'string' },
        'trust-domain': { type: 'string' },
        'controller-namespace': { type: 'string' },
        'issuer-dir': { type: 'string' },
        'trust-anchors': { type: 'string' },
        kubeconfig: { type: 'string' },
        'local-token-key': { type: 'string' },
        'issuance-lifetime': { type: 'string' },
        'clock-skew-allowance': { type: 'string' },
        'token-cache-size': { type: 'string' },
        'log-level': { type: 'string' },
        tls: { type: 'boolean' },
        'tls-server-name': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, (err as Error).message, { hint: 'see tsmesh-identity --help' });
  }
  if (values.help) return 'help';
  const pick = (flag: keyof typeof values, name: string) => (values[flag] as string | undefined) ?? env[name];
  const [grpcHost, grpcPort] = parseAddr(pick('addr', IdentityEnv.Addr) ?? '127.0.0.1:8080', '--addr');
  const [adminHost, adminPort] = parseAddr(
    pick('admin-addr', IdentityEnv.AdminAddr) ?? '127.0.0.1:9990',
    '--admin-addr',
  );
  const logLevel = pick('log-level', IdentityEnv.LogLevel) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new MeshError(MeshErrorCode.Config, `unknown log level "${logLevel}"`, {
      where: '--log-level',
      hint: 'use debug, info, warn or error',
    });
  }
  return Object.freeze({
    grpcHost,
    grpcPort,
    adminHost,
    adminPort,
    trustDomain: pick('trust-domain', IdentityEnv.TrustDomain) ?? 'cluster.local',
    controlPlaneNamespace: pick('controller-namespace', IdentityEnv.ControllerNamespace) ?? 'linkerd',
    issuerDir: pick('issuer-dir', IdentityEnv.IssuerDir),
    trustAnchorsFile: pick('trust-anchors', IdentityEnv.TrustAnchors),
    kubeconfig: pick('kubeconfig', IdentityEnv.Kubeconfig),
    localTokenPublicKeyFile: pick('local-token-key', IdentityEnv.LocalTokenKey),
    issuanceLifetimeMs: parseDuration(
      pick('issuance-lifetime', IdentityEnv.IssuanceLifetime) ?? '24h',
      '--issuance-lifetime',
    ),
    clockSkewMs: parseDuration(
      pick('clock-skew-allowance', IdentityEnv.ClockSkew) ?? '20s',
      '--clock-skew-allowance',
    ),
    tokenCacheSize: parseCount(
      pick('token-cache-size', IdentityEnv.TokenCacheSize) ?? '10000',
      '--token-cache-size',
    ),
    logLevel: logLevel as IdentityConfig['logLevel'],
    tls: values.tls === true || env[IdentityEnv.Tls] === 'true',
    tlsServerName: pick('tls-server-name', IdentityEnv.TlsServerName),
  });
}

function parseAddr(text: string, where: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new MeshError(MeshErrorCode.Config, `"${text}" is not HOST:PORT`, {
      where,
      hint: 'e.g. 127.0.0.1:8080',
    });
  }
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return [host === '' ? '127.0.0.1' : host, port];
}

function parseCount(text: string, where: string): number {
  if (!/^\d{1,9}$/.test(text)) {
    throw new MeshError(MeshErrorCode.Config, `"${text}" is not a non-negative integer`, { where });
  }
  return Number(text);
}

const GO_DURATION_UNITS = ['ms', 's', 'm', 'h'] as const;

/** A positive Go-style duration in core's syntax (24h, 90m, 1h30m, 20s, 500ms), in milliseconds. */
export function parseDuration(text: string, where: string): number {
  const ms = parseDurationMs(text, { units: GO_DURATION_UNITS });
  if (ms === undefined || ms <= 0) {
    throw new MeshError(MeshErrorCode.Config, `"${text}" is not a positive duration`, {
      where,
      hint: 'e.g. 24h, 90m, 20s',
    });
  }
  return ms;
}
