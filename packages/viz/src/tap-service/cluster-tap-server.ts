// The tap Deployment's server in a cluster (`tsmesh viz tap-server`): the aggregated API server
// (startTapApiServer) wired to the cluster — the aggregator's request-header settings read from
// kube-system/extension-apiserver-authentication (as any extension API server), each tap authorized
// with a SubjectAccessReview, pods listed through the Kubernetes API, and the serving certificate
// (tap-k8s-tls) read from a mounted directory. The tap identity's certificate is the caller's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import type { TapClientTls } from '../tap-client/index.js';
import { startTapApiServer, type TapApiServer } from './tap-api-server.js';
import { createSubjectAccessReviewAuthorizer } from './tap-authorizer.js';
import { createTapService } from './tap-service.js';

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

export interface ClusterTapServerOptions {
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

export async function startClusterTapServer(o: ClusterTapServerOptions): Promise<TapApiServer> {
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
