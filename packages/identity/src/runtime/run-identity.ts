// tsmesh-identity: the binary. Parses its configuration, creates the logger and registry (the only
// place that does), starts the service and stops it on SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { AuthenticationV1Api, KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '@tsmesh/core';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createJsonLogger, type Logger } from '../logger.js';
import {
  createLocalTokenValidator,
  createTokenReviewValidator,
  type TokenValidator,
} from '../token/index.js';
import { IDENTITY_USAGE, parseIdentityConfig, type IdentityConfig } from './identity-config.js';
import { startIdentityService, type IssuerSourceConfig } from './identity-service.js';

export async function runIdentity(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config;
  try {
    config = parseIdentityConfig(argv, env);
  } catch (err) {
    process.stderr.write(`tsmesh-identity: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(IDENTITY_USAGE);
    return 0;
  }
  const logger = createJsonLogger(undefined, config.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  try {
    return await serve(config, logger, registry);
  } catch (err) {
    const message = MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);
    logger.error({ error: message }, 'could not start');
    process.stderr.write(`tsmesh-identity: ${message}\n`);
    return 1;
  }
}

async function serve(config: IdentityConfig, logger: Logger, registry: Registry): Promise<number> {
  let kubeConfig: KubeConfig | undefined;
  const kube = () => {
    if (!kubeConfig) {
      kubeConfig = new KubeConfig();
      if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
      else kubeConfig.loadFromDefault();
    }
    return kubeConfig;
  };
  const tokenValidator: TokenValidator = config.localTokenPublicKeyFile
    ? createLocalTokenValidator({ publicKey: readFileSync(config.localTokenPublicKeyFile, 'utf8') })
    : createTokenReviewValidator({ api: kube().makeApiClient(AuthenticationV1Api) });
  const issuerSource: IssuerSourceConfig = config.issuerDir
    ? { kind: 'files', issuerDir: config.issuerDir, trustAnchorsFile: config.trustAnchorsFile }
    : { kind: 'kube', kubeConfig: kube(), namespace: config.controlPlaneNamespace };

  const service = await startIdentityService({
    trustDomain: config.trustDomain,
    controlPlaneNamespace: config.controlPlaneNamespace,
    issuerSource,
    tokenValidator,
    cacheTokens: config.tokenCacheSize > 0,
    tokenCacheMaxEntries: config.tokenCacheSize,
    registry,
    logger,
    grpcHost: config.grpcHost,
    grpcPort: config.grpcPort,
    adminHost: config.adminHost,
    adminPort: config.adminPort,
    issuance: { leafLifetimeMs: config.issuanceLifetimeMs, clockSkewMs: config.clockSkewMs },
    tls: config.tls ? { serverName: config.tlsServerName } : undefined,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await service.close();
  return 0;
}
