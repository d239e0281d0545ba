// Channel credentials for the proxy's gRPC clients to the control plane (identity, destination,
// policy). As in Linkerd, a control-plane service configured with `*_SVC_ADDR` and `*_SVC_NAME`
// is reached over TLS: the server must present a certificate for exactly `*_SVC_NAME` chaining to
// the trust anchors, and SNI carries that name (a Linkerd control plane's own proxy routes on
// it). Destination and policy also get the workload certificate (mutual TLS, renewed in place);
// identity does not, since the proxy certifies before it has one. A loopback address (the local
// control plane, see the local-mode contract) is plaintext.
import { credentials, experimental, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { MeshError, MeshErrorCode, ProxyEnv } from '@tsmesh/core/data-plane';
import type { ControlService, IdentityConfig } from '../config/index.js';
import type { CertificateSource } from './certificate-source.js';
import { dnsSans } from './mesh-tls.js';

export type ControlPlaneServiceKind = 'identity' | 'destination' | 'policy';

/** What the credentials need from the proxy config (a ProxyConfig satisfies it). */
export interface ControlPlaneConfig {
  readonly identity: IdentityConfig;
  readonly destination?: ControlService | undefined;
  readonly policy?: ControlService | undefined;
}

export interface ControlPlaneChannel {
  readonly service: ControlPlaneServiceKind;
  /** The gRPC target, host:port. */
  readonly address: string;
  /** The identity the server must present (`*_SVC_NAME`). */
  readonly serverName: string;
  readonly tls: boolean;
  readonly credentials: ChannelCredentials;
  /** Pass to the client constructor: carries the TLS server name (SNI and verification). */
  readonly channelOptions: ChannelOptions;
}

const SVC_NAME_VAR: Record<ControlPlaneServiceKind, string> = {
  identity: ProxyEnv.IdentitySvcName,
  destination: ProxyEnv.DestinationSvcName,
  policy: ProxyEnv.PolicySvcName,
};

/**
 * How soon a channel to the control plane tries again, for its connections, its name resolution
 * and its load balancer alike. gRPC's defaults (1 s growing to 120 s, names re-resolved at most
 * every 30 s) let a proxy that saw the control plane down for two minutes wait up to two more
 * after it came back, with the new pods' addresses unknown meanwhile: on the cluster a policy
 * change after a restart of the destination controller reached the proxies only minutes later.
 * The proxy's own watch backoff (policy, discovery) is at most 10 s; the channel's is the same.
 */
export const CONTROL_PLANE_RECONNECT: ChannelOptions = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 10_000,
  'grpc.dns_min_time_between_resolutions_ms': 5_000,
});

/** Loopback literal or `localhost`, also fully qualified (`localhost.`, as Linkerd's chart renders the identity address). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

/** The CA side of grpc-js's certificate provider: the trust anchors, fixed. */
function anchorsProvider(trustAnchorsPem: string): experimental.CertificateProvider {
  const update = { caCertificate: Buffer.from(trustAnchorsPem) };
  return {
    addCaCertificateListener: (listener) => listener(update),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: () => undefined,
    removeIdentityCertificateListener: () => undefined,
  };
}

/** The client-certificate side: the workload certificate, following renewals. */
function workloadProvider(source: CertificateSource): experimental.CertificateProvider {
  const unsubscribers = new Map<experimental.IdentityCertificateUpdateListener, () => void>();
  const push = (listener: experimental.IdentityCertificateUpdateListener) => {
    const cert = source.current();
    if (cert) {
      listener({
        certificate: Buffer.from(cert.certificateChainPem),
        privateKey: Buffer.from(cert.privateKeyPem),
      });
    }
  };
  return {
    addCaCertificateListener: () => undefined,
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener(listener) {
      push(listener);
      unsubscribers.set(
        listener,
        source.subscribe(() => push(listener)),
      );
    },
    removeIdentityCertificateListener(listener) {
      unsubscribers.get(listener)?.();
      unsubscribers.delete(listener);
    },
  };
}

/**
 * TLS credentials that accept only a server presenting `serverName` (its DNS SAN) under the
 * anchors; with `certificates`, the workload certificate is presented too.
 */
export function createControlPlaneTlsCredentials(
  serverName: string,
  trustAnchorsPem: string,
  certificates?: CertificateSource,
): { credentials: ChannelCredentials; channelOptions: ChannelOptions } {
  const verify = {
    checkServerIdentity: (_host: string, cert: Parameters<typeof dnsSans>[0]) => {
      const sans = dnsSans(cert);
      return sans.includes(serverName)
        ? undefined
        : new Error(`the server presented ${JSON.stringify(sans)}, not ${serverName}`);
    },
  };
  return {
    credentials: experimental.createCertificateProviderChannelCredentials(
      anchorsProvider(trustAnchorsPem),
      certificates ? workloadProvider(certificates) : null,
      verify,
    ),
    channelOptions: { 'grpc.ssl_target_name_override': serverName },
  };
}

/**
 * The channel to one control-plane service, or undefined when it is not configured. Throws
 * MeshError (config) when TLS is needed and there are no trust anchors.
 */
export function controlPlaneChannelCredentials(
  config: ControlPlaneConfig,
  service: ControlPlaneServiceKind,
  certificates?: CertificateSource,
): ControlPlaneChannel | undefined {
  const svc = service === 'identity' ? config.identity.service : config[service];
  if (svc === undefined) return undefined;
  const host = svc.addr.host.includes(':') ? `[${svc.addr.host}]` : svc.addr.host;
  const address = `${host}:${svc.addr.port}`;
  const base = { service, address, serverName: svc.name };
  if (isLoopbackHost(svc.addr.host)) {
    return Object.freeze({
      ...base,
      tls: false,
      credentials: credentials.createInsecure(),
      channelOptions: CONTROL_PLANE_RECONNECT,
    });
  }
  const anchors = config.identity.trustAnchorsPem;
  if (anchors === undefined) {
    throw new MeshError(MeshErrorCode.Config, `TLS to the ${service} service needs trust anchors`, {
      where: ProxyEnv.IdentityTrustAnchors,
      hint: `set it (PEM), or give ${SVC_NAME_VAR[service]}'s service a loopback address for a local plaintext control plane`,
    });
  }
  const tls = createControlPlaneTlsCredentials(
    svc.name,
    anchors,
    service === 'identity' ? undefined : certificates,
  );
  return Object.freeze({
    ...base,
    tls: true,
    credentials: tls.credentials,
    channelOptions: { ...CONTROL_PLANE_RECONNECT, ...tls.channelOptions },
  });
}
