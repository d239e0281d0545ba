// tsmesh-identity: the binary. The controller frame (runControllerMain: flags → exit 2, logger and
// registry, SIGINT/SIGTERM, exit 1 with the reason) around the identity service.
import { readFileSync } from 'node:fs';
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { runControllerMain, untilAborted, type ControllerContext, loadKubeConfig } from '@tsmesh/kube';
import {
  createLocalTokenValidator,
  createTokenReviewValidator,
  type TokenValidator,
} from '../token/index.js';
import { IDENTITY_USAGE, parseIdentityConfig, type IdentityConfig } from './identity-config.js';
import { startIdentityService, type IssuerSourceConfig } from './identity-service.js';

export function runIdentity(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runControllerMain<IdentityConfig>({
    program: 'tsmesh-identity',
    parse: () => {
      const config = parseIdentityConfig(argv, env);
      return config === 'help' ? { help: IDENTITY_USAGE } : config;
    },
    logLevel: (config) => config.logLevel,
    serve,
  });
}

async function serve(config: IdentityConfig, { logger, registry, signal }: ControllerContext): Promise<void> {
  let kubeConfig: KubeConfig | undefined;
  const kube = () => (kubeConfig ??= loadKubeConfig(config.kubeconfig));
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
  await untilAborted(signal);
  await service.close();
}
