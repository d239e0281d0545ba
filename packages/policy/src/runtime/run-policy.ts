// tsmesh-policy: the controller frame (runControllerMain: flags → exit 2 naming a bad one, logger
// and registry, SIGINT/SIGTERM, exit 1 with the reason) around the policy service: build the source
// (Kubernetes API, or a manifest directory in local mode) and serve until the signal.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  createDirectoryObjectSource,
  createKubeApiClient,
  createKubeObjectSource,
  runControllerMain,
  untilAborted,
  type ControllerContext,
  type KubeApiClient,
  type ObjectSource,
  loadKubeConfig,
} from '@tsmesh/kube';
import { parsePolicyConfig, POLICY_USAGE, type PolicyConfig } from './policy-config.js';
import { startPolicyService } from './start-policy-service.js';

const PROGRAM = 'tsmesh-policy';

export function runPolicy(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runControllerMain<PolicyConfig>({
    program: PROGRAM,
    parse: () => {
      const config = parsePolicyConfig(argv);
      return config === 'help' ? { help: POLICY_USAGE } : config;
    },
    logLevel: (config) => config.logLevel,
    logFields: { name: PROGRAM },
    serve: (config, context) => servePolicy(config, env, context),
  });
}

async function servePolicy(
  config: PolicyConfig,
  env: NodeJS.ProcessEnv,
  { logger, registry, signal }: ControllerContext,
): Promise<void> {
  const controller = new AbortController();
  let source: ObjectSource;
  let client: KubeApiClient | undefined;
  try {
    if (config.sourceDir) {
      source = createDirectoryObjectSource({
        dir: config.sourceDir,
        signal: controller.signal,
        logger,
        registry,
        onError: (e) => logger.warn({ error: e.message }, 'skipping manifest'),
      });
    } else {
      client = createKubeApiClient(loadKubeConfig(config.kubeconfig), {
        fieldManager: PROGRAM,
        userAgent: PROGRAM,
      });
      source = createKubeObjectSource({ client, signal: controller.signal, logger, registry });
    }
    const service = await startPolicyService({
      source,
      host: config.grpcHost,
      port: config.grpcPort,
      clusterNetworks: config.clusterNetworks,
      clusterDomain: config.clusterDomain,
      identityDomain: config.identityDomain,
      controlPlaneNamespace: config.controlPlaneNamespace,
      defaultPolicy: config.defaultPolicy,
      defaultOpaquePorts: config.defaultOpaquePorts,
      probeNetworks: config.probeNetworks,
      globalEgressNetworkNamespace: config.globalEgressNetworkNamespace,
      allowL5dRequestHeaders: config.allowL5dRequestHeaders,
      logger,
      registry,
      signal: controller.signal,
      admin: { host: config.adminHost, port: config.adminPort },
      admission: config.admissionCertDir
        ? {
            host: config.admissionHost,
            port: config.admissionPort,
            certFile: join(config.admissionCertDir, 'tls.crt'),
            keyFile: join(config.admissionCertDir, 'tls.key'),
          }
        : undefined,
      status: client
        ? {
            client,
            identity:
              config.leaseIdentity ?? `${env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`,
          }
        : undefined,
    });
    await untilAborted(signal);
    await service.close();
    controller.abort();
    await source.close();
  } finally {
    controller.abort();
    client?.close();
  }
}
