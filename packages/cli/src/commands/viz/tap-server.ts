// `tsmesh viz tap-server`: the tap Deployment's process in a cluster. It is the aggregated API
// server behind APIService v1alpha1.tap.linkerd.io (HTTPS with tap-k8s-tls; the aggregator's
// request-header settings read from kube-system/extension-apiserver-authentication, as any
// extension API server), authorizes each tap with a SubjectAccessReview, lists pods through the
// Kubernetes API, and taps proxies as the `tap` ServiceAccount's mesh identity — a certificate it
// asks the identity service for with its ServiceAccount token (Identity.Certify, renewed as a
// proxy renews its own), checked against linkerd-identity-trust-roots.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DEFAULT_IDENTITY_TOKEN_FILE, MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { startProxyIdentity } from '@tsmesh/proxy';
import {
  createSubjectAccessReviewAuthorizer,
  createTapService,
  startTapApiServer,
  tapIdentity,
  type TapApiServer,
  type TapClientTls,
} from '@tsmesh/viz';

/** The aggregator's request-header authentication, as kube-apiserver publishes it. */
export interface RequestHeaderConfig {
  readonly clientCaPem: string;
  readonly allowedNames: readonly string[];
  readonly usernameHeader: string;
  readonly groupHeader: string;
}

const firstOf = (json: string | undefined, fallback: string) => {
  try {
    const list = JSON.parse(json ?? '[]') as string[];
    return list[0]?.toLowerCase() ?? fallback;
  } catch {
    return fallback;
  }
};

export async function readRequestHeaderConfig(
  client: KubeApiClient,
  signal?: AbortSignal,
): Promise<RequestHeaderConfig> {
  const cm = await client.get<KubeObject & { data?: Record<string, string> }>(
    CoreKinds.ConfigMap,
    { namespace: 'kube-system', name: 'extension-apiserver-authentication' },
    signal ? { signal } : {},
  );
  const d = cm.data ?? {};
  const clientCaPem = d['requestheader-client-ca-file'];
  if (!clientCaPem)
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      'the apiserver publishes no requestheader client CA',
      {
        where: 'kube-system/extension-apiserver-authentication',
        hint: 'start kube-apiserver with --requestheader-client-ca-file (the aggregation layer)',
      },
    );
  let allowedNames: string[] = [];
  try {
    allowedNames = JSON.parse(d['requestheader-allowed-names'] ?? '[]') as string[];
  } catch {
    allowedNames = [];
  }
  return {
    clientCaPem,
    allowedNames,
    usernameHeader: firstOf(d['requestheader-username-headers'], 'x-remote-user'),
    groupHeader: firstOf(d['requestheader-group-headers'], 'x-remote-group'),
  };
}

export interface TapServerOptions {
  readonly client: KubeApiClient;
  /** Serving certificate directory (tls.crt, tls.key). */
  readonly tlsDir: string;
  readonly host: string;
  readonly port: number;
  readonly controlPlaneNamespace: string;
  readonly trustDomain: string;
  /** The tap identity's certificate, current at each tap. */
  readonly tapTls: () => TapClientTls;
  readonly signal?: AbortSignal;
}

export async function runTapServer(o: TapServerOptions): Promise<TapApiServer> {
  const requestHeader = await readRequestHeaderConfig(o.client, o.signal);
  return startTapApiServer({
    service: createTapService({
      listPods: async (signal) => (await o.client.list(CoreKinds.Pod, { signal })).items,
      tls: o.tapTls,
      controlPlaneNamespace: o.controlPlaneNamespace,
      trustDomain: o.trustDomain,
    }),
    authorize: createSubjectAccessReviewAuthorizer(o.client),
    certificatePem: readFileSync(join(o.tlsDir, 'tls.crt'), 'utf8'),
    privateKeyPem: readFileSync(join(o.tlsDir, 'tls.key'), 'utf8'),
    requestHeaderClientCaPem: requestHeader.clientCaPem,
    requestHeaderAllowedNames: requestHeader.allowedNames,
    usernameHeader: requestHeader.usernameHeader,
    groupHeader: requestHeader.groupHeader,
    host: o.host,
    port: o.port,
  });
}

/** The tap ServiceAccount's mesh certificate from the identity service (renewed in the background). */
export async function tapIdentityFromIdentityService(o: {
  client: KubeApiClient;
  identityAddr: string;
  tokenFile?: string;
  controlPlaneNamespace: string;
  trustDomain: string;
  signal: AbortSignal;
}): Promise<() => TapClientTls> {
  const roots = await o.client.get<KubeObject & { data?: Record<string, string> }>(CoreKinds.ConfigMap, {
    namespace: o.controlPlaneNamespace,
    name: 'linkerd-identity-trust-roots',
  });
  const trustAnchorsPem = roots.data?.['ca-bundle.crt'] ?? '';
  const identity = startProxyIdentity({
    address: o.identityAddr,
    localName: tapIdentity({ controlPlaneNamespace: o.controlPlaneNamespace, trustDomain: o.trustDomain }),
    tokenFile: o.tokenFile ?? DEFAULT_IDENTITY_TOKEN_FILE,
    trustAnchorsPem,
    registry: new Registry(),
    signal: o.signal,
  });
  await identity.ready();
  return () => {
    const cert = identity.current();
    if (!cert)
      throw new MeshError(MeshErrorCode.Unavailable, 'the tap identity has no certificate yet', {
        where: 'tap',
      });
    return {
      trustAnchorsPem,
      certificateChainPem: cert.certificateChainPem,
      privateKeyPem: cert.privateKeyPem,
    };
  };
}
