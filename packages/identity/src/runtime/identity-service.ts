// The identity service wired together: issuer source → issuer store; token validator (+ cache);
// the Certify handler on a grpc-js server; the admin server (/metrics, /ready once an issuer is
// loaded, /live). Everything ends when close() is called or the signal aborts.
import { experimental, Server, ServerCredentials } from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import { addIdentityService, shutdownGrpcServer } from '@tsmesh/core';
import { startAdminServer, type AdminServer } from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import { createCertifyHandler } from '../certify/index.js';
import {
  classifyIssuerError,
  createCsrVerifier,
  createIssuerStore,
  loadSigningIssuer,
  watchIssuerDir,
  watchKubeIssuer,
  type IssuancePolicy,
  type IssuerMaterial,
  type IssuerStore,
  type SigningIssuer,
} from '../issuer/index.js';

import type { Logger } from '../logger.js';
import { createIdentityMetrics, type IdentityMetrics } from '../metrics/index.js';
import { createCachedTokenValidator, type TokenValidator } from '../token/index.js';
import { identityNameOf } from './identity-name-of.js';
import { createSelfCertificateProvider, type SelfCertificateProvider } from './self-certificate.js';

export type IssuerSourceConfig =
  | {
      readonly kind: 'files';
      readonly issuerDir: string;
      readonly trustAnchorsFile?: string;
      readonly pollIntervalMs?: number;
    }
  | {
      readonly kind: 'kube';
      readonly kubeConfig: KubeConfig;
      readonly namespace: string;
      readonly secretName?: string;
    }
  /** Material handed over directly (embedding, tests); call `issuers.offer` to rotate. */
  | { readonly kind: 'static'; readonly material: IssuerMaterial };

export interface IdentityServiceOptions {
  readonly trustDomain: string;
  readonly controlPlaneNamespace: string;
  readonly issuerSource: IssuerSourceConfig;
  readonly tokenValidator: TokenValidator;
  /** Cache successful token validations until the token expires (default true). */
  readonly cacheTokens?: boolean;
  readonly tokenCacheMaxEntries?: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** gRPC listen host and port; default 127.0.0.1:8080. Port 0 picks a free port. */
  readonly grpcHost?: string;
  readonly grpcPort?: number;
  /** Admin listen host and port; default 127.0.0.1:9990. `false` to serve no admin endpoints. */
  readonly adminHost?: string;
  readonly adminPort?: number | false;
  readonly issuance?: Partial<IssuancePolicy>;
  /**
   * Serve gRPC over TLS with a certificate for the service's own identity name (default
   * `linkerd-identity.<ns>.serviceaccount.identity.<ns>.<trust domain>`), issued by its issuer.
   */
  readonly tls?: { readonly serverName?: string };
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export interface IdentityService {
  readonly grpcPort: number;
  readonly adminPort: number | undefined;
  readonly issuers: IssuerStore;
  readonly metrics: IdentityMetrics;
  /** The name the gRPC port's TLS certificate carries, when TLS is on. */
  readonly tlsServerName: string | undefined;
  /** Ready once an issuer is loaded. */
  isReady(): boolean;
  close(): Promise<void>;
}

export async function startIdentityService(options: IdentityServiceOptions): Promise<IdentityService> {
  const { logger, registry } = options;
  const now = options.now ?? Date.now;
  const controller = new AbortController();
  const onOuterAbort = () => void close();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const metrics = createIdentityMetrics(registry);
  const issuance: IssuancePolicy = {
    leafLifetimeMs: options.issuance?.leafLifetimeMs ?? 24 * 3600_000,
    clockSkewMs: options.issuance?.clockSkewMs ?? 20_000,
    csrVerifier: createCsrVerifier(),
  };
  const issuers = createIssuerStore({
    load: (material, nowMs) => loadSigningIssuer(material, nowMs, issuance),
    classify: classifyIssuerError,
    logger,
    metrics,
    now,
  });
  const tokens =
    options.cacheTokens === false
      ? options.tokenValidator
      : createCachedTokenValidator(options.tokenValidator, {
          maxEntries: options.tokenCacheMaxEntries,
          now,
          onLookup: (hit) => metrics.tokenCacheLookups.inc({ result: hit ? 'hit' : 'miss' }),
        });

  const certify = createCertifyHandler({
    issuers,
    tokens,
    identityOf: (namespace, serviceAccount) =>
      identityNameOf(namespace, serviceAccount, options.controlPlaneNamespace, options.trustDomain),
    metrics,
    logger,
    now,
  });

  const server = new Server({ 'grpc.max_receive_message_length': 1 << 20 });
  addIdentityService(server, { certify });
  const tlsServerName = options.tls
    ? (options.tls.serverName ??
      identityNameOf(
        options.controlPlaneNamespace,
        'linkerd-identity',
        options.controlPlaneNamespace,
        options.trustDomain,
      ))
    : undefined;
  const selfCertificate: SelfCertificateProvider | undefined =
    tlsServerName === undefined
      ? undefined
      : createSelfCertificateProvider({ issuers, identity: tlsServerName, logger, now });
  // grpc-js's factory takes the serving (identity) provider first, then the CA provider.
  const credentials = selfCertificate
    ? experimental.createCertificateProviderServerCredentials(selfCertificate, null, false)
    : ServerCredentials.createInsecure();
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${options.grpcHost ?? '127.0.0.1'}:${options.grpcPort ?? 8080}`,
      credentials,
      (err, port) => (err ? reject(err) : resolve(port)),
    ),
  );

  let admin: AdminServer | undefined;
  try {
    if (options.adminPort !== false) {
      // @tsmesh/kube's shared admin server: /ready is 503 "not ready: issuer-loaded" until then.
      admin = await startAdminServer({
        registry,
        isReady: () => true,
        readinessChecks: { 'issuer-loaded': () => issuers.current() !== undefined },
        host: options.adminHost,
        port: options.adminPort ?? 9990,
        logger,
      });
    }
    const source = options.issuerSource;
    const onSourceError = (err: unknown) =>
      logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'issuer source problem');
    const onMaterial = (material: IssuerMaterial) => void issuers.offer(material);
    if (source.kind === 'files') {
      await watchIssuerDir({ ...source, signal: controller.signal, onMaterial, onError: onSourceError });
    } else if (source.kind === 'kube') {
      await watchKubeIssuer({
        ...source,
        signal: controller.signal,
        onMaterial,
        onError: onSourceError,
        logger,
      });
    } else {
      issuers.offer(source.material);
    }
  } catch (err) {
    await close();
    throw err;
  }
  logger.info(
    { grpcPort, adminPort: admin?.port, trustDomain: options.trustDomain },
    'identity service started',
  );

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      selfCertificate?.close();
      await shutdownGrpcServer(server);
      await admin?.close();
    })();
    return closing;
  }

  return {
    grpcPort,
    get adminPort() {
      return admin?.port;
    },
    issuers,
    metrics,
    tlsServerName,
    isReady: () => issuers.current() !== undefined,
    close,
  };
}

export type { SigningIssuer };
